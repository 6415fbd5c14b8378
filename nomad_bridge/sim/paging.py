"""List endpoints' shared behaviour: `?filter=` expressions and `per_page`/`next_token` pages.

Tokens are `<namespace>.<id>` of the first item of the next page, which that page then
includes (nomad/state/paginator), and `reverse=true` walks the index backwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from nomad_bridge.sim import bexpr
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.query import QueryOptions

T = TypeVar("T")


def in_namespace(opts: QueryOptions, table: Mapping[tuple[str, str], T]) -> Iterator[T]:
    """A table's entries, in index order, of the namespace asked for (`*`: of every one)."""
    for (namespace, _), entry in sorted(table.items()):
        if opts.namespace in ("*", namespace):
            yield entry


def paginate(items: list[tuple[str, Any]], opts: QueryOptions) -> tuple[list[Any], str]:
    """Paginator over (token, item) in index order: next_token is the next page's first token."""
    if opts.reverse:
        items = list(reversed(items))
    if opts.next_token:
        if opts.reverse:
            items = [(t, i) for t, i in items if t <= opts.next_token]
        else:
            items = [(t, i) for t, i in items if t >= opts.next_token]
    if opts.per_page > 0 and len(items) > opts.per_page:
        return [i for _, i in items[: opts.per_page]], items[opts.per_page][0]
    return [i for _, i in items], ""


def compile_filter(opts: QueryOptions) -> bexpr.Predicate | None:
    if not opts.filter:
        return None
    try:
        return bexpr.compile_filter(opts.filter)
    except bexpr.FilterError as err:
        raise NomadError(400, f"failed to read filter expression: {err}") from None
