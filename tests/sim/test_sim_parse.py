"""Contract: `POST`/`PUT /v1/jobs/parse` turns an HCL2 job specification into the API's Job.

Each test pins one fact and names its source: Nomad's docs (api-docs/jobs.mdx "Parse Job")
or Go code at v1.9.x (command/agent/job_endpoint.go `JobsParseRequest`, api/jobs.go
`Job.Canonicalize`, hashicorp/hcl `Diagnostic.Error`). The simulator parses a subset of the
job specification (see nomad_bridge/sim/parse_api.py); the last tests pin how it refuses
the rest.
"""

from __future__ import annotations

from typing import Any

import nomad
import pytest

from nomad_bridge.sim import SimConfig, ThreadHandle
from tests.sim.harness import NomadHttp

JOB_HCL = """
job "web" {
  type        = "service"
  datacenters = ["dc1", "dc2"]
  namespace   = "default"
  priority    = 70
  meta {
    autostart = "true"
    replicas  = 3
  }
  group "frontend" {
    count = 2
    scaling {
      min     = 1
      max     = 5
      enabled = true
    }
    task "nginx" {
      driver = "docker"
      config {
        image = "nginx:1.27"
        ports = ["http"]
        args  = ["-c", "${NOMAD_TASK_DIR}/nginx.conf"]
        mount {
          type   = "bind"
          target = "/etc/x"
        }
      }
      resources {
        cpu    = 200
        memory = 128
      }
      env {
        MODE = "production"
        WORKERS = 4
      }
    }
  }
  group "api" {
    task "app" {
      driver = "exec"
    }
  }
}
"""


async def parse(http: NomadHttp, hcl: str, **args: Any) -> dict[str, Any]:
    answer = await http.post("/v1/jobs/parse", body={"JobHCL": hcl, **args})
    assert answer.status == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert isinstance(body, dict)
    return body


async def parse_error(http: NomadHttp, hcl: str, **args: Any) -> str:
    answer = await http.post("/v1/jobs/parse", body={"JobHCL": hcl, **args})
    assert answer.status == 400, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return answer.text


# --- the endpoint ----------------------------------------------------------------------------


async def test_parse_answers_the_api_job_with_nomads_field_names(http: NomadHttp) -> None:
    """The answer is the `api.Job`: ID and Name from the job label, Type, Datacenters,
    Priority, Meta (values as strings), TaskGroups[].Name/Count/Scaling/Tasks[].Name/Driver/
    Config/Resources{CPU,MemoryMB}/Env. Source: api-docs/jobs.mdx "Parse Job";
    api/jobs.go `Job`, api/tasks.go `TaskGroup`, `Task`, api/resources.go `Resources`."""
    job = await parse(http, JOB_HCL)

    assert (job["ID"], job["Name"], job["Type"], job["Priority"]) == ("web", "web", "service", 70)
    assert job["Datacenters"] == ["dc1", "dc2"]
    assert job["Meta"] == {"autostart": "true", "replicas": "3"}
    frontend, api = job["TaskGroups"]
    assert (frontend["Name"], frontend["Count"], api["Name"]) == ("frontend", 2, "api")
    assert {k: frontend["Scaling"][k] for k in ("Min", "Max", "Enabled")} == {
        "Min": 1,
        "Max": 5,
        "Enabled": True,
    }
    (task,) = frontend["Tasks"]
    assert (task["Name"], task["Driver"]) == ("nginx", "docker")
    assert task["Config"] == {
        "image": "nginx:1.27",
        "ports": ["http"],
        "args": ["-c", "${NOMAD_TASK_DIR}/nginx.conf"],
        "mount": [{"type": "bind", "target": "/etc/x"}],
    }
    assert (task["Resources"]["CPU"], task["Resources"]["MemoryMB"]) == (200, 128)
    assert task["Env"] == {"MODE": "production", "WORKERS": "4"}


