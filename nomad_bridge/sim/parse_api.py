"""`POST`/`PUT /v1/jobs/parse`: an HCL2 job specification turned into the API's Job JSON.

Nomad's handler (`JobsParseRequest` in command/agent/job_endpoint.go, api-docs/jobs.mdx
"Parse Job"): any other method is 405; the ACL check (`parse-job` or `submit-job`) comes
before the body; the body is `api.JobsParseRequest` (`JobHCL`, `Variables`, `Canonicalize`;
`HCLv1` and `VariableFlags` are not read by Nomad ≥ 1.9, so not here either); an empty
`JobHCL` is 400 `Job spec is empty`; a spec that does not parse is 400 `Failed to parse job:
` followed by HCL's diagnostic, `input.hcl:LINE,COL-COL: Summary; Detail`. The answer is the
`api.Job` as Go encodes it (every field, `null` when unset); `Canonicalize` fills defaults.
Nothing is stored and no index is returned.

The simulator parses a subset of the job specification with python-hcl2 (not HashiCorp's
HCL), and says so in its diagnostics rather than guessing:

    variable "name" { default = ... }                (values from `Variables`, a var file)
    job "id" { region namespace name type priority datacenters node_pool all_at_once
               meta { ... }
      group "name" { count  meta { ... }  scaling { min max enabled }
        task "name" { driver user  config { ... }  env { ... }  meta { ... }
                      resources { cpu cores memory memory_max } } } }

Values are literals (strings, numbers, bools, lists, objects), `var.NAME`, and string
templates: `${var.NAME}` is substituted; any other `${...}` (`${NOMAD_TASK_DIR}`,
`${attr.kernel.name}`, ...) is kept verbatim for the client to interpolate, as Nomad keeps
it; `$${` and `%%{` are the escapes for a literal `${` and `%{`. Anything else (other blocks
such as `service`, `network`, `update`, `constraint`; `locals`; functions; operators;
`%{ }` directives) is a 400 naming what is unsupported. Syntax errors carry the position
python-hcl2 reports; their wording is the simulator's, not HCL's.

With `Canonicalize`, the defaults are the ones the simulator's register applies
(`jobspec.canonicalize`: counts, restart/reschedule/migrate policies, resources, ...),
with the job level as `api.Job.Canonicalize` leaves it: `Region` "global", `NodePool` "",
`Datacenters` untouched, the full default `Update` of a service job, `SubmitTime` null,
and the group's `Scaling` without a target.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from nomad_bridge.sim import jobspec
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.gojson import BOOL, STRING, Struct
from nomad_bridge.sim.jobschema import JOB, RESOURCES, SCALING_POLICY, TASK, TASK_GROUP
from nomad_bridge.sim.query import read_body
from nomad_bridge.sim.responses import json_response

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

PARSE_REQUEST = Struct(
    "api.JobsParseRequest", {"JobHCL": STRING, "Variables": STRING, "Canonicalize": BOOL}
)
FILENAME = "input.hcl"
VARIABLES_FILENAME = "input.vars.hcl"
SUBSET = "the Nomad simulator parses a subset of the job specification"
_VAR_REFERENCE = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)")
_RUNTIME_REFERENCE = re.compile(r"[A-Za-z_][\w.-]*(\[\"?[\w.-]+\"?\])?")
T = TypeVar("T")
Convert = Callable[[Any, str, "Range"], T]


async def parse_job(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    sim.acl.check(request)
    args = await read_body(request, PARSE_REQUEST)
    if not args.get("JobHCL"):
        raise NomadError(400, "Job spec is empty")
    try:
        job = parse_hcl(args["JobHCL"], variables=args.get("Variables") or "")
    except HclError as err:
        raise NomadError(400, f"Failed to parse job: {err}") from None
    if args.get("Canonicalize"):
        job = canonicalize(job)
    return json_response(request, job)


# --- Diagnostics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Where a diagnostic points: HCL prints `file:line,col-endcol` (or `-endline,endcol`)."""

    line: int
    column: int
    end_column: int
    filename: str = FILENAME
    end_line: int | None = None

    def __str__(self) -> str:
        end = self.end_column
        if self.end_line is not None and self.end_line != self.line:
            return f"{self.filename}:{self.line},{self.column}-{self.end_line},{end}"
        return f"{self.filename}:{self.line},{self.column}-{end}"


