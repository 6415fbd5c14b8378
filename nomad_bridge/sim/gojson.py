"""Request bodies decoded the way Go's `encoding/json` decodes them into Nomad's structs.

Go matches object keys to struct fields case-insensitively (an exact match wins), ignores
keys it does not know, reads only the first JSON value of the body, and stops with an
`UnmarshalTypeError` whose text names the innermost struct and the full field path. A
schema here is a small description of the Go type so the simulator can answer a
`"Count": "3"` exactly as Nomad does, with a 400 and Go's message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


class GoJSONError(ValueError):
    """Decoding failed; the message is what Go's decoder would have said."""


@dataclass(frozen=True)
class Scalar:
    """A Go scalar: `string`, `bool`, `int`, `int64`, `uint64`, `float64`, `time.Duration`."""

    go_type: str


@dataclass(frozen=True)
class ListOf:
    item: Spec


@dataclass(frozen=True)
class MapOf:
    value: Spec


@dataclass(frozen=True)
class Struct:
    """A Go struct; `fields` maps the Go field name to its type."""

    name: str
    fields: Mapping[str, Spec] = field(default_factory=dict)


@dataclass(frozen=True)
class Raw:
    """`interface{}` (or a struct the simulator only stores): any JSON value, kept as sent."""


Spec = Scalar | ListOf | MapOf | Struct | Raw

STRING = Scalar("string")
BOOL = Scalar("bool")
INT = Scalar("int")
INT64 = Scalar("int64")
UINT64 = Scalar("uint64")
FLOAT = Scalar("float64")
DURATION = Scalar("time.Duration")
RAW = Raw()
STRINGS = ListOf(STRING)
STRING_MAP = MapOf(STRING)

_INT_RANGES = {
    "int": (INT64_MIN, INT64_MAX),
    "int64": (INT64_MIN, INT64_MAX),
    "time.Duration": (INT64_MIN, INT64_MAX),
    "uint64": (0, UINT64_MAX),
}


@dataclass
class _Context:
    struct: str
    path: list[str]


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(
    value: Any, go_type: str, ctx: _Context, raw_number: str | None = None
) -> GoJSONError:
    kind = _json_kind(value)
    shown = f"number {raw_number}" if raw_number is not None else kind
    if not ctx.path:
        return GoJSONError(f"json: cannot unmarshal {shown} into Go value of type {go_type}")
    where = f"{ctx.struct}.{'.'.join(ctx.path)}"
    return GoJSONError(
        f"json: cannot unmarshal {shown} into Go struct field {where} of type {go_type}"
    )


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return repr(value)
    return json.dumps(value)


def _decode_scalar(spec: Scalar, value: Any, ctx: _Context) -> Any:
    go = spec.go_type
    if go == "string":
        if isinstance(value, str):
            return value
        raise _type_error(value, go, ctx)
    if go == "bool":
        if isinstance(value, bool):
            return value
        raise _type_error(value, go, ctx)
    if go == "float64":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _type_error(value, go, ctx)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _type_error(value, go, ctx)
    low, high = _INT_RANGES[go]
    if isinstance(value, float) or not low <= value <= high:
        raise _type_error(value, go, ctx, raw_number=_number_text(value))
    return value


def _match_key(fields: Mapping[str, Spec], key: str) -> str | None:
    if key in fields:
        return key
    folded = key.casefold()
    for name in fields:
        if name.casefold() == folded:
            return name
    return None


def _decode(spec: Spec, value: Any, ctx: _Context) -> Any:
    if value is None or isinstance(spec, Raw):
        return value
    if isinstance(spec, Scalar):
        return _decode_scalar(spec, value, ctx)
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise _type_error(value, _go_name(spec), ctx)
        return [_decode(spec.item, item, ctx) for item in value]
    if isinstance(spec, MapOf):
        if not isinstance(value, dict):
            raise _type_error(value, _go_name(spec), ctx)
        return {k: _decode(spec.value, v, ctx) for k, v in value.items()}
    if not isinstance(value, dict):
        raise _type_error(value, _go_name(spec), ctx)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _match_key(spec.fields, key)
        if name is None:
            continue
        inner = _Context(spec.name.rsplit(".", 1)[-1], [*ctx.path, name])
        out[name] = _decode(spec.fields[name], item, inner)
    return out


def _go_name(spec: Spec) -> str:
    if isinstance(spec, Scalar):
        return spec.go_type
    if isinstance(spec, ListOf):
        return "[]" + _go_name(spec.item)
    if isinstance(spec, MapOf):
        return "map[string]" + _go_name(spec.value)
    if isinstance(spec, Struct):
        return spec.name
    return "interface {}"


def _syntax_error(body: str, err: json.JSONDecodeError) -> GoJSONError:
    if err.pos >= len(body.rstrip()):
        return GoJSONError("unexpected EOF")
    char = body[err.pos]
    return GoJSONError(f"invalid character {char!r} looking for beginning of value")


def decode_body(body: bytes, spec: Struct) -> dict[str, Any]:
    """Decode a request body into `spec`, with Nomad's `decodeBody` error texts.

    An absent body is `Request body is empty`; whitespace only is Go's `EOF`; anything
    after the first JSON value is ignored, because Go's `json.Decoder` reads one value.
    """
    if not body:
        raise GoJSONError("Request body is empty")
    try:
        text = body.decode("utf-8", errors="replace")
    except UnicodeDecodeError as err:  # pragma: no cover - errors="replace" never raises
        raise GoJSONError(str(err)) from err
    stripped = text.lstrip()
    if not stripped:
        raise GoJSONError("EOF")
    try:
        value, _ = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError as err:
        raise _syntax_error(stripped, err) from None
    ctx = _Context(spec.name.rsplit(".", 1)[-1], [])
    if not isinstance(value, dict):
        if value is None:
            return {}
        raise _type_error(value, spec.name, ctx)
    decoded = _decode(spec, value, ctx)
    assert isinstance(decoded, dict)
    return decoded


def parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool, which Nomad uses for `?meta=`, `?purge=` and friends."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def parse_uint(text: str) -> int:
    """Go's strconv.ParseUint(text, 10, 64)."""
    if not text or not all("0" <= c <= "9" for c in text):
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    value = int(text)
    if value > UINT64_MAX:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return value


def parse_int(text: str) -> int:
    """Go's strconv.Atoi."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not all("0" <= c <= "9" for c in body):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value
