"""python-hcl2's serialized expressions turned into the plain values a job file means.

Values are literals (strings, numbers, bools, lists, objects), `var.NAME`, and string
templates: `${var.NAME}` is substituted; any other `${...}` (`${NOMAD_TASK_DIR}`,
`${attr.kernel.name}`, ...) is kept verbatim for the client to interpolate, as Nomad keeps
it; `$${` and `%%{` are the escapes for a literal `${` and `%{`. Functions, operators,
`locals` and `%{ }` directives are outside the subset the simulator parses: each is a
diagnostic naming it rather than a guess at what HCL would compute. The `as_*` conversions
word type errors as HCL's `Incorrect attribute value type`.
"""

from __future__ import annotations

import re
from typing import Any

from nomad_bridge.sim.hcl_document import SUBSET, HclError, Range, unquote

_VAR_REFERENCE = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)")
_RUNTIME_REFERENCE = re.compile(r"[A-Za-z_][\w.-]*(\[\"?[\w.-]+\"?\])?")


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
                unquote(str(k)): self.literal(v, where)
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


# --- Conversions to the types of the API's fields ------------------------------------------


def type_error(name: str, wanted: str, where: Range) -> HclError:
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
    raise type_error(name, "string required", where)


def as_int(value: Any, name: str, where: Range) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer():
            return int(value)
        raise type_error(name, "a whole number is required", where)
    raise type_error(name, "a number is required", where)


def as_bool(value: Any, name: str, where: Range) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise type_error(name, "a bool is required", where)


def as_strings(value: Any, name: str, where: Range) -> list[str]:
    if not isinstance(value, list):
        raise type_error(name, "list of string required", where)
    return [as_string(item, name, where) for item in value]


def as_string_map(value: Any, name: str, where: Range) -> dict[str, str]:
    if not isinstance(value, dict):
        raise type_error(name, "map of string required", where)
    return {key: as_string(item, name, where) for key, item in value.items()}
