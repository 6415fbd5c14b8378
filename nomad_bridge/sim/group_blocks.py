"""A task group's `Networks` and `Services` as Nomad stores and returns them.

The HTTP agent decodes the submitted `api.Job`, canonicalizes it, and converts it to
`structs.Job` (`command/agent/job_endpoint.go` `ApiNetworkResourceToStructs`,
`ApiPortToStructs`, `ApiServicesToStructs`); `GET /v1/job/:id` then encodes the structs,
whose fields carry no `omitempty` (except `NetworkResource.Hostname`): every field comes
back, with Go's zero value where the client left it out. Fields are listed in the Go
structs' order (v1.9.7: `nomad/structs/structs.go` `NetworkResource`, `Port`;
`nomad/structs/services.go` `Service`).
"""

from __future__ import annotations

from typing import Any

# structs.NetworkResource. `Device` is not carried over from the API struct; `Hostname`
# is `omitempty`; `CNI` arrives in v1.10.
NETWORK_ZERO: dict[str, Any] = {
    "Mode": "",
    "Device": "",
    "CIDR": "",
    "IP": "",
    "Hostname": "",
    "MBits": 0,
    "DNS": None,
    "ReservedPorts": None,
    "DynamicPorts": None,
}
NOT_CONVERTED = frozenset({"Device"})
OMIT_EMPTY = frozenset({"Hostname"})
PORT_LISTS = ("ReservedPorts", "DynamicPorts")
# structs.Port (`IgnoreCollision` arrives in v1.10); NetworkResource.Canonicalize (run by
# TaskGroup.Canonicalize on register) puts a port without a host network on "default".
PORT_ZERO: dict[str, Any] = {"Label": "", "Value": 0, "To": 0, "HostNetwork": ""}
DEFAULT_HOST_NETWORK = "default"
DNS_ZERO: dict[str, Any] = {"Servers": None, "Searches": None, "Options": None}
# structs.Service; nested blocks (checks, connect, identity) are kept as sent.
SERVICE_ZERO: dict[str, Any] = {
    "Name": "",
    "TaskName": "",
    "PortLabel": "",
    "AddressMode": "",
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
    "OnUpdate": "",
    "Provider": "",
    "Cluster": "",
    "Identity": None,
}
# api.Service.Canonicalize and structs.Service.Canonicalize: the defaults a group service
# gets (the name is `<job>-<group>`), and the lists stored as nil when empty.
SERVICE_DEFAULTS = {"AddressMode": "auto", "OnUpdate": "require_healthy", "Provider": "consul"}
EMPTY_IS_NIL = ("Tags", "CanaryTags", "Checks", "TaggedAddresses")
NOMAD_PROVIDER = "nomad"  # its services live in the job's namespace


def _filled(zero: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Every field of the struct: the client's value, else Go's zero value (`given` comes
    decoded by `jobschema`, so its keys are the API struct's; the others are dropped)."""
    return {key: given[key] if given.get(key) is not None else value for key, value in zero.items()}


def _port(given: dict[str, Any]) -> dict[str, Any]:
    port = _filled(PORT_ZERO, given or {})
    port["HostNetwork"] = port["HostNetwork"] or DEFAULT_HOST_NETWORK
    return port


def network(given: dict[str, Any]) -> dict[str, Any]:
    out = _filled(NETWORK_ZERO, given or {})
    for key in NOT_CONVERTED:
        out[key] = NETWORK_ZERO[key]
    for key in OMIT_EMPTY:
        if not out[key]:
            del out[key]
    for key in PORT_LISTS:
        out[key] = [_port(port) for port in out[key]] or None
    if out["DNS"] is not None:
        out["DNS"] = _filled(DNS_ZERO, out["DNS"])
    return out


def service(given: dict[str, Any], job: dict[str, Any], group_name: str) -> dict[str, Any]:
    out = _filled(SERVICE_ZERO, given or {})
    out["Name"] = out["Name"] or f"{job['Name']}-{group_name}"
    for key, default in SERVICE_DEFAULTS.items():
        out[key] = out[key] or default
    for key in EMPTY_IS_NIL:
        out[key] = out[key] or None
    if out["Provider"] == NOMAD_PROVIDER:
        out["Namespace"] = job["Namespace"]
    return out


def networks(given: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    return [network(n) for n in given] if given else None


def services(
    given: list[dict[str, Any]] | None, job: dict[str, Any], group_name: str
) -> list[dict[str, Any]] | None:
    return [service(s, job, group_name) for s in given] if given else None
