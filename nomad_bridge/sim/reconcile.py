"""The scheduler's plan for one evaluation: what to place, update in place, and stop.

A much reduced `allocReconciler` (scheduler/reconcile.go) for an infinitely large cluster:
every group converges to its Count at once (no rolling MaxParallel steps, no canaries),
count-only changes update allocations in place, task changes replace them, lost
allocations are replaced at once and failed ones after the reschedule delay. Deployments
follow `createDeployment` and `cancelUnneededDeployments`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nomad_bridge.sim.fsm import is_parameterized, is_periodic
from nomad_bridge.sim.jobspec import destructive_change
from nomad_bridge.sim.models import (
    CLIENT_COMPLETE,
    CLIENT_FAILED,
    CLIENT_LOST,
    DEPLOYMENT_CANCELLED,
    DEPLOYMENT_SUCCESSFUL,
    DESIRED_RUN,
    DESIRED_STOP,
    Allocation,
    Deployment,
    DeploymentState,
    Evaluation,
    Job,
    new_id,
)
from nomad_bridge.sim.state import Store

NOT_NEEDED = "alloc not needed due to job update"
UPDATING = "alloc is being updated due to job update"
RESCHEDULED = "alloc was rescheduled because it failed"
LOST = "alloc is lost since its node is down"
CANCELLED_STOPPED = "Cancelled because job is stopped"
CANCELLED_NEWER = "Cancelled due to newer version of job"

NodePicker = Callable[[], tuple[str, str]]


@dataclass
class Plan:
    place: list[Allocation] = field(default_factory=list)
    update: list[Allocation] = field(default_factory=list)
    stop: list[Allocation] = field(default_factory=list)
    deployment: Deployment | None = None
    deployment_updates: list[Deployment] = field(default_factory=list)
    queued: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.place or self.update or self.stop or self.deployment or self.deployment_updates
        )


@dataclass
class Context:
    store: Store
    evaluation: Evaluation
    now_ns: int
    reschedule_delay_ns: int
    pick_node: NodePicker


def _stopped(alloc: Allocation, description: str, **changes: Any) -> Allocation:
    return dataclasses.replace(
        alloc, desired_status=DESIRED_STOP, desired_description=description, **changes
    )


def _cancel(deployment: Deployment, description: str) -> Deployment:
    return dataclasses.replace(
        deployment, status=DEPLOYMENT_CANCELLED, status_description=description
    )


def _reschedulable(alloc: Allocation, group: dict[str, Any], now_ns: int) -> bool:
    policy = group.get("ReschedulePolicy")
    if policy is None:
        return False
    if policy.get("Unlimited"):
        return True
    window = policy.get("Interval") or 0
    recent = [e for e in alloc.reschedule_events if now_ns - e["RescheduleTime"] <= window]
    return len(recent) < (policy.get("Attempts") or 0)


def _new_alloc(ctx: Context, job: Job, group: str, index: int, **extra: Any) -> Allocation:
    node_id, node_name = ctx.pick_node()
    return Allocation(
        id=new_id(),
        namespace=job["Namespace"],
        eval_id=ctx.evaluation.id,
        name=f"{job['ID']}.{group}[{index}]",
        node_id=node_id,
        node_name=node_name,
        job=job,
        task_group=group,
        create_time=ctx.now_ns,
        modify_time=ctx.now_ns,
        **extra,
    )


def _stop_everything(ctx: Context, allocs: list[Allocation], job: Job | None, plan: Plan) -> Plan:
    plan.stop = [_stopped(a, NOT_NEEDED) for a in allocs if not a.terminal]
    latest = ctx.store.latest_deployment(ctx.evaluation.namespace, ctx.evaluation.job_id)
    if latest is not None and latest.active:
        plan.deployment_updates.append(_cancel(latest, CANCELLED_STOPPED))
    plan.queued = {g["Name"]: 0 for g in job["TaskGroups"]} if job else {}
    return plan


def _current_deployment(ctx: Context, job: Job, plan: Plan) -> Deployment | None:
    latest = ctx.store.latest_deployment(job["Namespace"], job["ID"])
    if latest is None:
        return None
    if latest.job_create_index != job["CreateIndex"] or latest.job_version != job["Version"]:
        if latest.active:
            plan.deployment_updates.append(_cancel(latest, CANCELLED_NEWER))
        return None
    if latest.status == DEPLOYMENT_SUCCESSFUL:
        return None
    return latest


def _open_deployment(ctx: Context, job: Job, plan: Plan, group: dict[str, Any]) -> None:
    if plan.deployment is None:
        plan.deployment = Deployment(
            id=new_id(),
            namespace=job["Namespace"],
            job_id=job["ID"],
            job_version=job["Version"],
            job_modify_index=job["ModifyIndex"],
            job_spec_modify_index=job["JobModifyIndex"],
            job_create_index=job["CreateIndex"],
            task_groups={},
            eval_priority=ctx.evaluation.priority,
            create_time=ctx.now_ns,
            modify_time=ctx.now_ns,
        )
    update = group["Update"]
    plan.deployment.task_groups[group["Name"]] = DeploymentState(
        desired_total=group["Count"],
        auto_revert=update["AutoRevert"],
        auto_promote=update["AutoPromote"],
        progress_deadline_ns=update["ProgressDeadline"],
        require_progress_by_ns=ctx.now_ns + update["ProgressDeadline"],
    )


def _reconcile_group(
    ctx: Context,
    job: Job,
    group: dict[str, Any],
    allocs: list[Allocation],
    plan: Plan,
    current: Deployment | None,
) -> None:
    name, desired = group["Name"], group["Count"]
    batch = job["Type"] in ("batch", "sysbatch")
    holders: list[Allocation] = []
    replace: list[Allocation] = []
    inplace: list[Allocation] = []
    for alloc in sorted(allocs, key=lambda a: a.index):
        if alloc.node_down and not alloc.terminal:
            plan.stop.append(_stopped(alloc, LOST, client_status=CLIENT_LOST))
            replace.append(alloc)
        elif alloc.client_status == CLIENT_FAILED and alloc.desired_status == DESIRED_RUN:
            if alloc.next_allocation:
                continue
            due = alloc.modify_time + ctx.reschedule_delay_ns <= ctx.now_ns
            if _reschedulable(alloc, group, ctx.now_ns) and due:
                replace.append(alloc)
            else:
                holders.append(alloc)
        elif (
            batch and alloc.client_status == CLIENT_COMPLETE and alloc.desired_status == DESIRED_RUN
        ):
            if not destructive_change(alloc.job, job, name):
                holders.append(alloc)
        elif not alloc.terminal:
            stale = alloc.job["JobModifyIndex"] != job["JobModifyIndex"]
            if stale and destructive_change(alloc.job, job, name):
                plan.stop.append(_stopped(alloc, UPDATING))
                replace.append(alloc)
            else:
                holders.append(alloc)
                if stale:
                    inplace.append(alloc)
    while len(holders) + len(replace) > desired:
        if replace:
            replace.pop()
            continue
        victim = max(holders, key=lambda a: a.index)
        holders.remove(victim)
        if victim.client_status != CLIENT_COMPLETE:
            plan.stop.append(_stopped(victim, NOT_NEEDED))
        inplace = [a for a in inplace if a.id != victim.id]
    deployment = current if current is not None and current.active else None
    uses_deployment = (
        job["Type"] == "service" and (group.get("Update") or {}).get("MaxParallel", 0) > 0
    )
    if uses_deployment and desired > 0 and current is None:
        had_running = any(
            a.job_version == job["Version"] and a.job_create_index == job["CreateIndex"]
            for a in allocs
        )
        updating = bool(inplace) or any(
            not a.node_down and a.client_status != CLIENT_FAILED for a in replace
        )
        if not had_running or updating:
            _open_deployment(ctx, job, plan, group)
            deployment = plan.deployment
    dep_id = deployment.id if deployment is not None and name in deployment.task_groups else ""
    for alloc in inplace:
        moved = alloc.deployment_id != dep_id
        plan.update.append(
            dataclasses.replace(
                alloc,
                job=job,
                deployment_id=dep_id,
                deployment_status=None if moved else alloc.deployment_status,
                modify_time=ctx.now_ns,
            )
        )
    used = {a.index for a in holders}
    for previous in replace:
        index = previous.index
        events = previous.reschedule_events
        if previous.client_status == CLIENT_FAILED:
            events = [
                *events,
                {
                    "RescheduleTime": ctx.now_ns,
                    "PrevAllocID": previous.id,
                    "PrevNodeID": previous.node_id,
                    "Delay": ctx.reschedule_delay_ns,
                },
            ]
        new = _new_alloc(
            ctx,
            job,
            name,
            index,
            deployment_id=dep_id,
            previous_allocation=previous.id,
            reschedule_events=events,
        )
        used.add(index)
        plan.place.append(new)
        if previous.client_status == CLIENT_FAILED:
            plan.stop.append(_stopped(previous, RESCHEDULED, next_allocation=new.id))
    free = (i for i in range(desired * 2 + len(allocs) + 1) if i not in used)
    for _ in range(desired - len(used)):
        plan.place.append(_new_alloc(ctx, job, name, next(free), deployment_id=dep_id))


def reconcile(ctx: Context, job: Job | None) -> Plan:
    plan = Plan()
    allocs = ctx.store.allocs_by_job(ctx.evaluation.namespace, ctx.evaluation.job_id)
    if job is None or job["Stop"]:
        return _stop_everything(ctx, allocs, job, plan)
    if is_periodic(job) or is_parameterized(job):
        return plan
    current = _current_deployment(ctx, job, plan)
    names = {g["Name"] for g in job["TaskGroups"]}
    for alloc in allocs:
        gone = alloc.job_create_index != job["CreateIndex"] or alloc.task_group not in names
        if gone and not alloc.terminal:
            plan.stop.append(_stopped(alloc, NOT_NEEDED))
    for group in job["TaskGroups"]:
        mine = [
            a
            for a in allocs
            if a.task_group == group["Name"] and a.job_create_index == job["CreateIndex"]
        ]
        _reconcile_group(ctx, job, group, mine, plan, current)
        plan.queued[group["Name"]] = 0
    return plan
