"""The state store: Nomad's tables, one raft-like index, per-table indexes, and watches.

Every write is a `Txn`: it takes the next index (as a raft entry would), records which
tables it touched and which objects changed, and on commit bumps those tables' indexes,
hands the changes to commit listeners (the event broker) and wakes every blocking query
watching one of the touched tables. Everything runs on the simulator's event loop, so a
transaction body (which never awaits) is atomic.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from nomad_bridge.sim.models import Allocation, Deployment, Evaluation, Job
from nomad_bridge.sim.records import JobScalingEvents, JobSummary, Variable

JOBS = "jobs"
JOB_VERSION = "job_version"
JOB_SUMMARY = "job_summary"
EVALS = "evals"
ALLOCS = "allocs"
DEPLOYMENT = "deployment"
SCALING_EVENT = "scaling_event"
VARIABLES = "variables"
ALL_TABLES = (JOBS, JOB_VERSION, JOB_SUMMARY, EVALS, ALLOCS, DEPLOYMENT, SCALING_EVENT, VARIABLES)

NsKey = tuple[str, str]


@dataclass
class Change:
    """One row written or deleted; `obj` is the row after the write (before, for deletes)."""

    table: str
    obj: Any
    deleted: bool = False


@dataclass
class Txn:
    """A raft entry being applied: its index, its message type and what it changed."""

    index: int
    msg_type: str
    changes: list[Change] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def touch(self, table: str) -> None:
        """The table's index moves to this entry's index (no event is emitted)."""
        self.touched.add(table)

    def changed(self, table: str, obj: Any, *, deleted: bool = False) -> None:
        self.touched.add(table)
        self.changes.append(Change(table, obj, deleted))


CommitListener = Callable[[Txn], None]


class _JobRow(Protocol):
    @property
    def namespace(self) -> str: ...
    @property
    def job_id(self) -> str: ...


Row = TypeVar("Row", bound=_JobRow)


class JobIndexed(dict[str, Row]):
    """A table keyed by ID that also knows each job's rows, as Nomad's memdb indexes
    allocations, evaluations and deployments by job: reading one job's rows costs that
    job's rows, not the whole cluster's (a scan per write made the simulator, not the
    bridge, the ceiling of every churn benchmark). Writes go through `[]=`, `pop` and `del`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_job: dict[NsKey, dict[str, Row]] = {}

    def __setitem__(self, key: str, row: Row) -> None:
        super().__setitem__(key, row)
        self._by_job.setdefault((row.namespace, row.job_id), {})[key] = row

    def __delitem__(self, key: str) -> None:
        row = self[key]
        super().__delitem__(key)
        self._unindex(key, row)

    def pop(self, key: str, default: Any = None) -> Any:
        if key not in self:
            return default
        row = self[key]
        del self[key]
        return row

    def of_job(self, namespace: str, job_id: str) -> list[Row]:
        return list(self._by_job.get((namespace, job_id), {}).values())

    def _unindex(self, key: str, row: Row) -> None:
        rows = self._by_job.get((row.namespace, row.job_id))
        if rows is not None:
            rows.pop(key, None)
            if not rows:
                del self._by_job[(row.namespace, row.job_id)]

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("write rows one at a time, so that the job index follows")

    setdefault = popitem = clear = update  # type: ignore[assignment]


class Store:
    """All of the cluster's state. Readers use the tables directly; writers use `txn`."""

    def __init__(self) -> None:
        self.latest_index = 0
        self.table_index: dict[str, int] = {}
        self.jobs: dict[NsKey, Job] = {}
        self.job_versions: dict[NsKey, list[Job]] = {}
        self.summaries: dict[NsKey, JobSummary] = {}
        self.evals: JobIndexed[Evaluation] = JobIndexed()
        self.allocs: JobIndexed[Allocation] = JobIndexed()
        self.deployments: JobIndexed[Deployment] = JobIndexed()
        self.scaling_events: dict[NsKey, JobScalingEvents] = {}
        self.variables: dict[NsKey, Variable] = {}
        self._waiters: dict[str, set[asyncio.Future[None]]] = defaultdict(set)
        self._listeners: list[CommitListener] = []
        self.closed = False

    def index(self, table: str) -> int:
        return self.table_index.get(table, 0)

    def add_commit_listener(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    @contextmanager
    def txn(self, msg_type: str) -> Iterator[Txn]:
        """Apply one raft entry. The index is consumed even if the entry changes nothing."""
        self.latest_index += 1
        tx = Txn(self.latest_index, msg_type)
        yield tx
        for table in tx.touched:
            self.table_index[table] = tx.index
        for listener in self._listeners:
            listener(tx)
        self._wake(tx.touched)

    # -- watches ---------------------------------------------------------------------

    def watch(self, tables: Iterable[str]) -> asyncio.Future[None]:
        """A future resolved by the next commit touching any of `tables` (or by close)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.closed:
            fut.set_result(None)
            return fut
        for table in tables:
            self._waiters[table].add(fut)
        return fut

    def unwatch(self, fut: asyncio.Future[None], tables: Iterable[str]) -> None:
        for table in tables:
            self._waiters[table].discard(fut)

    def watcher_count(self, table: str) -> int:
        """Blocked queries currently waiting on `table` (lets tests see a query is parked)."""
        return sum(1 for fut in self._waiters.get(table, ()) if not fut.done())

    def wake_all(self) -> None:
        """Wake every watcher, as a snapshot restore abandons every memdb watch."""
        self._wake(list(self._waiters))

    def close(self) -> None:
        self.closed = True
        self.wake_all()

    def _wake(self, tables: Iterable[str]) -> None:
        for table in tables:
            waiters = self._waiters.pop(table, None)
            for fut in waiters or ():
                if not fut.done():
                    fut.set_result(None)

    # -- reads shared by several endpoints -----------------------------------------------

    def allocs_by_job(self, namespace: str, job_id: str) -> list[Allocation]:
        return self.allocs.of_job(namespace, job_id)

    def evals_by_job(self, namespace: str, job_id: str) -> list[Evaluation]:
        return self.evals.of_job(namespace, job_id)

    def deployments_by_job(self, namespace: str, job_id: str) -> list[Deployment]:
        found = self.deployments.of_job(namespace, job_id)
        return sorted(found, key=lambda d: d.create_index, reverse=True)

    def latest_deployment(self, namespace: str, job_id: str) -> Deployment | None:
        found = self.deployments_by_job(namespace, job_id)
        return found[0] if found else None


class Msg:
    """Raft message types, named by the event `Type` Nomad's broker gives them.

    Types Nomad does not publish (scaling events, variables, eval reaping) still consume an
    index; their names start with an underscore so the broker skips them.
    """

    JOB_REGISTER = "JobRegistered"
    JOB_DEREGISTER = "JobDeregistered"
    JOB_BATCH_DEREGISTER = "JobBatchDeregistered"
    EVAL_UPDATE = "EvaluationUpdated"
    PLAN_RESULT = "PlanResult"
    ALLOC_CLIENT_UPDATE = "AllocationUpdated"
    DEPLOYMENT_STATUS_UPDATE = "DeploymentStatusUpdate"
    SCALING_EVENT = "_ScalingEventRegister"
    VARIABLE_APPLY = "_VarApplyState"
    EVAL_DELETE = "_EvalDelete"