async def test_without_canonicalize_unset_fields_are_null(http: NomadHttp) -> None:
    """Without `Canonicalize` the job is as parsed: Go encodes every field of `api.Job`, an
    unset pointer as null (Region, Priority, a group without count). Source: api-docs/jobs.mdx
    "Parse Job" (`Canonicalize` "(bool: false)"); command/agent/job_endpoint.go
    `JobsParseRequest` (Canonicalize only when asked)."""
    job = await parse(http, 'job "bare" {\n  group "g" {}\n}')

    assert (job["ID"], job["Name"], job["Region"], job["Priority"]) == ("bare", "bare", None, None)
    assert (job["Type"], job["Update"], job["Stop"], job["Status"]) == (None, None, None, None)
    assert job["TaskGroups"][0]["Count"] is None
    for key in ("Constraints", "Periodic", "ParameterizedJob", "Meta", "SubmitTime"):
        assert key in job
        assert job[key] is None


async def test_canonicalize_fills_the_defaults(http: NomadHttp) -> None:
    """`Canonicalize: true` sets unset fields to their defaults: Region "global", Namespace
    "default", Type "service", Priority 50, Stop false, a group count of 1 (or Scaling.Min),
    task resources CPU 100 / MemoryMB 300, and a service job's default Update. Source:
    api-docs/jobs.mdx "Parse Job" sample response; api/jobs.go `Job.Canonicalize`,
    api/tasks.go `TaskGroup.Canonicalize`, api/resources.go `Resources.Canonicalize`."""
    hcl = 'job "c" {\n group "a" {\n  task "t" { driver = "exec" }\n }\n'
    hcl += ' group "b" {\n  scaling {\n   min = 3\n   max = 9\n  }\n }\n}'
    job = await parse(http, hcl, Canonicalize=True)

    assert (job["Region"], job["Namespace"], job["Type"], job["Priority"]) == (
        "global",
        "default",
        "service",
        50,
    )
    assert (job["Stop"], job["Status"], job["Version"], job["SubmitTime"]) == (False, "", 0, None)
    assert job["Update"]["MaxParallel"] == 1
    group_a, group_b = job["TaskGroups"]
    assert (group_a["Count"], group_b["Count"]) == (1, 3)
    assert group_b["Scaling"]["Enabled"] is True
    resources = group_a["Tasks"][0]["Resources"]
    assert (resources["CPU"], resources["MemoryMB"]) == (100, 300)


async def test_parse_stores_nothing(http: NomadHttp) -> None:
    """Parsing registers nothing and carries no index. Source: api-docs/jobs.mdx "Parse Job"
    (Blocking Queries NO); command/agent/job_endpoint.go `JobsParseRequest` (no RPC, no
    setIndex)."""
    answer = await http.put("/v1/jobs/parse", body={"JobHCL": JOB_HCL})

    assert answer.status == 200
    assert "X-Nomad-Index" not in answer.headers
    assert (await http.get("/v1/jobs")).json() == []


async def test_parse_answers_only_put_and_post(http: NomadHttp) -> None:
    """Any other method is 405 `Invalid method`. Source: command/agent/job_endpoint.go
    `JobsParseRequest` (`CodedError(405, ErrInvalidMethod)`)."""
    answer = await http.get("/v1/jobs/parse")
    assert (answer.status, answer.text) == (405, "Invalid method")


async def test_an_empty_spec_is_400(http: NomadHttp) -> None:
    """An empty `JobHCL` is 400 `Job spec is empty`. Source: command/agent/job_endpoint.go
    `JobsParseRequest`."""
    assert await parse_error(http, "") == "Job spec is empty"


async def test_a_mistyped_body_is_400_with_gos_decoder_message(http: NomadHttp) -> None:
    """The body decodes into `api.JobsParseRequest`; a type mismatch is Go's message, 400.
    Source: command/agent/job_endpoint.go `JobsParseRequest` (`decodeBody` → CodedError 400)."""
    answer = await http.post("/v1/jobs/parse", body={"JobHCL": 3})
    assert answer.status == 400
    assert answer.text == (
        "json: cannot unmarshal number into Go struct field JobsParseRequest.JobHCL of type string"
    )


