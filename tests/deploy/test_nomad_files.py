"""deploy/nomad: the bridge as a Nomad job, and the least-privilege ACL policy it runs with.

Both files are parsed as HCL (python-hcl2) and checked against what the bridge actually does: the
endpoints it calls decide the capabilities, its settings decide the variables path, its shutdown
grace decides the kill timeout.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest

from nomad_bridge.jobs.definitions import definition_path
from nomad_bridge.nomad import NomadSettings, endpoints
from nomad_bridge.serve import SHUTDOWN_GRACE_S
from nomad_bridge.settings import BridgeSettings

try:
    import hcl2
except ImportError:  # pragma: no cover - python-hcl2 belongs in the test extra
    pytest.skip("python-hcl2 is not installed (pip install python-hcl2)", allow_module_level=True)

NOMAD_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nomad"
JOB_FILE = NOMAD_DIR / "nomad-bridge.nomad.hcl"
POLICY_FILE = NOMAD_DIR / "acl-policy.hcl"
JOB_NAME = "nomad-bridge"

# Every Nomad endpoint the bridge calls, by method, and the namespace capability each needs
# (Nomad 1.9 ACL docs; None: no capability). Variables are path-scoped, listed apart.
JOB_CAPABILITIES: dict[str, dict[str, str | None]] = {
    "/v1/jobs": {"GET": "list-jobs", "POST": "submit-job"},
    "/v1/job/:id": {"GET": "read-job", "DELETE": "submit-job"},
    "/v1/job/:id/summary": {"GET": "read-job"},
    "/v1/job/:id/scale": {"GET": "read-job", "POST": "scale-job"},
    "/v1/event/stream": {"GET": "read-job"},  # job-scoped topics only
}
VARIABLE_CAPABILITIES: dict[str, dict[str, str]] = {
    "/v1/vars": {"GET": "list"},
    "/v1/var/:path": {"GET": "read", "PUT": "write", "DELETE": "destroy"},
}


def load_hcl(path: Path) -> dict[str, Any]:
    options = hcl2.SerializationOptions(
        with_comments=False,
        explicit_blocks=False,
        preserve_heredocs=False,
        strip_string_quotes=True,
    )
    with path.open(encoding="utf-8") as file:
        return hcl2.load(file, serialization_options=options)


def block(body: dict[str, Any], kind: str, label: str | None = None) -> dict[str, Any]:
    """The one `kind` block (with `label`, if given) directly inside `body`."""
    blocks = body.get(kind, [])
    if label is not None:
        blocks = [b[label] for b in blocks if label in b]
    assert len(blocks) == 1, f"expected one {kind} {label or ''} block, found {len(blocks)}"
    found = blocks[0]
    assert isinstance(found, dict)
    return found


def blocks(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found = body.get(kind, [])
    assert isinstance(found, list)
    return found


def labels(body: dict[str, Any], kind: str) -> list[str]:
    return [label for entry in blocks(body, kind) for label in entry]


def duration_s(value: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    assert match, f"not a Nomad duration: {value!r}"
    return float(match.group(1)) * units[match.group(2)]


# --- the job --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jobspec() -> dict[str, Any]:
    return load_hcl(JOB_FILE)


@pytest.fixture(scope="module")
def job(jobspec: dict[str, Any]) -> dict[str, Any]:
    assert labels(jobspec, "job") == [JOB_NAME]
    return block(jobspec, "job", JOB_NAME)


@pytest.fixture(scope="module")
def group(job: dict[str, Any]) -> dict[str, Any]:
    assert labels(job, "group") == ["bridge"]
    return block(job, "group", "bridge")


@pytest.fixture(scope="module")
def task(group: dict[str, Any]) -> dict[str, Any]:
    assert labels(group, "task") == ["bridge"]
    return block(group, "task", "bridge")


def test_the_bridge_is_a_service_job_with_two_replicas(
    job: dict[str, Any], group: dict[str, Any]
) -> None:
    assert job["type"] == "service"
    assert group["count"] == 2
    spread = block(group, "spread")
    assert spread["attribute"] == "${node.unique.id}", "replicas on different nodes"


def test_deploys_roll_one_replica_at_a_time_on_checks_and_revert(job: dict[str, Any]) -> None:
    update = block(job, "update")
    assert update["max_parallel"] == 1
    assert update["health_check"] == "checks"
    assert update["auto_revert"] is True
    assert duration_s(update["healthy_deadline"]) < duration_s(update["progress_deadline"])


def test_the_task_runs_the_image_with_docker_on_the_checked_port(
    jobspec: dict[str, Any], group: dict[str, Any], task: dict[str, Any]
) -> None:
    assert task["driver"] == "docker"
    config = block(task, "config")
    assert config["image"] == "${var.image}"
    image = block(jobspec, "variable", "image")["default"]
    repo, _, tag = image.rpartition(":")
    assert repo, f"no tag on {image}"
    assert re.search(r"\d", tag), f"unpinned default {image}"
    assert tag != "latest", f"unpinned default {image}"
    args = config["args"]
    assert args[0] == "serve"
    assert args[args.index("--host") + 1] == "0.0.0.0"
    port = block(block(group, "network"), "port", "http")
    assert args[args.index("--port") + 1] == str(port["to"])
    assert config["ports"] == ["http"]


def test_readiness_on_ready_gates_deploys_and_never_restarts_the_task(
    group: dict[str, Any],
) -> None:
    service = block(group, "service")
    assert service["provider"] == "nomad"
    assert service["port"] == "http"
    checks = {check["path"]: check for check in blocks(service, "check")}
    ready = checks["/ready"]
    assert ready["type"] == "http"
    assert "check_restart" not in ready, "a Nomad outage must not restart every replica"
    alive = checks["/health"]
    assert alive["type"] == "http"
    assert block(alive, "check_restart")["limit"] >= 1


def test_nomad_is_reached_through_the_task_api_socket_with_the_workload_identity(
    task: dict[str, Any],
) -> None:
    # The Task API always requires a token: the workload identity, as NOMAD_TOKEN.
    assert block(task, "identity")["env"] is True, "NOMAD_TOKEN = the workload identity"
    env = block(task, "env")
    assert "NOMAD_TOKEN" not in env, "no long-lived token in the job"
    assert env["NOMAD_ADDR"] == "unix://${NOMAD_SECRETS_DIR}/api.sock"
    # The bridge accepts what Nomad interpolates there (the docker driver's secrets dir).
    settings = NomadSettings(addr=env["NOMAD_ADDR"].replace("${NOMAD_SECRETS_DIR}", "/secrets"))
    assert settings.unix_socket == "/secrets/api.sock"
    assert settings.uses_tls is False


def test_bridge_tokens_come_from_a_nomad_variable_the_job_can_read(task: dict[str, Any]) -> None:
    template = block(task, "template")
    assert template["env"] is True
    assert template["destination"].startswith("${NOMAD_SECRETS_DIR}/")
    data = template["data"].replace('\\"', '"')
    # nomad/jobs/<job> is readable by the job's workload identity without any extra policy.
    assert f'nomadVar "nomad/jobs/{JOB_NAME}"' in data
    assert re.search(r"^\s*BRIDGE_TOKENS=\{\{ \.tokens \}\}\s*$", data, re.MULTILINE)


def test_the_task_has_resources_and_time_to_shut_down(
    group: dict[str, Any], task: dict[str, Any]
) -> None:
    resources = block(task, "resources")
    assert resources["cpu"] > 0
    assert resources["memory"] > 0
    assert duration_s(task["kill_timeout"]) > SHUTDOWN_GRACE_S
    assert duration_s(group["shutdown_delay"]) > 0, "load balancers drop it before SIGTERM"


# --- the ACL policy -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return load_hcl(POLICY_FILE)


@pytest.fixture(scope="module")
def namespace(policy: dict[str, Any]) -> dict[str, Any]:
    assert set(policy) == {"namespace"}, "no node, agent, operator, quota or plugin rules"
    default_namespace = NomadSettings.model_fields["namespace"].default
    assert labels(policy, "namespace") == [default_namespace]
    return block(policy, "namespace", default_namespace)


def test_the_capability_table_covers_every_endpoint_the_bridge_calls() -> None:
    used = {
        value.template
        for value in vars(endpoints).values()
        if isinstance(value, endpoints.Endpoint)
    }
    assert used == set(JOB_CAPABILITIES) | set(VARIABLE_CAPABILITIES)


def test_the_policy_grants_exactly_the_job_capabilities_the_bridge_needs(
    namespace: dict[str, Any],
) -> None:
    assert "policy" not in namespace, "a coarse policy shorthand grants far more"
    needed = {cap for methods in JOB_CAPABILITIES.values() for cap in methods.values() if cap}
    granted = namespace["capabilities"]
    assert len(granted) == len(set(granted))
    assert set(granted) == needed == {"list-jobs", "read-job", "submit-job", "scale-job"}


def test_the_policy_grants_variables_only_under_the_definitions_prefix(
    namespace: dict[str, Any],
) -> None:
    variables = block(namespace, "variables")
    prefix = BridgeSettings.model_fields["definitions_prefix"].default
    assert labels(variables, "path") == [f"{prefix}/*"]
    rule = block(variables, "path", f"{prefix}/*")
    needed = {cap for methods in VARIABLE_CAPABILITIES.values() for cap in methods.values()}
    assert set(rule["capabilities"]) == needed == {"read", "write", "destroy", "list"}
    for job_id in ("web", "web.v2", "café", "x" * 300):
        assert fnmatch.fnmatchcase(definition_path(prefix, job_id), f"{prefix}/*"), job_id
