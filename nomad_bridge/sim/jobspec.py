"""A submitted job turned into the job Nomad stores: defaults, validation, spec comparison.

`canonicalize` applies what `api.Job.Canonicalize`, `ApiJobToStructJob` and the register
admission mutators apply (Type service, Priority 50, Datacenters ["*"], group Count 1 or
Scaling.Min, restart/reschedule/disk defaults, the default Update block for service jobs).
`spec_changed` is Job.SpecChanged; `stub` is Job.Stub.
"""

from __future__ import annotations

import copy
from typing import Any

from nomad_bridge.sim import group_blocks
from nomad_bridge.sim.durations import HOUR, MINUTE, SECOND
from nomad_bridge.sim.jobschema import GROUP_RAW_FIELDS, TASK_RAW_FIELDS
from nomad_bridge.sim.models import Job, new_id

DEFAULT_UPDATE = {
    "Stagger": 30 * SECOND,
    "MaxParallel": 1,
    "HealthCheck": "checks",
    "MinHealthyTime": 10 * SECOND,
    "HealthyDeadline": 5 * MINUTE,
    "ProgressDeadline": 10 * MINUTE,
    "Canary": 0,
    "AutoRevert": False,
    "AutoPromote": False,
}
EMPTY_UPDATE = {
    key: (False if isinstance(v, bool) else "" if isinstance(v, str) else 0)
    for key, v in DEFAULT_UPDATE.items()
}
RESTART = {
    "service": {"Attempts": 2, "Delay": 15 * SECOND, "Interval": 30 * MINUTE, "Mode": "fail"},
    "batch": {"Attempts": 3, "Delay": 15 * SECOND, "Interval": 24 * HOUR, "Mode": "fail"},
}
RESCHEDULE = {
    "service": {
        "Attempts": 0,
        "Interval": 0,
        "Delay": 30 * SECOND,
        "DelayFunction": "exponential",
        "MaxDelay": HOUR,
        "Unlimited": True,
    },
    "batch": {
        "Attempts": 1,
        "Interval": 24 * HOUR,
        "Delay": 5 * SECOND,
        "DelayFunction": "constant",
        "MaxDelay": 0,
        "Unlimited": False,
    },
}
DEFAULT_MIGRATE = {
    "MaxParallel": 1,
    "HealthCheck": "checks",
    "MinHealthyTime": 10 * SECOND,
    "HealthyDeadline": 5 * MINUTE,
}
NOT_SPEC = (
    "Status",
    "StatusDescription",
    "Stable",
    "Version",
    "CreateIndex",
    "ModifyIndex",
    "JobModifyIndex",
    "SubmitTime",
)


