"""Job validation: the messages Job.Validate and the register admission hooks produce.

Nomad returns them together as one go-multierror text with status 500 (validation errors
carry no HTTP code), e.g. `1 error occurred:\n\t* Missing job task groups\n\n`. Group
and task problems nest their own multierror text, as `fmt.Errorf("...: %v", err)` does.
"""

from __future__ import annotations

from typing import Any

from nomad_bridge.sim.errors import multierror
from nomad_bridge.sim.models import Job

JOB_TYPES = ("service", "batch", "system", "sysbatch")
MAX_PRIORITY = 100


def _validate_group(group: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    if group["Count"] < 0:
        errors.append("Task group count can't be negative")
    if not group["Tasks"]:
        errors.append("Missing tasks for task group")
    scaling = group.get("Scaling")
    if scaling is not None:
        if scaling["Max"] < 0:
            errors.append(
                "Scaling policy invalid: maximum count must be specified and non-negative"
            )
        elif scaling["Max"] < scaling["Min"]:
            errors.append(
                "Scaling policy invalid: maximum count must not be less than minimum count"
            )
        if scaling["Min"] < 0:
            errors.append(
                "Scaling policy invalid: minimum count must be specified and non-negative"
            )
        if scaling["Max"] < group["Count"]:
            errors.append(
                "Scaling policy invalid: task group count must not be greater than maximum"
                " count in scaling policy"
            )
        if group["Count"] < scaling["Min"]:
            errors.append(
                "Scaling policy invalid: task group count must not be less than minimum"
                " count in scaling policy"
            )
    seen: dict[str, int] = {}
    for idx, task in enumerate(group["Tasks"], start=1):
        task_errors: list[str] = []
        if not task["Name"]:
            task_errors.append("Missing task name")
        elif task["Name"] in seen:
            errors.append(f"Task {idx} redefines '{task['Name']}' from task {seen[task['Name']]}")
        else:
            seen[task["Name"]] = idx
        if not task["Driver"]:
            task_errors.append("Missing task driver")
        if task_errors:
            errors.append(f"Task {task['Name']} validation failed: {multierror(task_errors)}")
    return errors


def validate(job: Job) -> list[str]:
    """Job.Validate plus the jobValidate admission hook: the messages, in Nomad's order."""
    errors: list[str] = []
    if not job["ID"]:
        errors.append("Missing job ID")
    elif " " in job["ID"]:
        errors.append("Job ID contains a space")
    elif "\x00" in job["ID"]:
        errors.append("Job ID contains a null character")
    if "\x00" in job["Name"]:
        errors.append("Job Name contains a null character")
    if job["Type"] not in JOB_TYPES:
        errors.append(f'Invalid job type: "{job["Type"]}"')
    if any(dc == "" for dc in job["Datacenters"]):
        errors.append("Job datacenter must be non-empty string")
    if not job["TaskGroups"]:
        errors.append("Missing job task groups")
    names: dict[str, int] = {}
    for idx, group in enumerate(job["TaskGroups"], start=1):
        if not group["Name"]:
            errors.append(f"Job task group {idx} missing name")
        elif group["Name"] in names:
            first = names[group["Name"]]
            errors.append(f"Job task group {idx} redefines '{group['Name']}' from group {first}")
        else:
            names[group["Name"]] = idx
        if job["Type"] == "system" and group["Count"] > 1:
            errors.append(
                f"Job task group {group['Name']} has count {group['Count']}. "
                "Count cannot exceed 1 with system scheduler"
            )
    for group in job["TaskGroups"]:
        group_errors = _validate_group(group)
        if group_errors:
            errors.append(
                f"Task group {group['Name']} validation failed: {multierror(group_errors)}"
            )
    if (
        job["Periodic"] is not None
        and job["Periodic"]["Enabled"]
        and job["Type"] not in ("batch", "sysbatch")
    ):
        errors.append('Periodic can only be used with "batch" or "sysbatch" scheduler')
    if job["ParameterizedJob"] is not None and job["Type"] not in ("batch", "sysbatch"):
        errors.append('Parameterized job can only be used with "batch" or "sysbatch" scheduler')
    if not 1 <= job["Priority"] <= MAX_PRIORITY:
        errors.append(f"job priority must be between [1, {MAX_PRIORITY}]")
    if job["Multiregion"] is not None:
        errors.append("Multiregion jobs are unlicensed.")
    return errors
