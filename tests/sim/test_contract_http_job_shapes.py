"""Contract: the shapes of what the job endpoints return, field by field, as Nomad v1.9.x
encodes its Go structs: a field without `omitempty` always comes back, with Go's zero value
when the client left it out, and a struct's fields are exactly the struct's.

Sources: `nomad/structs/structs.go` (v1.9.7) `JobDeregisterResponse`, `QueryMeta`,
`Resources`, `NetworkResource`, `Port`, `DNSConfig`; `nomad/structs/services.go` `Service`
and `Service.Canonicalize`; `api/services.go` `Service.Canonicalize`;
`command/agent/job_endpoint.go` `ApiNetworkResourceToStructs`, `ApiServicesToStructs`.
"""

from __future__ import annotations

from typing import Any

from tests.sim.harness import NomadHttp, read_job, register
from tests.support import job_spec


def _with_group(job: dict[str, Any], **fields: Any) -> dict[str, Any]:
    job["TaskGroups"][0].update(fields)
    return job


async def test_stop_answer_is_a_deregister_response_without_warnings(http: NomadHttp) -> None:
    """`DELETE /v1/job/:id` answers structs.JobDeregisterResponse: EvalID, EvalCreateIndex,
    JobModifyIndex, VolumeEvalID, VolumeEvalIndex and QueryMeta. Unlike a register's
    JobRegisterResponse it has no `Warnings`, for a job that exists or not."""
    await register(http, job_spec("to-stop"))

    for job_id in ("to-stop", "never-was"):
        answer = await http.delete(f"/v1/job/{job_id}")

        assert answer.status == 200, answer.text
        assert set(answer.json()) == {
            "EvalID",
            "EvalCreateIndex",
            "JobModifyIndex",
            "VolumeEvalID",
            "VolumeEvalIndex",
            "Index",
            "LastContact",
            "KnownLeader",
            "NextToken",
        }


async def test_a_tasks_secrets_mb_is_kept_and_defaults_to_zero(http: NomadHttp) -> None:
    """Resources.SecretsMB (Nomad 1.9: the secrets directory's size) is a plain int of
    structs.Resources: kept as sent, 0 when left out."""
    job = job_spec("secrets")
    job["TaskGroups"][0]["Tasks"][0]["Resources"] = {"MemoryMB": 256, "SecretsMB": 64}
    plain = job_spec("no-secrets")
    await register(http, job)
    await register(http, plain)

    given = (await read_job(http, "secrets"))["TaskGroups"][0]["Tasks"][0]["Resources"]
    left_out = (await read_job(http, "no-secrets"))["TaskGroups"][0]["Tasks"][0]["Resources"]

    assert (given["MemoryMB"], given["SecretsMB"]) == (256, 64)
    assert left_out["SecretsMB"] == 0


async def test_group_networks_and_ports_come_back_with_every_field(http: NomadHttp) -> None:
    """A group network given only a mode and port labels comes back as structs
    NetworkResource and Port: every field, zero values for the rest (`Hostname` is the one
    `omitempty`); a port without a host network is on "default" (NetworkResource
    .Canonicalize); empty port lists are null; `Device` is not carried over from the API."""
    job = _with_group(
        job_spec("networked"),
        Networks=[
            {
                "Mode": "bridge",
                "Device": "eth9",
                "DynamicPorts": [{"Label": "http", "To": 8080}],
                "ReservedPorts": [],
                "DNS": {"Servers": ["1.1.1.1"]},
            }
        ],
    )
    await register(http, job)

    (network,) = (await read_job(http, "networked"))["TaskGroups"][0]["Networks"]

    assert network == {
        "Mode": "bridge",
        "Device": "",
        "CIDR": "",
        "IP": "",
        "MBits": 0,
        "DNS": {"Servers": ["1.1.1.1"], "Searches": None, "Options": None},
        "ReservedPorts": None,
        "DynamicPorts": [{"Label": "http", "Value": 0, "To": 8080, "HostNetwork": "default"}],
    }


async def test_group_services_come_back_with_every_field(http: NomadHttp) -> None:
    """A group service given only a port label comes back as structs.Service: every field,
    zero values for the rest, the defaults Service.Canonicalize gives (name `<job>-<group>`,
    address mode `auto`, on-update `require_healthy`, provider `consul`), empty lists null."""
    await register(
        http, _with_group(job_spec("served"), Services=[{"PortLabel": "http", "Tags": []}])
    )

    (service,) = (await read_job(http, "served"))["TaskGroups"][0]["Services"]

    assert service == {
        "Name": "served-web",
        "TaskName": "",
        "PortLabel": "http",
        "AddressMode": "auto",
        "Address": "",
        "EnableTagOverride": False,
        "Tags": None,
        "CanaryTags": None,
        "Checks": None,
        "Connect": None,
        "Meta": None,
        "CanaryMeta": None,
        "TaggedAddresses": None,
        "Namespace": "",
        "OnUpdate": "require_healthy",
        "Provider": "consul",
        "Cluster": "",
        "Identity": None,
    }


async def test_a_nomad_service_is_in_the_jobs_namespace(http: NomadHttp) -> None:
    """Service.Canonicalize puts a service of the `nomad` provider in the job's namespace."""
    job = _with_group(job_spec("native"), Services=[{"Name": "api", "Provider": "nomad"}])
    await register(http, job)

    (service,) = (await read_job(http, "native"))["TaskGroups"][0]["Services"]

    assert (service["Name"], service["Provider"], service["Namespace"]) == (
        "api",
        "nomad",
        "default",
    )