def _merged(defaults: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(defaults)
    out.update({k: v for k, v in (given or {}).items() if v is not None})
    return out


def _empty_to_none(value: Any) -> Any:
    return value if value else None


def _kind(job_type: str) -> str:
    return "batch" if job_type in ("batch", "sysbatch") else "service"


def _job_update(given: dict[str, Any] | None, job_type: str) -> dict[str, Any] | None:
    """The job's Update as the API canonicalizes it (groups inherit from this)."""
    if given is not None:
        return _merged(DEFAULT_UPDATE, given)
    return dict(DEFAULT_UPDATE) if job_type == "service" else None


def _stored_job_update(update: dict[str, Any] | None) -> dict[str, Any]:
    """ApiJobToStructJob keeps only Stagger and MaxParallel at the job level."""
    out = dict(EMPTY_UPDATE)
    if update is not None and update.get("MaxParallel", 0) > 0:
        out["Stagger"] = update["Stagger"]
        out["MaxParallel"] = update["MaxParallel"]
    return out


def _scaling(given: dict[str, Any] | None, count: int, ns: str, job_id: str, name: str) -> Any:
    if given is None:
        return None
    return {
        "ID": "",
        "Type": given.get("Type") or "horizontal",
        "Target": {"Namespace": ns, "Job": job_id, "Group": name},
        "Policy": given.get("Policy"),
        "Min": given["Min"] if given.get("Min") is not None else count,
        "Max": given["Max"] if given.get("Max") is not None else -1,
        "Enabled": given["Enabled"] if given.get("Enabled") is not None else True,
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }


def _task(given: dict[str, Any], restart: dict[str, Any]) -> dict[str, Any]:
    resources = given.get("Resources") or {}
    task: dict[str, Any] = {
        "Name": given.get("Name", ""),
        "Driver": given.get("Driver", ""),
        "User": given.get("User", ""),
        "Config": _empty_to_none(given.get("Config")),
        "Env": _empty_to_none(given.get("Env")),
        "Resources": {
            "CPU": resources.get("CPU") if resources.get("CPU") is not None else 100,
            "Cores": resources.get("Cores") or 0,
            "MemoryMB": resources.get("MemoryMB") if resources.get("MemoryMB") is not None else 300,
            "MemoryMaxMB": resources.get("MemoryMaxMB") or 0,
            "DiskMB": resources.get("DiskMB") or 0,
            "IOPS": resources.get("IOPS") or 0,
            "Networks": _empty_to_none(resources.get("Networks")),
            "Devices": _empty_to_none(resources.get("Devices")),
            "NUMA": resources.get("NUMA"),
            "SecretsMB": resources.get("SecretsMB") or 0,
        },
        "RestartPolicy": _merged(restart, given.get("RestartPolicy")),
        "Meta": _empty_to_none(given.get("Meta")),
        "KillTimeout": given["KillTimeout"] if given.get("KillTimeout") is not None else 5 * SECOND,
        "LogConfig": _merged(
            {"Disabled": False, "MaxFiles": 10, "MaxFileSizeMB": 10},
            {k: v for k, v in (given.get("LogConfig") or {}).items() if k != "Enabled"},
        ),
        "Leader": bool(given.get("Leader")),
        "ShutdownDelay": given.get("ShutdownDelay") or 0,
        "KillSignal": given.get("KillSignal", ""),
        "Kind": given.get("Kind", ""),
    }
    for name in TASK_RAW_FIELDS:
        task[name] = _empty_to_none(given.get(name))
    return task


def _group(given: dict[str, Any], job: Job, job_update: dict[str, Any] | None) -> dict[str, Any]:
    kind = _kind(job["Type"])
    name = given.get("Name", "")
    scaling_given = given.get("Scaling")
    count = given.get("Count")
    if count is None:
        count = (
            scaling_given["Min"] if scaling_given and scaling_given.get("Min") is not None else 1
        )
    restart = _merged(RESTART[kind], given.get("RestartPolicy"))
    restart.setdefault("RenderTemplates", False)
    update = given.get("Update")
    if job_update is not None and update is not None:
        update = _merged(job_update, update)
    elif job_update is not None and job_update.get("MaxParallel", 0) > 0:
        update = dict(job_update)
    elif update is not None:
        update = _merged(DEFAULT_UPDATE, update)
    migrate = given.get("Migrate")
    if migrate is not None or job["Type"] == "service":
        migrate = _merged(DEFAULT_MIGRATE, migrate)
    group: dict[str, Any] = {
        "Name": name,
        "Count": count,
        "Tasks": [_task(t or {}, restart) for t in given.get("Tasks") or []],
        "RestartPolicy": restart,
        "ReschedulePolicy": (
            None
            if job["Type"] == "system"
            else _merged(RESCHEDULE[kind], given.get("ReschedulePolicy"))
        ),
        "EphemeralDisk": _merged(
            {"Sticky": False, "SizeMB": 300, "Migrate": False}, given.get("EphemeralDisk")
        ),
        "Update": update,
        "Migrate": migrate,
        "Meta": _empty_to_none(given.get("Meta")),
        "Scaling": _scaling(scaling_given, count, job["Namespace"], job["ID"], name),
        "ShutdownDelay": given.get("ShutdownDelay"),
        "StopAfterClientDisconnect": given.get("StopAfterClientDisconnect"),
        "MaxClientDisconnect": given.get("MaxClientDisconnect"),
        "PreventRescheduleOnLost": bool(given.get("PreventRescheduleOnLost")),
    }
    for raw_name in GROUP_RAW_FIELDS:
        group[raw_name] = _empty_to_none(given.get(raw_name))
    group["Networks"] = group_blocks.networks(given.get("Networks"))
    group["Services"] = group_blocks.services(given.get("Services"), job, name)
    return group


def canonicalize(given: dict[str, Any], *, namespace: str, region: str, submit_time: int) -> Job:
    """The job as Nomad stores it, before the state store sets indexes, Version and Status."""
    job_id = given.get("ID", "")
    job_type = given.get("Type") or "service"
    periodic = given.get("Periodic")
    parameterized = given.get("ParameterizedJob")
    job: Job = {
        "Stop": bool(given.get("Stop")),
        "Region": region,
        "Namespace": namespace,
        "ID": job_id,
        "ParentID": "",
        "Name": given.get("Name") or job_id,
        "Type": job_type,
        "Priority": given["Priority"] if given.get("Priority") is not None else 50,
        "AllAtOnce": bool(given.get("AllAtOnce")),
        "Datacenters": given.get("Datacenters") or ["*"],
        "NodePool": given.get("NodePool") or "default",
        "Constraints": _empty_to_none(given.get("Constraints")),
        "Affinities": _empty_to_none(given.get("Affinities")),
        "Spreads": _empty_to_none(given.get("Spreads")),
    }
    job_update = _job_update(given.get("Update"), job_type)
    job["TaskGroups"] = [_group(g or {}, job, job_update) for g in given.get("TaskGroups") or []]
    job.update(
        {
            "Update": _stored_job_update(job_update),
            "Multiregion": given.get("Multiregion"),
            "Periodic": None
            if periodic is None
            else _merged(
                {
                    "Enabled": True,
                    "Spec": "",
                    "Specs": None,
                    "SpecType": "cron",
                    "ProhibitOverlap": False,
                    "TimeZone": "UTC",
                },
                periodic,
            ),
            "ParameterizedJob": None
            if parameterized is None
            else _merged(
                {"Payload": "optional", "MetaRequired": None, "MetaOptional": None},
                {k: v for k, v in parameterized.items() if v != ""},
            ),
            "Dispatched": False,
            "DispatchIdempotencyToken": "",
            "Payload": None,
            "Meta": _empty_to_none(given.get("Meta")),
            "ConsulToken": "",
            "ConsulNamespace": given.get("ConsulNamespace", ""),
            "VaultToken": "",
            "VaultNamespace": given.get("VaultNamespace", ""),
            "NomadTokenID": "",
            "Status": "",
            "StatusDescription": "",
            "Stable": False,
            "Version": 0,
            "SubmitTime": submit_time,
            "CreateIndex": 0,
            "ModifyIndex": 0,
            "JobModifyIndex": 0,
            "UI": given.get("UI"),
            "VersionTag": None,
        }
    )
    return job


def carry_scaling_ids(old: Job | None, new: Job) -> None:
    """propagateScalingPolicyIDs: a group's policy keeps its ID (and indexes) across versions."""
    old_groups = {g["Name"]: g for g in (old or {}).get("TaskGroups", [])}
    for group in new["TaskGroups"]:
        policy = group.get("Scaling")
        if policy is None:
            continue
        previous = (old_groups.get(group["Name"]) or {}).get("Scaling")
        if previous is not None:
            policy["ID"] = previous["ID"]
            policy["CreateIndex"] = previous["CreateIndex"]
            policy["ModifyIndex"] = previous["ModifyIndex"]
        else:
            policy["ID"] = new_id()


def spec_changed(old: Job | None, new: Job) -> bool:
    """Job.SpecChanged: equal except for status, stability, version, indexes, SubmitTime."""
    if old is None:
        return True
    candidate = copy.deepcopy(new)
    for key in NOT_SPEC:
        candidate[key] = old.get(key)
    return candidate != old


def stub(job: Job, summary: dict[str, Any] | None, *, with_meta: bool) -> dict[str, Any]:
    """Job.Stub: the JobListStub of GET /v1/jobs (Periodic/ParameterizedJob as booleans)."""
    out: dict[str, Any] = {
        "ID": job["ID"],
        "ParentID": job["ParentID"],
        "Name": job["Name"],
        "Namespace": job["Namespace"],
        "Datacenters": job["Datacenters"],
        "NodePool": job["NodePool"],
        "Multiregion": job["Multiregion"],
        "Type": job["Type"],
        "Priority": job["Priority"],
        "Periodic": job["Periodic"] is not None,
        "ParameterizedJob": job["ParameterizedJob"] is not None and not job["Dispatched"],
        "Stop": job["Stop"],
        "Status": job["Status"],
        "StatusDescription": job["StatusDescription"],
        "JobSummary": summary,
        "CreateIndex": job["CreateIndex"],
        "ModifyIndex": job["ModifyIndex"],
        "JobModifyIndex": job["JobModifyIndex"],
        "SubmitTime": job["SubmitTime"],
    }
    if not out["Namespace"]:
        del out["Namespace"]
    if with_meta and job["Meta"]:
        out["Meta"] = job["Meta"]
    return out


def group(job: Job, name: str) -> dict[str, Any] | None:
    return next((g for g in job["TaskGroups"] if g["Name"] == name), None)


def destructive_change(old: Job, new: Job, group_name: str) -> bool:
    """tasksUpdated, simplified: anything a running task would see changes means replace it."""
    before, after = group(old, group_name), group(new, group_name)
    if before is None or after is None:
        return True
    keys = ("Tasks", "Networks", "Volumes", "Services", "EphemeralDisk", "Meta")
    return any(before.get(k) != after.get(k) for k in keys) or old.get("Meta") != new.get("Meta")
