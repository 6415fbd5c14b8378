"""`autostart=true byCluster=no`: the Cluster API's flags as the Meta values to write.

The names are the Cluster API's (`autostart`, `byCluster`, any case) or the Meta keys they
are configured to live under (`BRIDGE_AUTOSTART_KEY`, `BRIDGE_BYCLUSTER_KEY`). Values
`true`/`1`/`yes` and `false`/`0`/`no` (any case) are written as `"true"` and `"false"`,
which `nomad_bridge.jobs.view.flag` reads back as the same booleans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nomad_bridge.jobs.view import TRUE_FLAG_VALUES, FlagKeys
from nomad_bridge.operator.errors import UsageError

FALSE_FLAG_VALUES = frozenset({"false", "0", "no"})


@dataclass(frozen=True, slots=True)
class FlagChange:
    """One flag to set: its Cluster API name, its Meta key, the Meta value to write."""

    name: str
    key: str
    value: str


def parse_flags(assignments: Iterable[str], keys: FlagKeys) -> list[FlagChange]:
    """`NAME=VALUE` words as changes, in the order given; `UsageError` names a bad one."""
    names = {
        "autostart": ("autostart", keys.autostart),
        "bycluster": ("byCluster", keys.by_cluster),
        keys.autostart.lower(): ("autostart", keys.autostart),
        keys.by_cluster.lower(): ("byCluster", keys.by_cluster),
    }
    changes: dict[str, FlagChange] = {}
    for word in assignments:
        name, sep, raw = word.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{word!r}: expected NAME=VALUE, e.g. autostart=true")
        known = names.get(name.strip().lower())
        if known is None:
            raise UsageError(
                f"{name.strip()!r}: unknown flag; use autostart or byCluster "
                f"(Meta keys {keys.autostart!r} and {keys.by_cluster!r})"
            )
        change = FlagChange(known[0], known[1], normalise(raw, name.strip()))
        previous = changes.get(change.key)
        if previous is not None and previous.value != change.value:
            raise UsageError(f"{change.name} is given twice, with different values")
        changes[change.key] = change
    return list(changes.values())


def normalise(raw: str, name: str) -> str:
    """`true`/`1`/`yes` → `"true"`, `false`/`0`/`no` → `"false"`, any case."""
    value = raw.strip().lower()
    if value in TRUE_FLAG_VALUES:
        return "true"
    if value in FALSE_FLAG_VALUES:
        return "false"
    raise UsageError(f"{name}={raw!r}: the value must be true/false, 1/0 or yes/no")


def flagged_meta(meta: Mapping[str, str] | None, changes: Sequence[FlagChange]) -> dict[str, str]:
    """A job's `Meta` with the flags written into it."""
    return {**(meta or {}), **{change.key: change.value for change in changes}}


def with_flags(spec: Mapping[str, Any], changes: Sequence[FlagChange]) -> dict[str, Any]:
    """A copy of a job spec (as a job file holds it) with the flags written into its `Meta`."""
    if not changes:
        return dict(spec)
    return {**spec, "Meta": flagged_meta(spec.get("Meta"), changes)}
