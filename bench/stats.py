"""Small statistics over samples: percentiles by linear interpolation, ratios that never
divide by zero."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The `fraction` (0..1) percentile of `samples`; NaN when there are none."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def rounded(value: float, digits: int = 3) -> float | None:
    """JSON-friendly: NaN and infinities become None (null)."""
    if math.isnan(value) or math.isinf(value):
        return None
    return round(value, digits)
