"""Scheduler workers, simulated clients and the deployment watcher, on the sim's event loop.

One asyncio task runs a timer heap. Evaluations are planned `eval_delay_s` after they are
written (plan applied, then the eval marked complete: two raft entries, as a worker does),
clients move placed allocations to running after `alloc_start_delay_s`, finish stopped
ones after `alloc_stop_delay_s`, finish batch work after `batch_run_s`, and report
deployment health after `deployment_min_healthy_s`; the deployment watcher then marks the
deployment successful (and the job version stable) or failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nomad_bridge.sim import fsm
from nomad_bridge.sim.config import SimConfig
from nomad_bridge.sim.durations import SECOND
from nomad_bridge.sim.models import (
    CLIENT_COMPLETE,
    CLIENT_FAILED,
    CLIENT_PENDING,
    CLIENT_RUNNING,
    CLIENT_TERMINAL,
    DEPLOYMENT_FAILED,
    DEPLOYMENT_SUCCESSFUL,
    DESIRED_RUN,
    EVAL_COMPLETE,
    EVAL_PENDING,
    Allocation,
    Evaluation,
    Job,
    new_id,
    now_ns,
    rfc3339,
)
from nomad_bridge.sim.reconcile import Context, reconcile
from nomad_bridge.sim.state import Msg, Store

log = logging.getLogger(__name__)

RESCHEDULE_SLACK_S = 0.01


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)


def new_eval(
    job: Job, triggered_by: str, *, job_type: str | None = None, priority: int = 0
) -> Evaluation:
    return Evaluation(
        id=new_id(),
        namespace=job["Namespace"],
        priority=priority or job["Priority"],
        type=job_type or job["Type"],
        triggered_by=triggered_by,
        job_id=job["ID"],
        job_modify_index=job["ModifyIndex"],
    )


def task_states(
    alloc: Allocation, state: str, *, failed: bool = False
) -> dict[str, dict[str, object]]:
    """Per-task state as a client reports it (only what a status display needs)."""
    group = next((g for g in alloc.job["TaskGroups"] if g["Name"] == alloc.task_group), None)
    stamp = now_ns()
    previous = alloc.task_states or {}
    kind = {"running": "Started", "dead": "Terminated"}.get(state, "Received")
    event = {"Type": kind, "Time": stamp, "FailsTask": failed, "Message": "", "DisplayMessage": ""}
    out: dict[str, dict[str, object]] = {}
    for task in (group or {}).get("Tasks", []):
        before = previous.get(task["Name"], {})
        events = [*before.get("Events", []), event]
        out[task["Name"]] = {
            "State": state,
            "Failed": failed,
            "Restarts": 0,
            "LastRestart": None,
            "StartedAt": before.get("StartedAt")
            or (rfc3339(stamp) if state != "pending" else None),
            "FinishedAt": rfc3339(stamp) if state == "dead" else None,
            "Events": events,
        }
    return out


class Scheduler:
    def __init__(self, store: Store, config: SimConfig) -> None:
        self._store = store
        self._config = config
        self._heap: list[_Timer] = []
        self._seq = itertools.count()
        self._wakeup: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._nodes = [(new_id(), f"sim-client-{i + 1}") for i in range(max(1, config.node_count))]
        self._node_cycle = itertools.cycle(self._nodes)
        self._hold = False

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sim-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _after(self, delay_s: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, _Timer(time.monotonic() + delay_s, next(self._seq), action))
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _run(self) -> None:
        """Fire due timers, then sleep until the next one or until new work arrives.

        Sleeping uses `asyncio.wait` on a plain future rather than `wait_for`, whose
        cancellation can be lost when the awaited thing completes at the same moment.
        """
        loop = asyncio.get_running_loop()
        while True:
            self._wakeup = loop.create_future()
            now = time.monotonic()
            while self._heap and self._heap[0].due <= now:
                timer = heapq.heappop(self._heap)
                try:
                    timer.action()
                except Exception:
                    log.exception("sim_scheduler_action_failed")
            timeout = self._heap[0].due - time.monotonic() if self._heap else None
            await asyncio.wait({self._wakeup}, timeout=timeout)

    # -- evaluations ------------------------------------------------------------------

    def enqueue_eval(self, evaluation: Evaluation, delay_s: float | None = None) -> None:
        wait = self._config.eval_delay_s if delay_s is None else delay_s
        self._after(wait, functools.partial(self._process_eval, evaluation.id))

    def _pick_node(self) -> tuple[str, str]:
        return next(self._node_cycle)

    def _process_eval(self, eval_id: str) -> None:
        store = self._store
        evaluation = store.evals.get(eval_id)
        if evaluation is None or evaluation.status != EVAL_PENDING:
            return
        job = store.jobs.get((evaluation.namespace, evaluation.job_id))
        delay_ns = int(self._config.reschedule_delay_s * SECOND)
        plan = reconcile(Context(store, evaluation, now_ns(), delay_ns, self._pick_node), job)
        snapshot = store.latest_index
        if not plan.empty:
            with store.txn(Msg.PLAN_RESULT) as tx:
                for deployment in plan.deployment_updates:
                    fsm.upsert_deployment(store, tx, deployment)
                if plan.deployment is not None:
                    fsm.upsert_deployment(store, tx, plan.deployment)
                fsm.upsert_plan_allocs(store, tx, [*plan.stop, *plan.update, *plan.place])
        done = dataclasses.replace(
            evaluation,
            status=EVAL_COMPLETE,
            queued_allocations=plan.queued,
            snapshot_index=snapshot,
            deployment_id=plan.deployment.id if plan.deployment else evaluation.deployment_id,
            modify_time=now_ns(),
        )
        with store.txn(Msg.EVAL_UPDATE) as tx:
            fsm.upsert_evals(store, tx, [done])
        for alloc in plan.place:
            start = functools.partial(self._client_start, alloc.id)
            self._after(self._config.alloc_start_delay_s, start)
        for alloc in plan.stop:
            if alloc.client_status in (CLIENT_PENDING, CLIENT_RUNNING):
                finish = functools.partial(self._client_finish, alloc.id)
                self._after(self._config.alloc_stop_delay_s, finish)
        for alloc in plan.update:
            if alloc.client_status == CLIENT_RUNNING and alloc.deployment_id:
                self._schedule_health(alloc)

    # -- simulated clients ------------------------------------------------------------

    def _client_update(
        self, alloc: Allocation, status: str, *, failed: bool = False, healthy: bool | None = None
    ) -> None:
        state = "running" if status == CLIENT_RUNNING else "dead"
        if status == CLIENT_PENDING:
            state = "pending"
        with self._store.txn(Msg.ALLOC_CLIENT_UPDATE) as tx:
            fsm.update_alloc_from_client(
                self._store,
                tx,
                alloc,
                client_status=status,
                task_states=task_states(alloc, state, failed=failed),
                healthy=healthy,
            )

    def _client_start(self, alloc_id: str) -> None:
        alloc = self._store.allocs.get(alloc_id)
        if (
            alloc is None
            or alloc.client_status != CLIENT_PENDING
            or alloc.desired_status != DESIRED_RUN
        ):
            return
        self._client_update(alloc, CLIENT_RUNNING)
        if alloc.job["Type"] in ("batch", "sysbatch"):
            self._after(self._config.batch_run_s, functools.partial(self._client_finish, alloc_id))
        if alloc.deployment_id:
            self._schedule_health(alloc)

    def _client_finish(self, alloc_id: str) -> None:
        alloc = self._store.allocs.get(alloc_id)
        if alloc is None or alloc.client_status in CLIENT_TERMINAL:
            return
        self._client_update(alloc, CLIENT_COMPLETE)

    def _schedule_health(self, alloc: Allocation) -> None:
        deployment_id = alloc.deployment_id
        report = functools.partial(self._client_health, alloc.id, deployment_id)
        self._after(self._config.deployment_min_healthy_s, report)

    def _client_health(self, alloc_id: str, deployment_id: str) -> None:
        alloc = self._store.allocs.get(alloc_id)
        deployment = self._store.deployments.get(deployment_id)
        if alloc is None or deployment is None or not deployment.active:
            return
        if alloc.deployment_id != deployment_id or alloc.client_status != CLIENT_RUNNING:
            return
        if alloc.deployment_status and alloc.deployment_status.get("Healthy") is not None:
            return
        self._client_update(alloc, CLIENT_RUNNING, healthy=True)
        self.watch_deployment(deployment_id)

    # -- deployment watcher -------------------------------------------------------------

    @property
    def hold_deployments(self) -> bool:
        return self._hold

    @hold_deployments.setter
    def hold_deployments(self, hold: bool) -> None:
        self._hold = hold
        if not hold:
            for deployment in list(self._store.deployments.values()):
                if deployment.active:
                    self.watch_deployment(deployment.id)

    def watch_deployment(self, deployment_id: str) -> None:
        """Mark a deployment successful once every group is healthy, failed on unhealthy."""
        deployment = self._store.deployments.get(deployment_id)
        if self._hold or deployment is None or not deployment.active:
            return
        groups = deployment.task_groups.values()
        if any(g.unhealthy_allocs > 0 for g in groups):
            status, description = DEPLOYMENT_FAILED, "Failed due to unhealthy allocations"
        elif all(g.healthy_allocs >= g.desired_total for g in groups):
            status, description = DEPLOYMENT_SUCCESSFUL, "Deployment completed successfully"
        else:
            return
        with self._store.txn(Msg.DEPLOYMENT_STATUS_UPDATE) as tx:
            updated = dataclasses.replace(
                deployment, status=status, status_description=description, modify_time=now_ns()
            )
            fsm.upsert_deployment(self._store, tx, updated)
            if status == DEPLOYMENT_SUCCESSFUL:
                fsm.update_job_stability(
                    self._store, tx, deployment.namespace, deployment.job_id, deployment.job_version
                )

    # -- injected faults ----------------------------------------------------------------

    def _victims(self, namespace: str, job_id: str, group: str, count: int) -> list[Allocation]:
        live = [
            a
            for a in self._store.allocs_by_job(namespace, job_id)
            if a.task_group == group and not a.terminal and not a.node_down
        ]
        return sorted(live, key=lambda a: (a.index, a.create_index))[:count]

    def fail_allocations(self, namespace: str, job_id: str, group: str, count: int) -> list[str]:
        """Tasks crash: the client reports `failed`, and an alloc-failure eval follows."""
        victims = self._victims(namespace, job_id, group, count)
        if not victims:
            return []
        job = self._store.jobs.get((namespace, job_id))
        evaluation = None
        with self._store.txn(Msg.ALLOC_CLIENT_UPDATE) as tx:
            for alloc in victims:
                deployment = self._store.deployments.get(alloc.deployment_id)
                unhealthy = (
                    deployment is not None
                    and deployment.active
                    and not (alloc.deployment_status and alloc.deployment_status.get("Healthy"))
                )
                alloc.modify_time = now_ns()
                fsm.update_alloc_from_client(
                    self._store,
                    tx,
                    alloc,
                    client_status=CLIENT_FAILED,
                    task_states=task_states(alloc, "dead", failed=True),
                    healthy=False if unhealthy else None,
                )
            if job is not None and not job["Stop"]:
                evaluation = new_eval(job, "alloc-failure")
                fsm.upsert_evals(self._store, tx, [evaluation])
        if evaluation is not None:
            self.enqueue_eval(evaluation, self._config.reschedule_delay_s + RESCHEDULE_SLACK_S)
        for deployment_id in {a.deployment_id for a in victims if a.deployment_id}:
            self.watch_deployment(deployment_id)
        return [a.id for a in victims]

    def lose_allocations(self, namespace: str, job_id: str, group: str, count: int) -> list[str]:
        """The nodes under the allocations go down: a node-update eval marks them lost."""
        victims = self._victims(namespace, job_id, group, count)
        job = self._store.jobs.get((namespace, job_id))
        if not victims or job is None:
            return []
        for alloc in victims:
            alloc.node_down = True
        evaluation = new_eval(job, "node-update")
        with self._store.txn(Msg.EVAL_UPDATE) as tx:
            fsm.upsert_evals(self._store, tx, [evaluation])
        self.enqueue_eval(evaluation)
        return [a.id for a in victims]
