"""The controls over HTTP, under `/_sim/` (a prefix real Nomad never serves).

Bodies are small JSON objects with snake_case keys; answers are JSON. Errors in a control
request are 400 `{"error": "..."}`. These routes skip latency, outages, ACLs and request
counting, so a test can always reach them.

    POST   /_sim/latency           {"seconds": 0.2}
    POST   /_sim/outage            {"mode": "refuse" | "unavailable" | "hang" | null}
    POST   /_sim/fail              {"job": "web", "group": "frontend", "count": 1,
                                    "namespace": "default"} -> {"allocations": [...]}
    POST   /_sim/lose              (same body as fail)
    POST   /_sim/gc                -> {"collected": ["job-id", ...]}
    POST   /_sim/reset-index       {"to": 1} -> {"index": 1}
    GET    /_sim/requests          -> {"GET /v1/jobs": 3, ...}
    DELETE /_sim/requests
    POST   /_sim/child             {"parent": "report", "kind": "periodic" | "dispatch",
                                    "namespace": "default"}
                                   -> {"job": "report/periodic-1700000000"}
    POST   /_sim/hold-deployments  {"hold": true}
    POST   /_sim/event-buffer-size {"size": 100}
    POST   /_sim/event-heartbeat   {"seconds": 30}
    POST   /_sim/event-stream-fault {"mode": "stall" | "forbidden" | null}
    POST   /_sim/event-stream-drop -> {"dropped": 2}
    POST   /_sim/acl-policy        {"name": "no-read-job",
                                    "namespaces": {"default": ["list-jobs", "submit-job"]}}
    DELETE /_sim/acl-policy        {"name": "no-read-job"}
    POST   /_sim/acl-token         {"policies": ["no-read-job"], "management": false,
                                    "secret_id": null, "ttl_s": null} -> {"secret_id": "..."}
    DELETE /_sim/acl-token         {"secret_id": "..."} -> {"deleted": true}
    GET    /_sim/state             -> {"index": N, "outage": ..., "latency_s": ...,
                                       "hold_deployments": ..., "event_stream_fault": ...,
                                       "event_buffer_size": ..., "heartbeat_interval_s": ...,
                                       "event_streams": N}
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

ControlHandler = Callable[["Simulator", dict[str, Any]], Any]


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("control body must be a JSON object")
    return value


def _target(body: dict[str, Any]) -> tuple[str, str, int, str]:
    return (
        str(body["job"]),
        str(body["group"]),
        int(body.get("count", 1)),
        str(body.get("namespace", "default")),
    )


def _fail(sim: Simulator, body: dict[str, Any]) -> Any:
    job, group, count, namespace = _target(body)
    return {"allocations": sim.controls.fail_allocations(job, group, count, namespace=namespace)}


def _lose(sim: Simulator, body: dict[str, Any]) -> Any:
    job, group, count, namespace = _target(body)
    return {"allocations": sim.controls.lose_allocations(job, group, count, namespace=namespace)}


def _latency(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.set_latency(float(body.get("seconds", 0)))
    return {"latency_s": sim.controls.latency_s}


def _child(sim: Simulator, body: dict[str, Any]) -> Any:
    job = sim.controls.add_child_job(
        str(body["parent"]),
        kind=str(body.get("kind", "periodic")),
        namespace=str(body.get("namespace", "default")),
    )
    return {"job": job}


def _hold(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.hold_deployments(bool(body.get("hold", True)))
    return {"hold_deployments": sim.scheduler.hold_deployments}


def _gc(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"collected": sim.controls.garbage_collect()}


def _reset_index(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"index": sim.controls.reset_index(int(body.get("to", 1)))}


def _requests(sim: Simulator, body: dict[str, Any]) -> Any:
    return dict(sim.controls.request_counts)


def _reset_requests(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.reset_request_counts()
    return {}


def _buffer_size(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.set_event_buffer_size(int(body["size"]))
    return {"event_buffer_size": sim.config.event_buffer_size}


def _heartbeat(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.set_event_heartbeat(float(body["seconds"]))
    return {"heartbeat_interval_s": sim.config.heartbeat_interval_s}


def _stream_fault(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.set_event_stream_fault(body.get("mode"))
    return {"event_stream_fault": sim.controls.event_stream_fault}


def _stream_drop(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"dropped": sim.controls.drop_event_streams()}


def _set_policy(sim: Simulator, body: dict[str, Any]) -> Any:
    namespaces = body["namespaces"]
    if not isinstance(namespaces, dict):
        raise ValueError("namespaces must be an object")
    sim.controls.set_acl_policy(str(body["name"]), namespaces)
    return {"name": body["name"]}


def _delete_policy(sim: Simulator, body: dict[str, Any]) -> Any:
    sim.controls.delete_acl_policy(str(body["name"]))
    return {}


def _create_token(sim: Simulator, body: dict[str, Any]) -> Any:
    ttl = body.get("ttl_s")
    secret = sim.controls.create_acl_token(
        [str(p) for p in body.get("policies") or ()],
        management=bool(body.get("management", False)),
        secret_id=body.get("secret_id"),
        ttl_s=None if ttl is None else float(ttl),
    )
    return {"secret_id": secret}


def _delete_token(sim: Simulator, body: dict[str, Any]) -> Any:
    return {"deleted": sim.controls.delete_acl_token(str(body["secret_id"]))}


def _state(sim: Simulator, body: dict[str, Any]) -> Any:
    return {
        "index": sim.store.latest_index,
        "outage": sim.controls.outage,
        "latency_s": sim.controls.latency_s,
        "hold_deployments": sim.scheduler.hold_deployments,
        "event_stream_fault": sim.controls.event_stream_fault,
        "event_buffer_size": sim.config.event_buffer_size,
        "heartbeat_interval_s": sim.config.heartbeat_interval_s,
        "event_streams": len(sim.events.subscriptions),
    }


CONTROLS: dict[tuple[str, str], ControlHandler] = {
    ("POST", "latency"): _latency,
    ("POST", "fail"): _fail,
    ("POST", "lose"): _lose,
    ("POST", "gc"): _gc,
    ("POST", "reset-index"): _reset_index,
    ("GET", "requests"): _requests,
    ("DELETE", "requests"): _reset_requests,
    ("POST", "child"): _child,
    ("POST", "hold-deployments"): _hold,
    ("POST", "event-buffer-size"): _buffer_size,
    ("POST", "event-heartbeat"): _heartbeat,
    ("POST", "event-stream-fault"): _stream_fault,
    ("POST", "event-stream-drop"): _stream_drop,
    ("POST", "acl-policy"): _set_policy,
    ("DELETE", "acl-policy"): _delete_policy,
    ("POST", "acl-token"): _create_token,
    ("DELETE", "acl-token"): _delete_token,
    ("GET", "state"): _state,
}


def make_control_handler(sim: Simulator) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def control(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "outage" and request.method == "POST":
            return await _outage(request, sim)
        handler = CONTROLS.get((request.method, name))
        if handler is None:
            return web.json_response({"error": f"no control {request.method} {name}"}, status=404)
        try:
            return web.json_response(handler(sim, await _body(request)))
        except (KeyError, ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)

    return control


async def _outage(request: web.Request, sim: Simulator) -> web.StreamResponse:
    """Answer first, then apply: `refuse` closes connections, this one included."""
    try:
        mode = (await _body(request)).get("mode")
        if mode is not None and mode not in ("refuse", "unavailable", "hang"):
            raise ValueError(f"unknown outage mode {mode!r}")
    except ValueError as err:
        return web.json_response({"error": str(err)}, status=400)
    response = web.json_response({"outage": mode})
    await response.prepare(request)
    await response.write_eof()
    sim.controls.set_outage(mode)
    return response
