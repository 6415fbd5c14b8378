"""docker-compose.yml, checked statically (no Docker on build machines).

What `docker compose up --build` needs to work: a pinned Nomad dev agent that can run the example
jobs' docker tasks, a one-shot service that registers deploy/jobs with exact Nomad CLI commands,
and the bridge (built from deploy/Dockerfile, see test_image.py) published on loopback only.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from tests.deploy.harness import BRIDGE_PORT, COMPOSE_FILE, PINNED_TAG, REPO, image_tag

JOBS_DIR = REPO / "deploy" / "jobs"
SERVICES = {"nomad", "seed-jobs", "bridge"}
NOMAD_HTTP_PORT = 4646
# What compose would interpolate: a `$` not doubled (`$$` is a literal `$` for the shell).
UNESCAPED_DOLLAR = re.compile(r"(?<!\$)\$(?!\$)")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return test
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return " ".join(test[1:])


def test_compose_runs_nomad_a_job_seeder_and_the_bridge(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(services) == SERVICES


def test_every_image_is_pinned_to_a_version(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        _, tag = image_tag(service["image"])
        assert PINNED_TAG.match(tag), f"{name}: image {service['image']!r} is not pinned"
    assert services["seed-jobs"]["image"] == services["nomad"]["image"], "one Nomad version"
    assert image_tag(services["nomad"]["image"])[0] == "hashicorp/nomad", "the official image"


def test_the_bridge_image_tag_is_the_package_version(services: dict[str, dict[str, Any]]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    assert services["bridge"]["image"] == f"nomad-bridge:{version}"


def test_nomad_runs_a_dev_agent_that_other_containers_can_reach(
    services: dict[str, dict[str, Any]],
) -> None:
    command = services["nomad"]["command"]
    assert isinstance(command, list), "exec form: no shell between Docker and Nomad"
    assert command[:2] == ["agent", "-dev"]
    # -dev alone binds 127.0.0.1 inside the container: unreachable from the bridge.
    assert "-bind=0.0.0.0" in command
    for name in ("seed-jobs", "bridge"):
        addr = URL(environment(services[name])["NOMAD_ADDR"])
        assert (addr.scheme, addr.host, addr.port) == ("http", "nomad", NOMAD_HTTP_PORT), name


def test_the_nomad_dev_agent_can_run_docker_tasks(services: dict[str, dict[str, Any]]) -> None:
    nomad = services["nomad"]
    # The client mounts a tmpfs per task and bind-mounts task dirs (CAP_SYS_ADMIN), and on
    # cgroup v2 Nomad >= 1.7 must write the root cgroup.subtree_control (host cgroup namespace).
    assert nomad["privileged"] is True
    assert nomad["cgroup"] == "host"
    volumes = set(nomad["volumes"])
    assert "/var/run/docker.sock:/var/run/docker.sock" in volumes, "the docker driver's daemon"
    # -dev keeps allocation dirs under /tmp; the host's daemon mounts them by host path.
    assert "/tmp:/tmp" in volumes


def test_published_ports_are_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: use the 'HOST_IP:HOST:CONTAINER' form"
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is published beyond loopback"
    assert services["bridge"]["ports"] == [f"127.0.0.1:{BRIDGE_PORT}:{BRIDGE_PORT}"]
    assert services["nomad"]["ports"] == [f"127.0.0.1:{NOMAD_HTTP_PORT}:{NOMAD_HTTP_PORT}"]


def test_long_running_services_have_healthchecks_with_bounds(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("nomad", "bridge"):
        check = services[name]["healthcheck"]
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name}: healthcheck without {key}"
    # Nomad is healthy once a leader exists and the client registered (not merely listening).
    assert "/v1/agent/health" in healthcheck_command(services["nomad"])
    assert f"127.0.0.1:{BRIDGE_PORT}/health" in healthcheck_command(services["bridge"])


def test_the_bridge_healthcheck_is_valid_python(services: dict[str, dict[str, Any]]) -> None:
    test = services["bridge"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "<healthcheck>", "exec")


def test_depends_on_waits_for_a_condition_the_dependency_can_meet(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long form"
        for dependency, spec in depends_on.items():
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
            elif condition == "service_completed_successfully":
                assert services[dependency].get("restart") == "no", (name, dependency)
            else:
                pytest.fail(f"{name} starts before {dependency} is usable ({condition})")
    assert services["seed-jobs"]["depends_on"] == {"nomad": {"condition": "service_healthy"}}
    assert services["bridge"]["depends_on"] == {
        "nomad": {"condition": "service_healthy"},
        "seed-jobs": {"condition": "service_completed_successfully"},
    }


def test_the_bridge_container_is_locked_down(services: dict[str, dict[str, Any]]) -> None:
    bridge = services["bridge"]
    assert bridge["read_only"] is True
    assert bridge["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in bridge["security_opt"]
    # Longer than the bridge's own shutdown grace, so SIGTERM ends it, not SIGKILL.
    assert bridge["stop_grace_period"] == "15s"


def test_compose_interpolates_only_the_bridge_settings_it_documents() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    interpolated = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    assert interpolated == {"BRIDGE_TOKENS", "BRIDGE_LOG_LEVEL"}


# --- registering the example jobs -----------------------------------------------------------


def seed_script(services: dict[str, dict[str, Any]]) -> str:
    seed = services["seed-jobs"]
    assert seed["entrypoint"][0] == "/bin/sh"
    (script,) = seed["command"]
    assert isinstance(script, str)
    return script


def test_seed_registers_every_mounted_job_file_with_the_nomad_cli(
    services: dict[str, dict[str, Any]],
) -> None:
    seed = services["seed-jobs"]
    assert seed["restart"] == "no", "a one-shot: it must not loop"
    source, target, mode = seed["volumes"][0].split(":")
    assert (REPO / source).resolve() == JOBS_DIR
    assert mode == "ro"
    script = seed_script(services)
    assert f"for f in {target}/*.json" in script
    run = next(line for line in script.splitlines() if "nomad job run" in line)
    run_args = shlex.split(run[run.index("nomad job run") :].split(")")[0].replace("$$", "$"))
    # -json: Nomad's JSON API format, with or without the {"Job": ...} wrapper.
    # -check-index 0: register only if absent, so a re-run never resets changed counts.
    assert run_args[:3] == ["nomad", "job", "run"]
    assert {"-json", "-detach"} <= set(run_args)
    assert run_args[run_args.index("-check-index") + 1] == "0"
    assert "job already exists" in script, "an existing job is not a failure"
    assert "exit 1" in script, "any other failure fails the service"


def test_the_seed_script_leaves_every_dollar_to_the_shell(
    services: dict[str, dict[str, Any]],
) -> None:
    assert not UNESCAPED_DOLLAR.search(seed_script(services)), "compose would interpolate it"


def example_jobs() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(JOBS_DIR.glob("*.json")):
        yield path, json.loads(path.read_text(encoding="utf-8"))


def test_example_jobs_are_in_nomads_api_json_format() -> None:
    jobs = list(example_jobs())
    assert jobs, "deploy/jobs holds the example jobs"
    for path, document in jobs:
        assert set(document) == {"Job"}, f"{path.name}: the API format wraps the job in 'Job'"
        job = document["Job"]
        assert job["ID"] == job["Name"] == path.stem
        assert job["TaskGroups"], path.name
        for group in job["TaskGroups"]:
            assert isinstance(group["Count"], int)
            assert group["Count"] >= 0
            for task in group["Tasks"]:
                assert task["Driver"] == "docker", f"{path.name}: the compose agent runs docker"
                _, tag = image_tag(task["Config"]["image"])
                assert PINNED_TAG.match(tag), f"{path.name}: {task['Config']['image']} unpinned"