async def test_a_syntax_error_is_400_failed_to_parse_job_with_the_position(
    http: NomadHttp,
) -> None:
    """A spec that does not parse is 400 `Failed to parse job: ` and HCL's diagnostic,
    `input.hcl:LINE,COL-COL: Summary; Detail`. Source: command/agent/job_endpoint.go
    `JobsParseRequest` (jobspec2 `Path: "input.hcl"`, `fmt.Sprintf("Failed to parse job: %v")`);
    hashicorp/hcl diagnostic.go `Diagnostic.Error`."""
    text = await parse_error(http, 'job "x" {\n  group "g" {\n')
    assert text.startswith("Failed to parse job: input.hcl:3,1-2: ")


async def test_variables_fill_var_references(http: NomadHttp) -> None:
    """HCL2 variables: a `variable` block's default, overridden by the `Variables` var file,
    used as `var.NAME` and in `${var.NAME}` templates. Source: api-docs/jobs.mdx "Parse Job"
    (`Variables`); command/agent/job_endpoint.go (`VarContent: args.Variables`)."""
    hcl = 'variable "dc" {\n  default = "dc1"\n}\nvariable "n" {\n  default = 1\n}\n'
    hcl += 'job "v" {\n  datacenters = [var.dc]\n  meta { where = "in-${var.dc}" }\n'
    hcl += '  group "g" { count = var.n }\n}'

    defaults = await parse(http, hcl)
    given = await parse(http, hcl, Variables='dc = "eu-1"\nn = 4\n')

    assert (defaults["Datacenters"], defaults["TaskGroups"][0]["Count"]) == (["dc1"], 1)
    assert (given["Datacenters"], given["Meta"]) == (["eu-1"], {"where": "in-eu-1"})
    assert given["TaskGroups"][0]["Count"] == 4


async def test_runtime_interpolations_and_escapes_are_kept(http: NomadHttp) -> None:
    """`${...}` of a runtime value (node attributes, NOMAD_* variables) is left for the client
    to interpolate; `$${` is an escaped `${`; string escapes are resolved. Source:
    job-specification/hcl2 "Expressions" and "Interpolation" docs; hashicorp/hcl template
    syntax (`$${`, `\\n`)."""
    hcl = 'job "e" {\n  meta {\n    a = "${attr.kernel.name}/${NOMAD_ALLOC_ID}"\n'
    hcl += '    b = "$${literal} line\\nbreak \\"q\\""\n  }\n}'
    job = await parse(http, hcl)
    assert job["Meta"] == {
        "a": "${attr.kernel.name}/${NOMAD_ALLOC_ID}",
        "b": '${literal} line\nbreak "q"',
    }


@pytest.mark.parametrize(
    ("hcl", "diagnostic"),
    [
        (
            'job "x" {\n  colour = "red"\n}',
            'input.hcl:2,3-9: Unsupported argument; An argument named "colour" is not expected',
        ),
        (
            'job "x" {\n  priority = 1\n  priority = 2\n}',
            'input.hcl:3,3-11: Attribute redefined; The argument "priority" was already set at '
            "input.hcl:2,3-11.",
        ),
        ("job {\n}", "input.hcl:1,1-4: Missing name for job; All job blocks must have 1 labels"),
        (
            'job "x" {\n  group "g" {\n    count = "many"\n  }\n}',
            "input.hcl:3,13-19: Incorrect attribute value type; Inappropriate value for attribute "
            '"count": a number is required.',
        ),
        ('variable "v" {}\njob "x" {}', 'input.hcl:1,1-9: Unset variable "v"'),
        (
            'job "x" {\n  region = var.r\n}',
            "input.hcl:2,12-17: Reference to undeclared input variable",
        ),
        ('group "g" {}', 'input.hcl:1,1-6: Unsupported block type; Blocks of type "group" are not'),
        ('variable "v" { default = 1 }', "input.hcl:1,1-1: Missing job block"),
    ],
)
async def test_specs_hcl_refuses_are_400_with_hcls_diagnostic(
    http: NomadHttp, hcl: str, diagnostic: str
) -> None:
    """Unknown arguments and blocks, redefinitions, missing labels, wrong types and variables
    without a value are HCL diagnostics, 400. Source: command/agent/job_endpoint.go
    `JobsParseRequest`; hashicorp/hcl gohcl/decode.go and hclsyntax diagnostics (summaries
    `Unsupported argument`, `Attribute redefined`, `Missing name for %s`, `Incorrect attribute
    value type`); jobspec2 variables (`Unset variable`)."""
    text = await parse_error(http, hcl)
    assert text.startswith(f"Failed to parse job: {diagnostic}")


