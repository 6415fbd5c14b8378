"""The job specification subset as the simulator parses it, mapped to the API's `api.Job`.

Nomad's `jobspec2` decodes a job file into `api.Job`; the answer of `/v1/jobs/parse` is that
struct as Go encodes it (every field, `null` when unset). The simulator knows this subset
and refuses any other block or argument with a diagnostic saying so, never dropping it:

    variable "name" { default = ... }                (values from `Variables`, a var file)
    job "id" { region namespace name type priority datacenters node_pool all_at_once
               meta { ... }
      group "name" { count  meta { ... }  scaling { min max enabled }
        task "name" { driver user  config { ... }  env { ... }  meta { ... }
                      resources { cpu cores memory memory_max } } } }

Blocks such as `service`, `network`, `update` and `constraint` are outside it.

With `Canonicalize`, the defaults are the ones the simulator's register applies
(`jobspec.canonicalize`: counts, restart/reschedule/migrate policies, resources, ...),
with the job level as `api.Job.Canonicalize` leaves it: `Region` "global", `NodePool` "",
`Datacenters` untouched, the full default `Update` of a service job, `SubmitTime` null,
and the group's `Scaling` without a target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from nomad_bridge.sim import jobspec
from nomad_bridge.sim.gojson import Struct
from nomad_bridge.sim.hcl_document import (
    Attribute,
    Block,
    Body,
    HclError,
    Range,
    Schema,
    check,
    check_labels,
    read_document,
)
from nomad_bridge.sim.hcl_values import (
    Values,
    as_bool,
    as_int,
    as_string,
    as_string_map,
    as_strings,
    type_error,
)
from nomad_bridge.sim.jobschema import JOB, RESOURCES, SCALING_POLICY, TASK, TASK_GROUP

VARIABLES_FILENAME = "input.vars.hcl"
T = TypeVar("T")
Convert = Callable[[Any, str, Range], T]


# --- The job specification subset ----------------------------------------------------------

JOB_BODY = Schema(
    frozenset(
        {"region", "namespace", "name", "type", "priority", "datacenters", "node_pool"}
        | {"all_at_once", "meta"}
    ),
    {"group": ("name",), "meta": ()},
    repeated=frozenset({"group"}),
)
GROUP_BODY = Schema(
    frozenset({"count", "meta"}),
    {"task": ("name",), "meta": (), "scaling": ()},
    repeated=frozenset({"task"}),
)
SCALING_BODY = Schema(frozenset({"min", "max", "enabled"}))
TASK_BODY = Schema(
    frozenset({"driver", "user", "config", "env", "meta"}),
    {"config": (), "resources": (), "env": (), "meta": ()},
)
RESOURCES_BODY = Schema(frozenset({"cpu", "cores", "memory", "memory_max"}))
VARIABLE_BODY = Schema(frozenset({"default", "type", "description", "sensitive"}))
TOP_BODY = Schema(frozenset(), {"job": ("name",), "variable": ("name",)}, frozenset({"variable"}))


def _skeleton(spec: Struct, **zero: Any) -> dict[str, Any]:
    """Every field of an `api` struct as Go encodes an unset one: null, or its zero value."""
    return {name: zero.get(name) for name in spec.fields}


class JobDecoder:
    """The `job` block into an `api.Job` as `jobspec2` decodes it (before canonicalizing)."""

    def __init__(self, values: Values) -> None:
        self.values = values

    def _get(self, body: Body, name: str) -> Any:
        attribute = body.attributes.get(name)
        if attribute is None:
            return None
        return self.values.literal(attribute.value, attribute.value_where)

    def _typed(self, body: Body, name: str, convert: Convert[T]) -> T | None:
        value = self._get(body, name)
        if value is None:
            return None
        return convert(value, name, body.attributes[name].value_where)

    def _map(self, body: Body, blocks: dict[str, Block], name: str) -> dict[str, str] | None:
        block = blocks.get(name)
        if block is None:
            return self._typed(body, name, as_string_map)
        if name in body.attributes:
            raise HclError(
                block.where,
                "Unsupported block type",
                f'"{name}" is already set as an argument; it cannot be a block as well.',
            )
        check(block.body, Schema(frozenset(block.body.attributes)))
        return {
            a.name: as_string(self.values.literal(a.value, a.value_where), a.name, a.value_where)
            for a in _attrs(block.body)
        }

    def job(self, block: Block) -> dict[str, Any]:
        body, blocks = block.body, check(block.body, JOB_BODY)
        job = _skeleton(JOB, Dispatched=False)
        job.update(
            ID=block.labels[0],
            Name=self._typed(body, "name", as_string) or block.labels[0],
            Region=self._typed(body, "region", as_string),
            Namespace=self._typed(body, "namespace", as_string),
            Type=self._typed(body, "type", as_string),
            Priority=self._typed(body, "priority", as_int),
            AllAtOnce=self._typed(body, "all_at_once", as_bool),
            Datacenters=self._typed(body, "datacenters", as_strings),
            NodePool=self._typed(body, "node_pool", as_string),
            Meta=self._map(body, blocks, "meta"),
        )
        groups = [self.group(b) for b in block.body.blocks if b.type == "group"]
        job["TaskGroups"] = groups or None
        return job

    def group(self, block: Block) -> dict[str, Any]:
        body, blocks = block.body, check(block.body, GROUP_BODY)
        group = _skeleton(TASK_GROUP)
        tasks = [self.task(b) for b in body.blocks if b.type == "task"]
        group.update(
            Name=block.labels[0],
            Count=self._typed(body, "count", as_int),
            Meta=self._map(body, blocks, "meta"),
            Tasks=tasks or None,
        )
        if "scaling" in blocks:
            scaling = blocks["scaling"].body
            check(scaling, SCALING_BODY)
            group["Scaling"] = _skeleton(
                SCALING_POLICY, ID="", Namespace="", Type="", CreateIndex=0, ModifyIndex=0
            ) | {
                "Min": self._typed(scaling, "min", as_int),
                "Max": self._typed(scaling, "max", as_int),
                "Enabled": self._typed(scaling, "enabled", as_bool),
            }
        return group

    def task(self, block: Block) -> dict[str, Any]:
        body, blocks = block.body, check(block.body, TASK_BODY)
        task = _skeleton(
            TASK, Name="", Driver="", User="", Leader=False, ShutdownDelay=0, KillSignal="", Kind=""
        )
        task.update(
            Name=block.labels[0],
            Driver=self._typed(body, "driver", as_string) or "",
            User=self._typed(body, "user", as_string) or "",
            Env=self._map(body, blocks, "env"),
            Meta=self._map(body, blocks, "meta"),
            Config=self.config(blocks["config"].body) if "config" in blocks else None,
        )
        if "config" in body.attributes:
            if "config" in blocks:
                raise HclError(blocks["config"].where, "Duplicate config", "Set once only.")
            config = self._get(body, "config")
            if not isinstance(config, dict):
                where = body.attributes["config"].value_where
                raise type_error("config", "object required", where)
            task["Config"] = config
        if "resources" in blocks:
            resources = blocks["resources"].body
            check(resources, RESOURCES_BODY)
            task["Resources"] = _skeleton(RESOURCES) | {
                "CPU": self._typed(resources, "cpu", as_int),
                "Cores": self._typed(resources, "cores", as_int),
                "MemoryMB": self._typed(resources, "memory", as_int),
                "MemoryMaxMB": self._typed(resources, "memory_max", as_int),
            }
        return task

    def config(self, body: Body) -> dict[str, Any]:
        """A driver's `config`: any attributes; nested unlabelled blocks become lists."""
        out: dict[str, Any] = {a.name: self._get(body, a.name) for a in _attrs(body)}
        for block in body.blocks:
            check_labels(block, ())
            entries = out.setdefault(block.type, [])
            if not isinstance(entries, list):
                raise HclError(block.where, "Duplicate argument", f'"{block.type}" is set twice.')
            entries.append(self.config(block.body))
        return out