class HclError(Exception):
    """One HCL diagnostic; `str()` is hcl.Diagnostic.Error(): `range: summary; detail`."""

    def __init__(self, where: Range, summary: str, detail: str) -> None:
        super().__init__(f"{where}: {summary}; {detail}")


# --- The document as attributes and blocks, with positions ---------------------------------


@dataclass
class Attribute:
    name: str
    value: Any  # python-hcl2's serialization: strings keep their quotes, expressions `${}`
    where: Range  # the name: where HCL points for argument errors
    value_where: Range  # the expression: where HCL points for value errors


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    where: Range


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def _range(rule: Any, name: str, filename: str) -> Range:
    meta = rule._meta  # Lark's position, kept by python-hcl2's rule objects
    return Range(meta.line, meta.column, meta.column + len(name), filename)


def _span(rule: Any, filename: str) -> Range:
    meta = rule._meta
    return Range(meta.line, meta.column, meta.end_column, filename, meta.end_line)


def _unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def _options() -> Any:
    """Serialization as this module reads it: no comments, heredocs as plain strings."""
    from hcl2.utils import SerializationOptions

    return SerializationOptions(with_comments=False, preserve_heredocs=False)


def _body(rule: Any, filename: str) -> Body:
    from hcl2.rules.base import AttributeRule, BlockRule

    body = Body()
    for child in rule.children:
        if isinstance(child, AttributeRule):
            name = str(child.identifier.serialize(_options()))
            where = _range(child, name, filename)
            if name in body.attributes:
                raise HclError(
                    where,
                    "Attribute redefined",
                    f'The argument "{name}" was already set at '
                    f"{body.attributes[name].where}. Each argument may be set only once.",
                )
            value = child.expression.serialize(_options())
            value_where = _span(child.expression, filename)
            body.attributes[name] = Attribute(name, value, where, value_where)
        elif isinstance(child, BlockRule):
            type_, *labels = (str(label.serialize(_options())) for label in child.labels)
            block_body = _body(child.body, filename)
            where = _range(child, type_, filename)
            body.blocks.append(Block(type_, [_unquote(x) for x in labels], block_body, where))
    return body


def read_document(text: str, filename: str = FILENAME) -> Body:
    """The HCL text as bodies; a syntax error is a diagnostic at python-hcl2's position.

    python-hcl2 is imported here, not with the module: only this endpoint needs it.
    """
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree: Any = hcl2.parses(text)
    except UnexpectedInput as err:
        where = Range(err.line, err.column, err.column + 1, filename)
        raise HclError(where, "Invalid syntax", _syntax_detail(err)) from None
    except (LarkError, ValueError, RuntimeError) as err:
        raise HclError(Range(1, 1, 1, filename), "Invalid syntax", str(err)) from None
    return _body(tree.body, filename)


def _syntax_detail(err: Any) -> str:
    token = getattr(err, "token", None)
    if token is not None and token.type == "$END":
        return "The file ends before the open block or expression is closed."
    if token is not None:
        return f"Unexpected {str(token).strip()[:20]!r} here."
    char = getattr(err, "char", "")
    return f"Unexpected character {char!r} here."


# --- Values --------------------------------------------------------------------------------


