"""Contract: the simulator's query metadata and blocking queries behave like Nomad v1.9.x.

Response headers, which index each read reports, and the `index`/`wait` long poll. python-nomad
cannot see any of this (it exposes neither headers nor blocking parameters), so it is pinned
over raw HTTP. Sources: api-docs/index.mdx ("Blocking Queries", "Consistency Modes");
command/agent/http.go (setMeta, setIndex, parseWait); nomad/rpc.go (blockingRPC);
nomad/job_endpoint.go (Job.List, Job.GetJob, Job.Summary); nomad/structs/structs.go
(JitterFraction).
"""

from __future__ import annotations

import asyncio

from nomad_bridge.sim import Simulator
from nomad_bridge.sim.state import JOB_SUMMARY, JOBS, VARIABLES
from nomad_bridge.sim.testing import wait_parked
from tests.sim.harness import Answer, NomadHttp, register, wait_for_summary
from tests.support import job_spec, simulator_idle, wait_until

SHORT_WAIT_S = 0.3
BLOCKING_WAIT = {"wait": "30s"}
"""How long the blocking queries that a change must wake may wait: far past `WAKE_TIMEOUT_S`."""
WAKE_TIMEOUT_S = 10.0
ENDS_WITHIN_S = 5.0
"""A query whose `wait` ran out answers within this: Nomad's jitter is at most wait/16 (pinned
exactly in test_simulation_blocking.py); the rest is room for a loaded machine, and still far
below the 5 minutes a query that ignored `wait` would take."""


def _assert_read_headers(answer: Answer) -> None:
    assert int(answer.headers["X-Nomad-Index"]) >= 0
    assert answer.headers["X-Nomad-KnownLeader"] == "true"
    assert answer.headers["X-Nomad-LastContact"] == "0"


