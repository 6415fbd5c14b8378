"""Contract: a job's versions in Nomad v1.9.x (`GET /v1/job/:id/versions`, `SubmitTime`).

Each test pins one fact and names its source: Nomad's docs (`website/content/api-docs/jobs.mdx`)
or Go code at v1.9.x (`command/agent/job_endpoint.go`, `nomad/state/state_store.go`,
`command/agent/config.go`, `nomad/structs/structs.go`).
"""

from __future__ import annotations

import time

from tests.sim.harness import NomadHttp, read_job, register
from tests.support import job_spec

# --- versions ---------------------------------------------------------------------------------


async def test_versions_of_unknown_job_is_404_job_versions_not_found(http: NomadHttp) -> None:
    """GET /v1/job/:id/versions for an unknown job is 404 `job versions not found`.

    Source: command/agent/job_endpoint.go jobVersions (len(out.Versions) == 0 →
    CodedError(404, "job versions not found")).
    """
    answer = await http.get("/v1/job/ghost/versions")

    assert answer.status == 404
    assert answer.text == "job versions not found"


async def test_versions_answer_wraps_the_list_with_query_fields(http: NomadHttp) -> None:
    """GET /v1/job/:id/versions answers an object {"Versions": [...newest first], "Diffs",
    "Index", ...}, not a bare list.

    Source: command/agent/job_endpoint.go jobVersions (returns JobVersionsResponse);
    nomad/structs/structs.go JobVersionsResponse; state_store.go JobVersionsByID (descending).
    """
    await register(http, job_spec("versions", {"web": 1}))
    await register(http, job_spec("versions", {"web": 2}))

    body = (await http.get("/v1/job/versions/versions")).json()

    assert isinstance(body, dict)
    assert [v["Version"] for v in body["Versions"]] == [1, 0]
    assert "Diffs" in body
    assert body["Index"] > 0


async def test_only_the_last_six_versions_are_kept(http: NomadHttp) -> None:
    """Nomad tracks 6 versions per job by default: after 8 spec changes the versions list
    holds versions 7..2, newest first.

    Source: nomad/state/state_store.go upsertJobVersion (trims to JobTrackedVersions);
    command/agent/config.go job_tracked_versions default 6.
    """
    for count in range(1, 9):
        await register(http, job_spec("many-versions", {"web": count}))

    body = (await http.get("/v1/job/many-versions/versions")).json()

    assert [v["Version"] for v in body["Versions"]] == [7, 6, 5, 4, 3, 2]


async def test_submit_time_is_unix_nanoseconds(http: NomadHttp) -> None:
    """SubmitTime is Unix time in nanoseconds, on the job and on its list stub.

    Source: api-docs/jobs.mdx (SubmitTime); nomad/structs/structs.go Job.SetSubmitTime
    (time.Now().UTC().UnixNano()).
    """
    before_ns = time.time_ns()
    await register(http, job_spec("submit-time"))
    after_ns = time.time_ns()

    job = await read_job(http, "submit-time")
    stub = (await http.get("/v1/jobs")).json()[0]

    assert before_ns - 5 * 10**9 <= job["SubmitTime"] <= after_ns + 5 * 10**9
    assert stub["SubmitTime"] == job["SubmitTime"]