def _attrs(body: Body) -> list[Attribute]:
    return list(body.attributes.values())


# --- The whole document ---------------------------------------------------------------------


def parse_hcl(text: str, *, variables: str = "") -> dict[str, Any]:
    """The job of an HCL2 job file, as `api.Job` JSON (not canonicalized)."""
    document = read_document(text)
    blocks = check(document, TOP_BODY)
    given = _given_variables(variables)
    values = Values({})
    declared: dict[str, Any] = {}
    for block in document.blocks:
        if block.type != "variable":
            continue
        check(block.body, VARIABLE_BODY)
        name = block.labels[0]
        if name in given:
            declared[name] = given[name]
        elif "default" in block.body.attributes:
            default = block.body.attributes["default"]
            declared[name] = values.literal(default.value, default.value_where)
        else:
            raise HclError(
                block.where,
                f'Unset variable "{name}"',
                "A used variable must be set or have a default value; see "
                "https://developer.hashicorp.com/nomad/docs/job-specification/hcl2/variables "
                "for details.",
            )
    if "job" not in blocks:
        raise HclError(Range(1, 1, 1), "Missing job block", "A job block is required.")
    return JobDecoder(Values(declared)).job(blocks["job"])


def _given_variables(text: str) -> dict[str, Any]:
    """A var file (`name = value` lines): literal values only."""
    if not text.strip():
        return {}
    document = read_document(text, VARIABLES_FILENAME)
    values = Values({})
    for block in document.blocks:
        raise HclError(block.where, "Unexpected block", "A var file holds only arguments.")
    return {a.name: values.literal(a.value, a.value_where) for a in _attrs(document)}


def canonicalize(job: dict[str, Any]) -> dict[str, Any]:
    """`api.Job.Canonicalize`, with the group and task defaults of the simulator's register."""
    stored = jobspec.canonicalize(
        job,
        namespace=job.get("Namespace") or "default",
        region=job.get("Region") or "global",
        submit_time=0,
    )
    job_type = stored["Type"]
    stored.update(
        NodePool=job.get("NodePool") or "",
        Datacenters=job.get("Datacenters"),
        Update=dict(jobspec.DEFAULT_UPDATE) if job_type == "service" else None,
        SubmitTime=None,
        Reschedule=None,
        Migrate=None,
        DispatchIdempotencyToken=None,
        Payload=None,
        TaskGroups=stored["TaskGroups"] or None,
    )
    for group in stored["TaskGroups"] or []:
        scaling = group.get("Scaling")
        if scaling is not None:
            scaling.update(Target=None, ID="", Namespace="")
    ordered = {name: stored.get(name) for name in JOB.fields}
    return ordered | {k: v for k, v in stored.items() if k not in ordered}
