"""A small subset of go-bexpr, the filter language of Nomad's `?filter=` list parameter.

Supported: `==`, `!=`, `is [not] empty`, `[not] contains`, `[not] in`, `[not] matches`,
`and`, `or`, `not` and parentheses; selectors are dotted field paths (`Meta.owner`,
`TaskGroups.Name` is not supported: a selector must reach a scalar, list or map).
Values are double-quoted or backquoted strings, numbers or booleans. A selector that finds
nothing matches nothing (and `is empty`). Anything else is a parse error, answered like
Nomad answers a bad expression: 400 `failed to read filter expression: ...`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any], bool]
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<op>==|!=|\(|\)|\[|\])|'
    r"(?P<word>[A-Za-z0-9_.\-/:]+))"
)
_MISSING = object()


class FilterError(ValueError):
    """The expression cannot be parsed."""


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FilterError(f"unexpected character {text[pos:].strip()[0]!r} at {pos}")
        out.append(match.group(match.lastgroup or "word"))
        pos = match.end()
    return out


def _literal(token: str) -> Any:
    if token[:1] == '"':
        return bytes(token[1:-1], "utf-8").decode("unicode_escape")
    if token[:1] == "`":
        return token[1:-1]
    if token in ("true", "false"):
        return token == "true"
    try:
        return int(token)
    except ValueError:
        try:
            return float(token)
        except ValueError:
            return token


def _lookup(datum: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(datum, dict) and part in datum:
            datum = datum[part]
        else:
            return _MISSING
    return datum


def _same(found: Any, wanted: Any) -> bool:
    if isinstance(found, bool) or isinstance(wanted, bool):
        return str(found).lower() == str(wanted).lower()
    return str(found) == str(wanted)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise FilterError(f"expected {expected or 'more input'}, found {token!r}")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek()!r}")
        return pred

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == "or":
            self.take()
            right = self.and_expr()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def and_expr(self) -> Predicate:
        left = self.not_expr()
        while self.peek() == "and":
            self.take()
            right = self.not_expr()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def not_expr(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.not_expr()
            return lambda d: not inner(d)
        if self.peek() == "(":
            self.take("(")
            inner = self.or_expr()
            self.take(")")
            return inner
        return self.match()

    def selector(self) -> list[str]:
        path = self.take().split(".")
        while self.peek() == "[":
            self.take("[")
            path.append(str(_literal(self.take())))
            self.take("]")
        if not all(path):
            raise FilterError("invalid selector")
        return path

    def match(self) -> Predicate:
        first = self.peek() or ""
        if first[:1] in ('"', "`") or re.fullmatch(r"-?\d+(\.\d+)?|true|false", first):
            value = _literal(self.take())
            negate = self.peek() == "not"
            if negate:
                self.take()
            self.take("in")
            path = self.selector()
            return self._contains(path, value, negate)
        path = self.selector()
        op = self.take()
        if op in ("==", "!="):
            value = _literal(self.take())
            eq = op == "=="
            return lambda d: (
                (_lookup(d, path) is not _MISSING and _same(_lookup(d, path), value)) == eq
            )
        if op == "is":
            negate = self.peek() == "not"
            if negate:
                self.take()
            self.take("empty")
            return lambda d: (not _lookup(d, path) or _lookup(d, path) is _MISSING) != negate
        negate = op == "not"
        if negate:
            op = self.take()
        if op == "contains":
            return self._contains(path, _literal(self.take()), negate)
        if op == "matches":
            pattern = re.compile(str(_literal(self.take())))
            return lambda d: (
                bool(isinstance(_lookup(d, path), str) and pattern.search(_lookup(d, path)))
                != negate
            )
        raise FilterError(f"unknown operator {op!r}")

    @staticmethod
    def _contains(path: list[str], value: Any, negate: bool) -> Predicate:
        def pred(datum: Any) -> bool:
            found = _lookup(datum, path)
            if isinstance(found, str):
                hit = str(value) in found
            elif isinstance(found, list | dict):
                hit = any(_same(item, value) for item in found)
            else:
                hit = False
            return hit != negate

        return pred


def compile_filter(text: str) -> Predicate:
    """A predicate over a JSON-shaped object; raises FilterError for a bad expression."""
    return _Parser(_tokens(text)).parse()
