"""Variables: `/v1/vars` and `/v1/var/:path`, with check-and-set (`?cas=`) semantics.

From command/agent/variable_endpoint.go, nomad/variables_endpoint.go and
nomad/state/state_store_variables.go: a conflict is 409 with the conflicting variable as
the body (only Namespace and Path when it does not exist) and X-Nomad-Index set to its
ModifyIndex; validation failures are plain errors, hence 500; a successful delete is 204
with no body. Every apply is a raft entry, so it consumes an index even when it conflicts
or changes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomad_bridge.sim.blocking import blocking_query
from nomad_bridge.sim.errors import PERMISSION_DENIED, NomadError
from nomad_bridge.sim.gojson import parse_uint
from nomad_bridge.sim.jobschema import VARIABLE
from nomad_bridge.sim.models import now_ns
from nomad_bridge.sim.paging import compile_filter, in_namespace, paginate
from nomad_bridge.sim.query import QueryOptions, check_region, parse_query, read_body
from nomad_bridge.sim.records import Variable
from nomad_bridge.sim.responses import TEXT_TYPE, encode, json_response, read_headers, write_headers
from nomad_bridge.sim.state import VARIABLES, Msg

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

MAX_VARIABLE_BYTES = 64 * 1024
VALID_PATH = re.compile(r"^[a-zA-Z0-9\-_~/]{1,128}$")
PARSE_FAILED = "failed to parse parameters"


def _parse(request: web.Request, sim: Simulator) -> QueryOptions:
    """Variables wrap a parse failure in a second error; Nomad sends both texts, joined."""
    try:
        return parse_query(request, sim.config.region)
    except NomadError as err:
        raise NomadError(400, err.message + PARSE_FAILED) from None


def validate_path(path: str) -> None:
    if not path:
        raise NomadError(500, "variable requires path")
    if not VALID_PATH.match(path):
        raise NomadError(500, f'invalid path "{path}"')
    parts = path.split("/")
    if parts[0] != "nomad":
        return
    if len(parts) == 1:
        raise NomadError(
            500,
            '"nomad" is a reserved top-level directory path, but you may write variables to '
            '"nomad/jobs", "nomad/job-templates", or below',
        )
    if parts[1] == "jobs" or (parts[1] == "job-templates" and len(parts) == 3):
        return
    if parts[1] == "job-templates":
        raise NomadError(
            500,
            '"nomad/job-templates" is a reserved directory path, but you may write variables at'
            ' the level below it, for example, "nomad/job-templates/template-name"',
        )
    raise NomadError(
        500,
        'only paths at "nomad/jobs" or "nomad/job-templates" and below are valid paths under'
        ' the top-level "nomad" directory',
    )


def _validate(namespace: str, path: str, items: dict[str, str]) -> None:
    if namespace == "*":
        raise NomadError(500, 'can not target wildcard ("*")namespace')
    if not items:
        raise NomadError(500, "empty variables are invalid")
    if sum(len(k.encode()) + len(v.encode()) for k, v in items.items()) > MAX_VARIABLE_BYTES:
        raise NomadError(500, "variables are limited to 64KiB in total size")
    validate_path(path)


def _cas(request: web.Request) -> int | None:
    text = request.rel_url.query.get("cas", "")
    if not text:
        return None
    try:
        return parse_uint(text)
    except ValueError as err:
        raise NomadError(400, f"can not parse cas: {err}") from None


def _conflict(request: web.Request, current: Variable | None, ns: str, path: str) -> web.Response:
    """409 body: the conflicting variable, or a zero one naming only Namespace and Path."""
    if current is None:
        body: dict[str, Any] = {**Variable(ns, path, {}).metadata(), "Items": None}
        index = 0
    else:
        body, index = current.to_json(), current.modify_index
    return web.Response(
        status=409,
        body=encode(body),
        headers={"X-Nomad-Index": str(index), "Content-Type": TEXT_TYPE},
    )


def _stale(cas: int | None, current: Variable | None) -> bool:
    """Whether a write with `?cas=` loses: 0 means "only if absent", N "only at index N"."""
    if cas is None:
        return False
    if cas == 0:
        return current is not None
    return current is None or current.modify_index != cas


def _authorize(request: web.Request, sim: Simulator, namespace: str, path: str, op: str) -> None:
    """handleMixedAuthEndpoint: the path's rule must grant the operation's capability."""
    token = sim.acl.authenticate(request)
    if not sim.acl.allows_variable(token, namespace, path, op):
        raise NomadError(403, PERMISSION_DENIED)


def _begin_write(
    request: web.Request, sim: Simulator, path: str, op: str
) -> tuple[str, int | None]:
    namespace = request.rel_url.query.get("namespace") or "default"
    cas = _cas(request)
    check_region(request.rel_url.query.get("region") or sim.config.region, sim.config.region)
    _authorize(request, sim, namespace, path, op)
    return namespace, cas


async def put_variable(request: web.Request, sim: Simulator, path: str) -> web.StreamResponse:
    body = await read_body(request, VARIABLE)
    items = body.get("Items") or {}
    if not items:
        raise NomadError(400, "variable missing required Items object")
    namespace, cas = _begin_write(request, sim, path, "write")
    namespace = body.get("Namespace") or namespace
    _validate(namespace, path, items)
    store = sim.store
    key = (namespace, path)
    with store.txn(Msg.VARIABLE_APPLY) as tx:
        current = store.variables.get(key)
        stale = _stale(cas, current)
        if not stale:
            if current is None:
                stamp = now_ns()
                current = Variable(namespace, path, dict(items), tx.index, tx.index, stamp, stamp)
                store.variables[key] = current
                tx.touch(VARIABLES)
            else:
                # varSetTxn skips writes equal to the stored entry, but the comparison
                # includes ModifyTime (always "now") and the ciphertext (fresh nonce), so
                # over HTTP every write is a write.
                current.items = dict(items)
                current.modify_index = tx.index
                current.modify_time = now_ns()
                tx.touch(VARIABLES)
    if stale:
        return _conflict(request, current, namespace, path)
    assert current is not None
    return json_response(request, current.to_json(), headers=write_headers(tx.index))


async def delete_variable(request: web.Request, sim: Simulator, path: str) -> web.StreamResponse:
    namespace, cas = _begin_write(request, sim, path, "destroy")
    store = sim.store
    key = (namespace, path)
    with store.txn(Msg.VARIABLE_APPLY) as tx:
        current = store.variables.get(key)
        stale = _stale(cas, current)
        if not stale and current is not None:
            del store.variables[key]
            tx.touch(VARIABLES)
    if stale:
        return _conflict(request, current, namespace, path)
    return web.Response(status=204, headers=write_headers(tx.index))


async def read_variable(request: web.Request, sim: Simulator, path: str) -> web.StreamResponse:
    opts = _parse(request, sim)
    check_region(opts.region, sim.config.region)
    _authorize(request, sim, opts.namespace, path, "read")
    store = sim.store

    def run() -> tuple[int, dict[str, Any] | None]:
        var = store.variables.get((opts.namespace, path))
        return (var.modify_index, var.to_json()) if var else (store.index(VARIABLES), None)

    index, var = await blocking_query(store, opts, (VARIABLES,), run)
    if var is None:
        raise NomadError(404, "variable not found", read_headers(index))
    return json_response(request, var, headers=read_headers(index))


async def list_variables(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    opts = _parse(request, sim)
    check_region(opts.region, sim.config.region)
    acl_token = sim.acl.authenticate(request)
    predicate = compile_filter(opts)
    store = sim.store

    def run() -> tuple[int, tuple[list[Any], str]]:
        chosen: list[tuple[str, Any]] = []
        for var in in_namespace(opts, store.variables):
            if not sim.acl.allows_variable(acl_token, var.namespace, var.path, "list"):
                continue
            meta = var.metadata()
            if var.path.startswith(opts.prefix) and (predicate is None or predicate(meta)):
                chosen.append((f"{var.namespace}.{var.path}", meta))
        return store.index(VARIABLES), paginate(chosen, opts)

    index, (found, token) = await blocking_query(store, opts, (VARIABLES,), run)
    return json_response(request, found, headers=read_headers(index, token))


async def variable_endpoint(request: web.Request, sim: Simulator, path: str) -> web.StreamResponse:
    """VariableSpecificRequest: empty path and unknown methods are 400s here, not 404/405."""
    if not path:
        raise NomadError(400, "missing variable path")
    if request.method == "GET":
        return await read_variable(request, sim, path)
    if request.method in ("PUT", "POST"):
        return await put_variable(request, sim, path)
    if request.method == "DELETE":
        return await delete_variable(request, sim, path)
    raise NomadError(400, "Invalid method")