class Values:
    """Turns python-hcl2's serialized values into plain values, with `var.NAME` resolved."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables

    def literal(self, raw: Any, where: Range) -> Any:
        if isinstance(raw, str):
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                return self.template(raw[1:-1], where)
            expression = raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw
            return self.expression(expression.strip(), where)
        if isinstance(raw, list):
            return [self.literal(item, where) for item in raw]
        if isinstance(raw, dict):
            return {
                _unquote(str(k)): self.literal(v, where)
                for k, v in raw.items()
                if not str(k).startswith("__")
            }
        return raw  # int, float, bool, None

    def expression(self, text: str, where: Range) -> Any:
        match = _VAR_REFERENCE.fullmatch(text)
        if match is None:
            raise HclError(
                where,
                "Unsupported expression",
                f"Only literal values and var.NAME references can be used here ({SUBSET}); "
                f"got `{text}`.",
            )
        return self.variable(match.group(1), where)

    def variable(self, name: str, where: Range) -> Any:
        if name not in self.variables:
            raise HclError(
                where,
                "Reference to undeclared input variable",
                f'An input variable with the name "{name}" has not been declared. This '
                f'variable can be declared with a variable "{name}" {{}} block.',
            )
        return self.variables[name]

    def template(self, raw: str, where: Range) -> str:
        """A quoted string: escapes resolved, `${var.X}` substituted, other `${}` kept."""
        out: list[str] = []
        literal_start = i = 0
        while i < len(raw):
            if raw.startswith(("$${", "%%{"), i):
                out.append(_unescape(raw[literal_start:i]) + raw[i + 1 : i + 3])
                i = literal_start = i + 3
            elif raw.startswith("${", i):
                out.append(_unescape(raw[literal_start:i]))
                end = raw.find("}", i)
                if end < 0:
                    raise HclError(where, "Unterminated template string", "No closing `}`.")
                out.append(self._interpolation(raw[i + 2 : end].strip(), where))
                i = literal_start = end + 1
            elif raw.startswith("%{", i):
                raise HclError(
                    where, "Unsupported template directive", f"`%{{ }}` directives: {SUBSET}."
                )
            else:
                i += 2 if raw[i] == "\\" else 1
        out.append(_unescape(raw[literal_start:]))
        return "".join(out)

    def _interpolation(self, expression: str, where: Range) -> str:
        match = _VAR_REFERENCE.fullmatch(expression)
        if match is not None:
            return as_string(self.variable(match.group(1), where), "template", where)
        if _RUNTIME_REFERENCE.fullmatch(expression):
            return "${" + expression + "}"  # runtime interpolation, left to the client
        raise HclError(
            where,
            "Unsupported expression",
            f"Only var.NAME and runtime references can be interpolated ({SUBSET}); "
            f"got `${{{expression}}}`.",
        )


def _unescape(text: str) -> str:
    from hcl2.utils import process_escape_sequences

    return process_escape_sequences(text)


def _type_error(name: str, wanted: str, where: Range) -> HclError:
    return HclError(
        where,
        "Incorrect attribute value type",
        f'Inappropriate value for attribute "{name}": {wanted}.',
    )


def as_string(value: Any, name: str, where: Range) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise _type_error(name, "string required", where)


def as_int(value: Any, name: str, where: Range) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer():
            return int(value)
        raise _type_error(name, "a whole number is required", where)
    raise _type_error(name, "a number is required", where)


def as_bool(value: Any, name: str, where: Range) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise _type_error(name, "a bool is required", where)


def as_strings(value: Any, name: str, where: Range) -> list[str]:
    if not isinstance(value, list):
        raise _type_error(name, "list of string required", where)
    return [as_string(item, name, where) for item in value]


def as_string_map(value: Any, name: str, where: Range) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _type_error(name, "map of string required", where)
    return {key: as_string(item, name, where) for key, item in value.items()}


# --- The job specification subset ----------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """What one body may hold: attribute names, and block types with their label names."""

    attributes: frozenset[str]
    blocks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    repeated: frozenset[str] = frozenset()


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


def check(body: Body, schema: Schema) -> dict[str, Block]:
    """Refuse what the schema does not know; the single blocks by type."""
    single: dict[str, Block] = {}
    for attribute in body.attributes.values():
        if attribute.name not in schema.attributes:
            raise HclError(
                attribute.where,
                "Unsupported argument",
                f'An argument named "{attribute.name}" is not expected here ({SUBSET}).',
            )
    for block in body.blocks:
        labels = schema.blocks.get(block.type)
        if labels is None:
            raise HclError(
                block.where,
                "Unsupported block type",
                f'Blocks of type "{block.type}" are not expected here ({SUBSET}).',
            )
        _check_labels(block, labels)
        if block.type in schema.repeated:
            continue
        if block.type in single:
            raise HclError(
                block.where,
                f"Duplicate {block.type} block",
                f"Only one {block.type} block is allowed. Another was defined at "
                f"{single[block.type].where}.",
            )
        single[block.type] = block
    return single


def _check_labels(block: Block, names: tuple[str, ...]) -> None:
    if len(block.labels) < len(names):
        raise HclError(
            block.where,
            f"Missing {names[len(block.labels)]} for {block.type}",
            f"All {block.type} blocks must have {len(names)} labels ({', '.join(names)}).",
        )
    if len(block.labels) > len(names):
        raise HclError(
            block.where,
            f"Extraneous label for {block.type}",
            f"Only {len(names)} labels ({', '.join(names)}) are expected for {block.type} blocks.",
        )


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
                raise _type_error("config", "object required", where)
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
            _check_labels(block, ())
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
