"""The anchor for "talking to Nomad directly": what a straightforward port of the Cluster
API does for every `GET /jobs` — list the jobs, then read each job and its summary.

    python -m bench.naive_proxy --port P --nomad http://127.0.0.1:4646

It is generous to the naive design: one keep-alive connection pool, and the 2N per-job
reads run concurrently, 16 at a time (the bridge's own read concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bench.processes import LOOPBACK

READ_CONCURRENCY = 16
SUMMARY_FIELDS = ("queued", "complete", "failed", "running", "starting", "lost")
TRUE_FLAGS = ("true", "1", "yes")
HTTP = web.AppKey("http", aiohttp.ClientSession)
NOMAD = web.AppKey("nomad", str)


def _flag(meta: dict[str, str] | None, key: str) -> bool:
    return (meta or {}).get(key, "").lower() in TRUE_FLAGS


def job_view(job: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    counters = summary.get("Summary") or {}
    return {
        "name": job["ID"],
        "status": job["Status"],
        "autostart": _flag(job.get("Meta"), "autostart"),
        "byCluster": _flag(job.get("Meta"), "byCluster"),
        "taskGroups": [
            {
                "name": group["Name"],
                "count": group["Count"],
                "summary": {
                    name: (counters.get(group["Name"]) or {}).get(name.capitalize(), 0)
                    for name in SUMMARY_FIELDS
                },
            }
            for group in job["TaskGroups"]
        ],
    }


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as answer:
        answer.raise_for_status()
        return await answer.json()


async def list_jobs(request: web.Request) -> web.Response:
    http, nomad = request.app[HTTP], request.app[NOMAD]
    stubs = await _get(http, f"{nomad}/v1/jobs")
    semaphore = asyncio.Semaphore(READ_CONCURRENCY)

    async def read(job_id: str, suffix: str) -> Any:
        async with semaphore:
            return await _get(http, f"{nomad}/v1/job/{quote(job_id, safe='')}{suffix}")

    ids = sorted(stub["ID"] for stub in stubs if not stub.get("ParentID"))
    jobs = await asyncio.gather(*(read(job_id, "") for job_id in ids))
    summaries = await asyncio.gather(*(read(job_id, "/summary") for job_id in ids))
    views = [job_view(job, summary) for job, summary in zip(jobs, summaries, strict=True)]
    body = json.dumps(views, separators=(",", ":")).encode()
    return web.Response(body=body, content_type="application/json")


async def health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app(nomad: str) -> web.Application:
    app = web.Application()
    app[NOMAD] = nomad

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[HTTP] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=READ_CONCURRENCY))
        yield
        await app[HTTP].close()

    app.cleanup_ctx.append(session)
    app.router.add_get("/jobs", list_jobs)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--nomad", required=True)
    args = parser.parse_args()
    web.run_app(make_app(args.nomad), host=LOOPBACK, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