@pytest.mark.parametrize(
    ("hcl", "unsupported"),
    [
        ('job "x" {\n  group "g" {\n    network {}\n  }\n}', 'Blocks of type "network"'),
        ('job "x" {\n  update {}\n}', 'Blocks of type "update"'),
        ('job "x" {\n  priority = 1 + 2\n}', "got `1 + 2`"),
        ('job "x" {\n  meta {\n    a = "${upper("b")}"\n  }\n}', "Unsupported expression"),
        ('job "x" {\n  meta {\n    a = "%{ if true }y%{ endif }"\n  }\n}', "directive"),
    ],
)
async def test_what_the_simulator_does_not_parse_is_400_naming_it(
    http: NomadHttp, hcl: str, unsupported: str
) -> None:
    """Blocks outside the supported subset, functions, operators and template directives
    are refused with a 400 that says the simulator parses a subset, never silently dropped.
    Source: nomad_bridge/sim/parse_api.py (a documented simulator limit, not Nomad's)."""
    text = await parse_error(http, hcl)
    assert unsupported in text
    assert text.startswith("Failed to parse job: input.hcl:")


# --- with a real client ------------------------------------------------------------------


def test_python_nomad_parses_then_registers_the_job(threaded_sim: ThreadHandle) -> None:
    """python-nomad's `jobs.parse(hcl, canonicalize=True)` (as `nomad job run` does: parse,
    then register) gives a job the register endpoint accepts as is. Source: api-docs/jobs.mdx
    "Parse Job" and "Create Job"; python-nomad `Jobs.parse`."""
    client = nomad.Nomad(address=threaded_sim.url, timeout=5)
    job = client.jobs.parse(JOB_HCL, canonicalize=True)
    client.jobs.register_job({"Job": job})

    stored = client.job.get_job("web")
    assert [g["Name"] for g in stored["TaskGroups"]] == ["frontend", "api"]
    assert stored["TaskGroups"][0]["Scaling"]["Target"]["Group"] == "frontend"
    assert stored["Meta"] == {"autostart": "true", "replicas": "3"}


@pytest.fixture
def acl_config(sim_config: SimConfig) -> SimConfig:
    sim_config.acl_token = "parse-secret"
    return sim_config


async def test_parse_needs_a_token_when_acls_are_on(acl_config: SimConfig, http: NomadHttp) -> None:
    """With ACLs, parsing needs `parse-job` or `submit-job`: no token is 403 before the body is
    read. Source: api-docs/jobs.mdx "Parse Job" (ACL Required); command/agent/job_endpoint.go
    `JobsParseRequest` (ResolveToken before decodeBody)."""
    denied = await http.post("/v1/jobs/parse", data=b"not even json")
    allowed = await http.post(
        "/v1/jobs/parse", body={"JobHCL": 'job "x" {}'}, headers={"X-Nomad-Token": "parse-secret"}
    )
    assert (denied.status, denied.text) == (403, "Permission denied")
    assert allowed.status == 200
