"""What a proxy between the bridge and Nomad may do (the simulator never does this)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from nomad_bridge.nomad import NomadSettings, errors
from tests.nomad.harness import ClientFactory

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def proxy_app(status: int, hits: Counter[str]) -> web.Application:
    """Answers every request with `status`; a 3xx points at Nomad's ACL endpoint."""

    async def answer(request: web.Request) -> web.Response:
        hits[request.path] += 1
        if 300 <= status < 400:
            return web.Response(status=status, headers={"Location": "/v1/acl/tokens"})
        return web.Response(status=status, text="<html>Bad Gateway</html>")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_never_followed(
    aiohttp_server: ServerFactory, make_client: ClientFactory, status: int
) -> None:
    hits: Counter[str] = Counter()
    server = await aiohttp_server(proxy_app(status, hits))
    client = await make_client(NomadSettings(addr=str(server.make_url("/"))))

    with pytest.raises(errors.UnexpectedAnswer):
        await client.read_job("web")
    with pytest.raises(errors.UnexpectedAnswer):
        await client.stop_job("web")

    assert hits == {"/v1/job/web": 2}


async def test_a_bad_gateway_is_unavailable_and_reads_are_retried(
    aiohttp_server: ServerFactory, make_client: ClientFactory
) -> None:
    hits: Counter[str] = Counter()
    server = await aiohttp_server(proxy_app(502, hits))
    client = await make_client(NomadSettings(addr=str(server.make_url("/"))))

    with pytest.raises(errors.Unavailable) as outage:
        await client.job_summary("web")
    with pytest.raises(errors.Unavailable):
        await client.register_job({"ID": "web"})

    assert outage.value.status == 502
    assert hits == {"/v1/job/web/summary": 3, "/v1/jobs": 1}
