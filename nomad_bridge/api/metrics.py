"""Prometheus metrics of one application (its own registry: no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

WATCH_MODES = ("events", "list")
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The bridge's metrics; the live view's gauges are read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bridge_requests",
            "API requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bridge_request_duration_seconds",
            "API request latency by route (long polls include their wait).",
            ["route"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.long_polls = Gauge(
            "bridge_long_polls_open", "Long polls waiting right now.", registry=self.registry
        )
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
        self._request_counters: dict[tuple[str, str, int], Counter] = {}
        self._latency_by_route: dict[str, Histogram] = {}
        self.count_change_retries = Counter(
            "bridge_count_change_retries",
            "Check-and-set conflicts retried by count changes.",
            registry=self.registry,
        )

    def observe_nomad(self, method: str, path: str, outcome: str, duration_s: float) -> None:
        """The Nomad client's per-attempt hook."""
        self.nomad_requests.labels(method, path, outcome).inc()
        self.nomad_latency.labels(path).observe(duration_s)

    def observe_request(self, route: str, method: str, status: int, duration_s: float) -> None:
        """Count and time one answered request (labelled children cached: hot path)."""
        key = (route, method, status)
        counter = self._request_counters.get(key)
        if counter is None:
            counter = self._request_counters[key] = self.requests.labels(route, method, str(status))
        counter.inc()
        histogram = self._latency_by_route.get(route)
        if histogram is None:
            histogram = self._latency_by_route[route] = self.latency.labels(route)
        histogram.observe(duration_s)

    def set_watch_mode(self, mode: str) -> None:
        for known in WATCH_MODES:
            self.watch_mode.labels(known).set(1 if known == mode else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
