"""Prometheus metrics in Alice's own `CollectorRegistry`, cheap to update on the hot path.

Counters and histograms are updated from the telemetry observer with label children cached in
plain dicts (`labels()` costs microseconds; a dict lookup costs tens of nanoseconds). State that
lives elsewhere (breakers, in-flight requests, event-loop lag, guardian, cache stats, SLO burn)
is read when scraped.

Several worker processes: prometheus-client's multiprocess mode is on when the environment
variable PROMETHEUS_MULTIPROC_DIR is set before Python imports prometheus_client (see
`multiproc.py`, which `alice serve` uses when `server.workers > 1`). Counters and histograms
are then summed over all workers by the MultiProcessCollector; state gauges are written by
each worker every second and at scrape time, and aggregated per metric (`livesum` for
in-flight requests, `livemax` for lag, `liveall` — one series per worker, with a `pid`
label — for breaker states, because each worker has its own breakers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from alice.profiles import Profile

__all__ = ["STATE_GAUGES", "BoundedLabel", "Metrics", "StateSample", "multiprocess_active"]

# (labels, value) pairs of one state gauge, as read at scrape time.
StateSample = tuple[tuple[str, ...], float]

# name -> (help, label names, multiprocess aggregation)
STATE_GAUGES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "alice_breaker_state": ("1 for each deployment's current breaker state, 0 for the others",
                            ("deployment", "state"), "liveall"),
    "alice_inflight_requests": ("Chat requests inside the pipeline now", (), "livesum"),
    "alice_event_loop_lag_milliseconds": ("Latest event-loop lag sample", (), "livemax"),
    "alice_event_loop_lag_max_milliseconds": ("Largest event-loop lag in the last minute", (), "livemax"),
    "alice_guardian_state": ("1 for the guardian's current state", ("state",), "livemax"),
    "alice_cache_stat": ("Numeric figures from the cache's own stats()", ("name",), "livesum"),
    "alice_slo_burn_rate": ("Error-budget burn rate per objective and window", ("objective", "window"), "livemax"),
    "alice_slo_budget_remaining": ("Fraction of the error budget left over the longest window",
                                   ("objective",), "livemin"),
    "alice_requestlog_buffered_rows": ("Request-log rows waiting to be written", (), "livesum"),
}


def multiprocess_active() -> bool:
    """True when prometheus-client chose its multiprocess value class at import time."""
    return values.ValueClass is not values.MutexValue


class BoundedLabel:
    """Maps raw values to label values, keeping at most `cap` distinct ones (the rest: "other")."""

    __slots__ = ("cap", "seen")

    def __init__(self, cap: int, allowed: Iterable[str] = ()) -> None:
        self.cap = cap
        self.seen: set[str] = set(allowed)

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) >= self.cap:
            return "other"
        self.seen.add(value)
        return value


class _StateCollector:
    """Single-process mode: state gauges built at scrape time from the reader."""

    def __init__(self, read: Callable[[], dict[str, list[StateSample]]]) -> None:
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        samples = self._read()
        for name, (doc, labels, _mode) in STATE_GAUGES.items():
            fam = GaugeMetricFamily(name, doc, labels=list(labels))
            for labelvalues, value in samples.get(name, ()):
                fam.add_metric(list(labelvalues), value)
            yield fam


class Metrics:
    def __init__(self, profile: Profile, *, public_models: Sequence[str], model_labels: Sequence[str] = (),
                 max_label_values: int = 64) -> None:
        self.multiprocess = multiprocess_active()
        self.registry = CollectorRegistry(auto_describe=True)
        # In multiprocess mode metrics must not sit in a registry that is scraped directly.
        reg = None if self.multiprocess else self.registry
        self.route = BoundedLabel(max_label_values)
        self.backend = BoundedLabel(max_label_values)
        self.model = set(public_models) | set(model_labels)
        self.requests = Counter("alice_requests", "Chat requests by route, backend, model and status",
                                ("route", "backend", "model", "status"), registry=reg)
        self.latency = Histogram("alice_request_duration_milliseconds", "Whole request, receive to last byte",
                                 ("route",), buckets=profile.latency_buckets_ms, registry=reg)
        self.upstream = Histogram("alice_upstream_duration_milliseconds", "Model call time, by deployment",
                                  ("backend",), buckets=profile.model_buckets_ms, registry=reg)
        self.overhead = Histogram("alice_overhead_milliseconds", "Time Alice added on top of the model call",
                                  ("route",), buckets=profile.overhead_buckets_ms, registry=reg)
        self.ttft = Histogram("alice_time_to_first_token_milliseconds", "Streams: receive to first token sent",
                              ("route",), buckets=profile.model_buckets_ms, registry=reg)
        self.tokens = Counter("alice_tokens", "Tokens by deployment and direction (in = prompt, out = completion)",
                              ("backend", "direction"), registry=reg)
        self.cost = Counter("alice_cost", "Cost by deployment, in the currency of its configured prices",
                            ("backend",), registry=reg)
        self.cache = Counter("alice_cache_requests", "Chat requests by cache tier (miss, exact, semantic, negative)",
                             ("tier",), registry=reg)
        self.attempts = Counter("alice_upstream_attempts", "Calls to deployments by outcome",
                                ("backend", "outcome"), registry=reg)
        self.feedback = Counter("alice_feedback", "Feedback ratings by route and verdict", ("route", "verdict"),
                                registry=reg)
        self.events = Counter("alice_events", "Operational events published, by kind", ("kind",), registry=reg)
        self.log_rows = Counter("alice_requestlog_rows", "Request-log rows by result (written, dropped)",
                                ("result",), registry=reg)
        self._children: dict[tuple[Any, ...], Any] = {}
        self._bundles: dict[tuple[str, str, str, int, str], tuple[Any, ...]] = {}
        self._attempt_children: dict[tuple[str, str], Any] = {}
        self._read_state: Callable[[], dict[str, list[StateSample]]] = dict
        self._gauges: dict[str, Gauge] = {}
        self._gauge_labels: dict[str, set[tuple[str, ...]]] = {}
        if not self.multiprocess:
            self.registry.register(_StateCollector(lambda: self._read_state()))
        else:
            for name, (doc, labels, mode) in STATE_GAUGES.items():
                self._gauges[name] = Gauge(name, doc, labels, registry=None,
                                           multiprocess_mode=mode)  # type: ignore[arg-type]

    def set_state_reader(self, read: Callable[[], dict[str, list[StateSample]]]) -> None:
        self._read_state = read

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(*labels)
        return c

    def _bundle(self, key: tuple[str, str, str, int, str]) -> tuple[Any, ...]:
        """The label children one kind of request touches, resolved once per label combination."""
        route, backend, model, status, cache = key
        route, backend = self.route(route), self.backend(backend)
        child = self._child
        b = (child(self.requests, route, backend, model, str(status)), child(self.latency, route),
             child(self.overhead, route), child(self.cache, cache), child(self.ttft, route),
             child(self.upstream, backend), child(self.tokens, backend, "in"), child(self.tokens, backend, "out"),
             child(self.cost, backend))
        # Bounded: every label above is capped, so the number of bundles is too.
        self._bundles[key] = b
        return b

    def observe(self, route: str, backend: str, model: str, status: int, total_ms: float, overhead_ms: float,
                ttft_ms: float | None, upstream_ms: float | None, cache: str, tokens_in: int, tokens_out: int,
                cost: float, attempts: Sequence[Any]) -> None:
        """One finished chat request (called inline from the observer: keep it cheap)."""
        if model not in self.model:
            model = "other"  # before the key: client-sent names must not grow the bundle cache
        key = (route, backend, model, status, cache)
        b = self._bundles.get(key)
        if b is None:
            if len(self._bundles) > 10_000:
                self._bundles.clear()
            b = self._bundle(key)
        requests, latency, overhead, cache_c, ttft, upstream, t_in, t_out, cost_c = b
        requests.inc()
        latency.observe(total_ms)
        overhead.observe(overhead_ms)
        cache_c.inc()
        if ttft_ms is not None:
            ttft.observe(ttft_ms)
        if upstream_ms is not None:
            upstream.observe(upstream_ms)
        if tokens_in:
            t_in.inc(tokens_in)
        if tokens_out:
            t_out.inc(tokens_out)
        if cost:
            cost_c.inc(cost)
        for a in attempts:
            akey = (a.deployment, a.outcome)
            c = self._attempt_children.get(akey)
            if c is None:
                c = self._attempt_children[akey] = self.attempts.labels(self.backend(a.deployment), a.outcome)
            c.inc()

    def count_feedback(self, route: str, verdict: str) -> None:
        self._child(self.feedback, self.route(route), verdict).inc()

    def count_event(self, kind: str) -> None:
        self._child(self.events, kind).inc()

    def count_log_rows(self, written: int, dropped: int = 0) -> None:
        if written:
            self._child(self.log_rows, "written").inc(written)
        if dropped:
            self._child(self.log_rows, "dropped").inc(dropped)

    def sample_state(self) -> None:
        """Multiprocess mode: write this worker's state gauges (no-op in single-process mode)."""
        if not self.multiprocess:
            return
        for name, samples in self._read_state().items():
            gauge = self._gauges[name]
            fresh = {labels for labels, _ in samples}
            # A state that is no longer reported (e.g. the guardian left "brownout") drops to 0.
            for stale in self._gauge_labels.get(name, set()) - fresh:
                (gauge.labels(*stale) if stale else gauge).set(0)
            self._gauge_labels[name] = self._gauge_labels.get(name, set()) | fresh
            for labels, value in samples:
                (gauge.labels(*labels) if labels else gauge).set(value)

    def render(self) -> tuple[bytes, str]:
        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        self.sample_state()
        reg = CollectorRegistry()
        MultiProcessCollector(reg, os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        return generate_latest(reg), CONTENT_TYPE_LATEST
