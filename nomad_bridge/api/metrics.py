"""Prometheus metrics of one application (its own registry: no process-global state)."""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

WATCH_MODES = ("events", "list")
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BOUNDS_S = (*LATENCY_BUCKETS_S, math.inf)
_BUCKET_LABELS: tuple[str, ...] = tuple(
    floatToGoString(bound)  # type: ignore[no-untyped-call]  # the `le` labels Histogram writes
    for bound in _BOUNDS_S
)


class RouteMetrics:
    """One route's (and method's) requests: per status, a count per latency bucket (not
    cumulative) and the latency sum."""

    __slots__ = ("_by_status", "_created", "method", "route")

    def __init__(self, route: str, method: str) -> None:
        self.route = route
        self.method = method
        self._by_status: dict[int, list[float]] = {}  # [sum, bucket counts...]
        self._created: dict[int, float] = {}

    def observe(self, status: int, duration_s: float) -> None:
        counts = self._by_status.get(status)
        if counts is None:
            counts = self._by_status[status] = [0.0] * (len(_BOUNDS_S) + 1)
            self._created[status] = time.time()
        counts[0] += duration_s
        counts[1 + bisect_left(_BOUNDS_S, duration_s)] += 1


class RequestMetrics(Collector):
    """`bridge_requests_total` and `bridge_request_duration_seconds`, as prometheus-client's
    Counter and Histogram expose them, kept as plain numbers.

    Every API request updates them, so they take no lock (they are updated and collected on
    the event loop's thread: `/metrics` renders there) and no labelled child: each route's
    handler holds its `RouteMetrics`, one dict lookup (the status) and a bisect per request.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], RouteMetrics] = {}

    def route(self, route: str, method: str) -> RouteMetrics:
        found = self._routes.get((route, method))
        if found is None:
            found = self._routes[(route, method)] = RouteMetrics(route, method)
        return found

    def observe(self, route: str, method: str, status: int, duration_s: float) -> None:
        self.route(route, method).observe(status, duration_s)

    def describe(self) -> Iterator[Metric]:
        return self._families()

    def collect(self) -> Iterator[Metric]:
        return self._families()

    def _families(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "bridge_requests",
            "API requests answered, by route, method and status.",
            labels=["route", "method", "status"],
        )
        by_route: dict[str, tuple[list[float], float]] = {}
        for metrics in self._routes.values():
            for status, counts in metrics._by_status.items():
                created = metrics._created[status]
                labels = [metrics.route, metrics.method, str(status)]
                requests.add_metric(labels, sum(counts[1:]), created=created)
                merged, first = by_route.get(metrics.route, ([0.0] * len(counts), created))
                by_route[metrics.route] = (
                    [a + b for a, b in zip(merged, counts, strict=True)],
                    min(first, created),
                )
        yield requests
        latency = HistogramMetricFamily(
            "bridge_request_duration_seconds",
            "API request latency by route (long polls include their wait).",
            labels=["route"],
        )
        for route, (counts, created) in by_route.items():
            cumulative, buckets = 0.0, []
            for label, count in zip(_BUCKET_LABELS, counts[1:], strict=True):
                cumulative += count
                buckets.append((label, cumulative))
            latency.add_metric([route], buckets, counts[0])
            latency.samples.append(Sample(f"{latency.name}_created", {"route": route}, created))
        yield latency


class Metrics:
    """The bridge's metrics; the live view's gauges are read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = RequestMetrics()
        self.registry.register(self.requests)
        self.long_polls_open = 0
        """Long polls waiting right now: a plain count the gauge reads at scrape time (no
        lock, no context manager per waiter)."""
        Gauge(
            "bridge_long_polls_open", "Long polls waiting right now.", registry=self.registry
        ).set_function(lambda: self.long_polls_open)
        self.nomad_requests = Counter(
            "bridge_nomad_requests",
            "Requests to Nomad, by method, Nomad path and outcome.",
            ["method", "path", "outcome"],
            registry=self.registry,
        )
        self.nomad_latency = Histogram(
            "bridge_nomad_request_duration_seconds",
            "Nomad request latency by path (blocking queries include their wait).",
            ["path"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.view_index = Gauge(
            "bridge_view_index", "The live view's waitIndex.", registry=self.registry
        )
        self.view_sync_age = Gauge(
            "bridge_view_sync_lag_seconds",
            "How far the live view may trail Nomad: 0 while its watch is healthy, else the "
            "seconds since the watch last heard from Nomad.",
            registry=self.registry,
        )
        self.watch_mode = Gauge(
            "bridge_watch_mode",
            "1 for the way the live view follows Nomad now: `events` (Nomad's event stream) "
            "or `list` (the blocking job list, when the stream is refused or misbehaves).",
            ["mode"],
            registry=self.registry,
        )
        self.count_changes = Counter(
            "bridge_count_changes",
            "Applied count changes by the Nomad call that applied them.",
            ["path"],
            registry=self.registry,
        )
        self.count_change_retries = Counter(
            "bridge_count_change_retries",
            "Check-and-set conflicts retried by count changes.",
            registry=self.registry,
        )

    def observe_nomad(self, method: str, path: str, outcome: str, duration_s: float) -> None:
        """The Nomad client's per-attempt hook."""
        self.nomad_requests.labels(method, path, outcome).inc()
        self.nomad_latency.labels(path).observe(duration_s)

    def set_watch_mode(self, mode: str) -> None:
        for known in WATCH_MODES:
            self.watch_mode.labels(known).set(1 if known == mode else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