async def _timed_get(http: NomadHttp, path: str, params: dict[str, str]) -> tuple[Answer, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await http.get(path, params=params)
    return answer, loop.time() - started


async def _index_at_rest(http: NomadHttp, simulator: Simulator, path: str) -> int:
    """The path's index once the cluster is at rest (allocations and deployments settled):
    from then on only the test's own writes move it."""
    await wait_until(lambda: simulator_idle(simulator), what="the simulator at rest")
    return (await http.get(path)).index


async def _seeded(http: NomadHttp, simulator: Simulator) -> int:
    """Register a job and return the job list's index once everything has settled (> 0)."""
    await register(http, job_spec("seed"))
    return await _index_at_rest(http, simulator, "/v1/jobs")


async def _start_blocking(
    http: NomadHttp, simulator: Simulator, table: str, path: str, params: dict[str, str]
) -> asyncio.Task[Answer]:
    """Start a blocking GET, wait until it is parked on `table` (the query is waiting, not on
    its way), and check it has not answered: the test's change is what wakes it."""
    task = asyncio.create_task(http.get(path, params={**params, **BLOCKING_WAIT}))
    await wait_parked(simulator, table, timeout_s=WAKE_TIMEOUT_S)
    assert not task.done(), f"{path} {params} answered without a change"
    return task


# --- headers and indexes ---------------------------------------------------------------------


async def test_reads_carry_index_known_leader_and_last_contact_headers(
    http: NomadHttp,
) -> None:
    """Every read sets X-Nomad-Index, X-Nomad-KnownLeader ("true" with a leader) and
    X-Nomad-LastContact (0 ms on the leader).

    Source: command/agent/http.go setMeta (setIndex, setLastContact, setKnownLeader);
    api-docs/index.mdx "Blocking Queries".
    """
    await register(http, job_spec("hdr-read"))
    await http.put("/v1/var/hdr/read", body={"Items": {"k": "v"}})

    for path in (
        "/v1/jobs",
        "/v1/job/hdr-read",
        "/v1/job/hdr-read/summary",
        "/v1/job/hdr-read/versions",
        "/v1/job/hdr-read/scale",
        "/v1/var/hdr/read",
        "/v1/vars",
    ):
        answer = await http.get(path)
        assert answer.status == 200, (path, answer.text)
        _assert_read_headers(answer)


async def test_writes_carry_only_the_index_header(http: NomadHttp) -> None:
    """Writes set X-Nomad-Index only: no X-Nomad-KnownLeader, no X-Nomad-LastContact.

    Source: command/agent/job_endpoint.go jobUpdate, jobDelete, jobScaleAction and
    variable_endpoint.go variableUpsert (setIndex only, never setMeta).
    """
    answers = [
        await http.put("/v1/jobs", body={"Job": job_spec("hdr-write", Type="batch")}),
        await http.post("/v1/job/hdr-write/scale", body={"Count": 2, "Target": {"Group": "web"}}),
        await http.put("/v1/var/hdr/write", body={"Items": {"k": "v"}}),
        await http.delete("/v1/job/hdr-write"),
    ]

    for answer in answers:
        assert answer.status == 200, answer.text
        assert int(answer.headers["X-Nomad-Index"]) > 0
        assert "X-Nomad-KnownLeader" not in answer.headers
        assert "X-Nomad-LastContact" not in answer.headers


async def test_job_list_index_is_max_of_job_and_summary_indexes(http: NomadHttp) -> None:
    """The job list's index is max(index("jobs"), index("job_summary")), so with no deletes it
    is the largest ModifyIndex among the jobs and their summaries.

    Source: nomad/job_endpoint.go Job.List (reply.Index = max of the "jobs" and
    "job_summary" table indexes).
    """
    await register(http, job_spec("idx-a", {"web": 1}))
    await register(http, job_spec("idx-b", {"web": 2}))
    await wait_for_summary(http, "idx-a", "web", Running=1)
    await wait_for_summary(http, "idx-b", "web", Running=2)

    answer = await http.get("/v1/jobs")

    stubs = answer.json()
    expected = max(max(s["ModifyIndex"], s["JobSummary"]["ModifyIndex"]) for s in stubs)
    assert answer.index == expected


async def test_job_read_index_is_the_jobs_modify_index(http: NomadHttp) -> None:
    """Reading a job reports the job's ModifyIndex as X-Nomad-Index.

    Source: nomad/job_endpoint.go Job.GetJob (reply.Index = out.ModifyIndex).
    """
    await register(http, job_spec("idx-job"))
    await wait_for_summary(http, "idx-job", "web", Running=1)

    answer = await http.get("/v1/job/idx-job")

    assert answer.index == answer.json()["ModifyIndex"]


async def test_summary_read_index_is_the_summary_modify_index(http: NomadHttp) -> None:
    """Reading a summary reports the summary's ModifyIndex as X-Nomad-Index.

    Source: nomad/job_endpoint.go Job.Summary (reply.Index = out.ModifyIndex);
    command/agent/job_endpoint.go jobSummaryRequest (setIndex(resp, out.Index)).
    """
    await register(http, job_spec("idx-sum"))
    await wait_for_summary(http, "idx-sum", "web", Running=1)

    answer = await http.get("/v1/job/idx-sum/summary")

    assert answer.index == answer.json()["ModifyIndex"]


async def test_absent_job_read_is_404_with_the_jobs_table_index(http: NomadHttp) -> None:
    """Reading an absent job is 404 `job not found` but still carries the query headers; the
    index is the "jobs" table's, so it is at least the last job write.

    Source: nomad/job_endpoint.go Job.GetJob (absent → state.Index("jobs"));
    command/agent/job_endpoint.go jobQuery (setMeta before the 404).
    """
    written = await register(http, job_spec("idx-present"))

    answer = await http.get("/v1/job/idx-absent")

    assert answer.status == 404
    assert answer.text == "job not found"
    _assert_read_headers(answer)
    assert answer.index >= written["JobModifyIndex"]


# --- blocking queries ------------------------------------------------------------------------


async def test_blocking_list_returns_when_a_job_registers(
    http: NomadHttp, simulator: Simulator
) -> None:
    """A list with index=N blocks until the state passes N, then answers the new list with a
    larger index.

    Source: api-docs/index.mdx "Blocking Queries"; nomad/rpc.go blockingRPC (re-runs the
    query on a watch-set change until the index exceeds MinQueryIndex).
    """
    current = await _seeded(http, simulator)
    task = await _start_blocking(http, simulator, JOBS, "/v1/jobs", {"index": str(current)})

    written = await register(http, job_spec("blk-new"))
    answer = await asyncio.wait_for(task, WAKE_TIMEOUT_S)

    assert answer.status == 200
    assert answer.index > current
    assert answer.index >= written["JobModifyIndex"]
    assert "blk-new" in [s["ID"] for s in answer.json()]


async def test_blocking_list_returns_the_current_index_when_the_wait_ends(
    http: NomadHttp, simulator: Simulator
) -> None:
    """With nothing changing, a blocking query answers after `wait` (plus up to wait/16
    jitter) with the current, unchanged index.

    Source: api-docs/index.mdx "Blocking Queries"; nomad/rpc.go blockingRPC (timeout
    returns the current result); nomad/structs/structs.go JitterFraction = 16.
    """
    current = await _seeded(http, simulator)

    answer, elapsed = await _timed_get(
        http, "/v1/jobs", {"index": str(current), "wait": f"{int(SHORT_WAIT_S * 1000)}ms"}
    )

    assert answer.status == 200
    assert answer.index == current
    assert elapsed >= SHORT_WAIT_S * 0.9
    assert elapsed < ENDS_WITHIN_S


async def test_blocking_with_index_ahead_of_state_waits_then_returns_the_lower_index(
    http: NomadHttp, simulator: Simulator
) -> None:
    """An index larger than the current one blocks for the whole wait, then answers with
    the current (smaller) index; the client is expected to reset.

    Source: nomad/rpc.go blockingRPC; api-docs/index.mdx "Blocking Queries" (a returned
    index lower than the sent one means the client should reset).
    """
    current = await _seeded(http, simulator)

    answer, elapsed = await _timed_get(
        http, "/v1/jobs", {"index": str(current + 1000), "wait": "300ms"}
    )

    assert answer.status == 200
    assert answer.index == current
    assert elapsed >= SHORT_WAIT_S * 0.9


async def test_index_zero_does_not_block(http: NomadHttp) -> None:
    """index=0 (like no index) answers at once; `wait` is then ignored.

    Source: nomad/rpc.go blockingRPC (MinQueryIndex 0 → run once and return).
    """
    answer, elapsed = await _timed_get(http, "/v1/jobs", {"index": "0", **BLOCKING_WAIT})

    assert answer.status == 200
    assert elapsed < ENDS_WITHIN_S  # not the 30 s it would have waited


async def test_wait_without_a_unit_is_400_invalid_wait_time(http: NomadHttp) -> None:
    """`wait` must be a Go duration with a unit; `wait=5` is 400 `Invalid wait time`.

    Source: command/agent/http.go parseWait (time.ParseDuration fails →
    StatusBadRequest, "Invalid wait time").
    """
    answer = await http.get("/v1/jobs", params={"index": "1", "wait": "5"})

    assert answer.status == 400
    assert answer.text == "Invalid wait time"


async def test_non_numeric_index_is_400_invalid_index(http: NomadHttp) -> None:
    """A non-numeric `index` is 400 `Invalid index`.

    Source: command/agent/http.go parseWait (strconv.ParseUint fails → StatusBadRequest,
    "Invalid index").
    """
    answer = await http.get("/v1/jobs", params={"index": "abc"})

    assert answer.status == 400
    assert answer.text == "Invalid index"


async def test_blocking_job_read_waits_for_the_job_to_appear(
    http: NomadHttp, simulator: Simulator
) -> None:
    """A blocking read of an absent job (index from its 404) wakes when the job is
    registered and answers 200 with it.

    Source: nomad/job_endpoint.go Job.GetJob (absent → "jobs" table index, so a waiter can
    wait for creation).
    """
    await _seeded(http, simulator)
    absent = await http.get("/v1/job/blk-late")
    assert absent.status == 404
    assert absent.index > 0
    task = await _start_blocking(
        http, simulator, JOBS, "/v1/job/blk-late", {"index": str(absent.index)}
    )

    await register(http, job_spec("blk-late"))
    answer = await asyncio.wait_for(task, WAKE_TIMEOUT_S)

    assert answer.status == 200
    assert answer.json()["ID"] == "blk-late"
    assert answer.index > absent.index


async def test_blocking_summary_wakes_on_allocation_progress(
    http: NomadHttp, simulator: Simulator
) -> None:
    """A blocking summary read wakes when allocations change the counters (here: a stop makes
    the running allocation complete).

    Source: nomad/job_endpoint.go Job.Summary (blocking on the summary row);
    nomad/state/state_store.go updateSummaryWithAlloc.
    """
    await register(http, job_spec("blk-sum"))
    await wait_for_summary(http, "blk-sum", "web", Running=1)
    settled = await _index_at_rest(http, simulator, "/v1/job/blk-sum/summary")
    task = await _start_blocking(
        http, simulator, JOB_SUMMARY, "/v1/job/blk-sum/summary", {"index": str(settled)}
    )

    await http.delete("/v1/job/blk-sum")
    answer = await asyncio.wait_for(task, WAKE_TIMEOUT_S)

    assert answer.status == 200
    assert answer.index > settled
    assert answer.json()["ModifyIndex"] == answer.index


async def test_blocking_variable_read_wakes_on_write(http: NomadHttp, simulator: Simulator) -> None:
    """A blocking read of a variable wakes when it is written and answers the new content
    with its new ModifyIndex.

    Source: api-docs/variables/variables.mdx "Read Variable" (blocking queries: YES);
    nomad/variables_endpoint.go Variables.Read (reply.Index = ModifyIndex).
    """
    first = (await http.put("/v1/var/blk/var", body={"Items": {"v": "1"}})).json()
    task = await _start_blocking(
        http, simulator, VARIABLES, "/v1/var/blk/var", {"index": str(first["ModifyIndex"])}
    )

    await http.put("/v1/var/blk/var", body={"Items": {"v": "2"}})
    answer = await asyncio.wait_for(task, WAKE_TIMEOUT_S)

    assert answer.status == 200
    body = answer.json()
    assert body["Items"] == {"v": "2"}
    assert answer.index == body["ModifyIndex"] > first["ModifyIndex"]
