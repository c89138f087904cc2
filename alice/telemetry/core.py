"""The telemetry service: one object that sees every finished turn and feeds metrics, the
rolling windows, the request log and the feedback memory, plus its background tasks (log
writer, event sinks, SLO evaluation, event-loop lag, optional backend probes).

`observe(turn)` is the pipeline observer (sync, inline, after the response is ready):
everything it does is a few dict updates and one tuple; the writes happen in batches elsewhere.
`__call__(turn)` is a pipeline stage placed first, only to count requests in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from alice.backends.resilience import BreakerState
from alice.pipeline import Turn
from alice.state.requestlog_store import RequestLogStore
from alice.telemetry.events import AmqpSink, Event, EventBus, RedisStreamSink, Sink, WebhookSink
from alice.telemetry.feedback import FeedbackService, RecentRequests
from alice.telemetry.looplag import LoopLag
from alice.telemetry.metrics import Metrics, StateSample
from alice.telemetry.requestlog import RequestLog, load_redactor
from alice.telemetry.settings import TelemetrySettings
from alice.telemetry.slo import SloEvaluator
from alice.telemetry.windows import Live

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["Telemetry", "last_user_text", "tool_of"]

log = logging.getLogger("alice.telemetry")

_INFLIGHT = "telemetry.inflight"
_MAX_AGENT = 64


def tool_of(turn: Turn) -> str:
    """The tool that answered, if any: `turn.meta["tool"]` (a name, or a dict with "name") set
    by the tools stage, or the route "tool"."""
    t = turn.meta.get("tool")
    if isinstance(t, str):
        return t
    if isinstance(t, dict) and isinstance(t.get("name"), str):
        return t["name"]
    return "tool" if turn.route == "tool" else ""


def last_user_text(turn: Turn) -> str | None:
    if turn.text:
        return turn.text
    for m in reversed(turn.body.get("messages") or ()):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return " ".join(p.get("text", "") for p in c if isinstance(p, dict) and p.get("type") == "text")
    return None


def _flatten(prefix: str, value: Any, out: list[StateSample], cap: int = 64) -> None:
    if len(out) >= cap:
        return
    if isinstance(value, bool):
        out.append(((prefix,), float(value)))
    elif isinstance(value, int | float):
        out.append(((prefix,), float(value)))
    elif isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out, cap)


class Telemetry:
    def __init__(self, gw: Gateway, settings: TelemetrySettings, store: RequestLogStore | None) -> None:
        self.gw = gw
        self.settings = settings
        self.started = time.time()
        slo = settings.slo
        self.live = Live(slot_s=slo.slot_s, horizon_s=max(slo.windows_s), latency_target_ms=slo.latency_p95_ms,
                         max_keys=settings.usage.max_tenants)
        self.metrics = Metrics(gw.profile, public_models=[*gw.chains, "auto"],
                               model_labels=settings.metrics.model_labels,
                               max_label_values=settings.metrics.max_label_values) \
            if settings.metrics.enabled else None
        self.redact = load_redactor() if settings.log.text == "redacted" else None
        if settings.log.text == "redacted" and self.redact is None:
            log.warning("telemetry.log.text is 'redacted' but alice.guard.pii.redact is missing: no text is logged")
        self.log_text = self.redact is not None
        self.requestlog = RequestLog(
            store, flush_interval_s=settings.log.flush_interval_s, max_buffer=settings.log.max_buffer,
            retention_days=settings.log.retention_days, redact=self.redact,
            on_written=self.metrics.count_log_rows if self.metrics else None,
        ) if store is not None else None
        self.recent = RecentRequests()
        self.feedback = FeedbackService(self.recent, self.live, self.metrics, store)
        self.evaluator = SloEvaluator(slo, slo.alerts_for(gw.profile))
        self.slo_report: dict[str, Any] | None = None
        self.events = EventBus(self._sinks(), queue_size=settings.events.queue_size, on_publish=self._on_event)
        self.lag = LoopLag()
        self.inflight = 0
        self.prices = {d.name: (d.price_in_per_1k / 1000, d.price_out_per_1k / 1000) for d in gw.config.deployments}
        self._backend_up: dict[str, bool] = {}
        self._tasks: list[asyncio.Task[None]] = []
        if self.metrics is not None:
            self.metrics.set_state_reader(self.read_state)

    def _sinks(self) -> list[Sink]:
        ev = self.settings.events
        sinks: list[Sink] = []
        if ev.webhook is not None:
            sinks.append(WebhookSink(ev.webhook))
        if ev.amqp is not None:
            sinks.append(AmqpSink(ev.amqp))
        if ev.redis is not None:
            url = ev.redis.url or self.gw.config.state.redis_url
            if not url:
                raise ValueError("telemetry.events.redis needs a url (or state.redis_url)")
            sinks.append(RedisStreamSink(ev.redis, url))
        return sinks

    # --- hot path ---

    async def __call__(self, turn: Turn) -> None:
        """First stage: count the request as in flight until `observe` sees it finish."""
        if _INFLIGHT not in turn.meta:
            turn.meta[_INFLIGHT] = True
            self.inflight += 1

    def observe(self, turn: Turn) -> None:
        meta = turn.meta
        if meta.pop(_INFLIGHT, False):
            self.inflight -= 1
        route = turn.route or "none"
        cache = turn.cache
        backend = turn.backend
        served = backend is not None and cache == "miss"
        label_backend = backend or ("cache" if cache != "miss" else "none")
        # Tokens and cost are what deployments consumed: a cache or tool answer consumed none.
        tokens_in = tokens_out = 0
        cost = 0.0
        upstream_ms = None
        if served:
            usage = turn.usage
            if usage:
                tokens_in = int(usage.get("prompt_tokens") or 0)
                tokens_out = int(usage.get("completion_tokens") or 0)
            upstream_ms = turn.upstream_ms
            price = self.prices.get(backend)  # type: ignore[arg-type]
            if price is not None:
                cost = tokens_in * price[0] + tokens_out * price[1]
        status = turn.status
        ttft = turn.ttft_ms
        total = turn.total_ms
        agent = turn.headers.get("x-alice-agent") or turn.body.get("user")
        if agent is not None:
            agent = str(agent)[:_MAX_AGENT]
        tool = tool_of(turn)
        if self.metrics is not None:
            self.metrics.observe(route, label_backend, turn.model, status, total, turn.overhead_ms, ttft,
                                 upstream_ms, cache, tokens_in, tokens_out, cost, turn.attempts)
        self.live.add(route=route, backend=label_backend, intent=turn.intent, tenant=turn.tenant, agent=agent,
                      status=status, total_ms=total, slo_ms=ttft if turn.stream and ttft is not None else total,
                      overhead_ms=turn.overhead_ms, ttft_ms=ttft, upstream_ms=upstream_ms, cache=cache,
                      tokens_in=tokens_in, tokens_out=tokens_out, cost=cost)
        self.recent.remember(turn.request_id, route, turn.intent or "", tool, turn.tenant)
        if self.requestlog is not None:
            attempts = turn.attempts
            self.requestlog.add((
                turn.request_id, time.time(), turn.tenant, agent, turn.surface, route, turn.model, turn.intent,
                tool or None, backend, turn.upstream_model, cache, status,
                turn.error[:500] if turn.error else None, int(turn.stream), int(turn.complete), total,
                turn.overhead_ms, upstream_ms, ttft, tokens_in, tokens_out, cost,
                orjson.dumps([[a.deployment, a.outcome, round(a.ms, 2), a.status] for a in attempts]).decode()
                if attempts else None,
                last_user_text(turn) if self.log_text else None,
            ))

    # --- scrape-time state ---

    def read_state(self) -> dict[str, list[StateSample]]:
        out: dict[str, list[StateSample]] = {
            "alice_breaker_state": [
                ((name, st.value), 1.0 if r.breaker.state is st else 0.0)
                for name, r in self.gw.runners.items() for st in BreakerState
            ],
            "alice_inflight_requests": [((), float(self.inflight))],
            "alice_event_loop_lag_milliseconds": [((), self.lag.last_ms)],
            "alice_event_loop_lag_max_milliseconds": [((), self.lag.max_ms)],
            "alice_requestlog_buffered_rows": [((), float(self.requestlog.buffered if self.requestlog else 0))],
        }
        state = self.guardian_state()
        if state is not None:
            out["alice_guardian_state"] = [((state,), 1.0)]
        stats = self.cache_stats()
        if stats:
            samples: list[StateSample] = []
            _flatten("", stats, samples)
            out["alice_cache_stat"] = samples
        if self.slo_report is not None:
            burns: list[StateSample] = []
            budgets: list[StateSample] = []
            for name, obj in self.slo_report["objectives"].items():
                budgets.append(((name,), obj["budget_remaining"]))
                for w, data in obj["windows"].items():
                    if data["burn_rate"] is not None:
                        burns.append(((name, w), data["burn_rate"]))
            out["alice_slo_burn_rate"] = burns
            out["alice_slo_budget_remaining"] = budgets
        return out

    def guardian_state(self) -> str | None:
        guardian = getattr(self.gw, "guardian", None)
        state = getattr(guardian, "state", None)
        if state is None:
            return None
        return str(getattr(state, "value", state))

    def cache_stats(self) -> dict[str, Any] | None:
        stats = getattr(getattr(self.gw, "cache", None), "stats", None)
        if not callable(stats):
            return None
        try:
            result = stats()
        except Exception:
            log.exception("cache stats() failed")
            return None
        return result if isinstance(result, dict) else None

    # --- events ---

    def _on_event(self, event: Event) -> None:
        if self.metrics is not None:
            self.metrics.count_event(event.kind)
        # Without an active probe, a backend is "down" while its breaker is open.
        if self.settings.events.health_interval_s == 0 and event.kind.startswith("breaker."):
            name = event.fields.get("deployment")
            if isinstance(name, str):
                if event.kind == "breaker.open" and event.fields.get("previous") == "closed":
                    self._set_backend(name, False, "breaker opened")
                elif event.kind == "breaker.closed":
                    self._set_backend(name, True, "breaker closed")

    def _set_backend(self, name: str, up: bool, reason: str) -> None:
        if self._backend_up.get(name, True) == up:
            return
        self._backend_up[name] = up
        self.events.publish("backend.up" if up else "backend.down", severity="info" if up else "warning",
                            deployment=name, reason=reason)

    async def _probe_backends(self) -> None:
        interval = self.settings.events.health_interval_s
        while True:
            await asyncio.sleep(interval)
            names = list(self.gw.runners)
            checks = await asyncio.gather(*(self.gw.runners[n].backend.ready() for n in names),
                                          return_exceptions=True)
            for name, ok in zip(names, checks, strict=True):
                self._set_backend(name, ok is True, "probe")

    async def evaluate_slo(self) -> dict[str, Any]:
        report = self.evaluator.report(self.live)
        self.slo_report = report
        for key, old, new, item in self.evaluator.changes(report):
            kind_, name = key.split(":", 1)
            fields = {"objective" if kind_ == "objective" else "route": name, "previous": old, "level": new}
            if kind_ == "route":
                self.events.publish("slo.latency", severity="info" if new == "ok" else new, p95_ms=item["p95_ms"],
                                    warning_ms=item["warning_ms"], critical_ms=item["critical_ms"], **fields)
            elif new == "exhausted":
                self.events.publish("slo.budget_exhausted", severity="critical",
                                    budget_remaining=item["budget_remaining"], **fields)
            elif new == "ok":
                self.events.publish("slo.recovered", severity="info", **fields)
            else:
                burns = {w: d["burn_rate"] for w, d in item["windows"].items()}
                self.events.publish("slo.burn", severity=new, burn_rates=burns, **fields)
        return report

    async def _evaluate_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.slo.evaluate_interval_s)
            try:
                await self.evaluate_slo()
            except Exception:
                log.exception("SLO evaluation failed")

    async def _sample_loop(self) -> None:
        assert self.metrics is not None
        while True:  # at once too, so a worker that has not been scraped yet still shows
            self.metrics.sample_state()
            await asyncio.sleep(1.0)

    # --- lifecycle ---

    async def start(self) -> None:
        if self.requestlog is not None:
            await self.requestlog.start()
        await self.events.start()
        await self.lag.start()
        loops = [self._evaluate_loop()]
        if self.settings.events.health_interval_s > 0:
            loops.append(self._probe_backends())
        if self.metrics is not None and self.metrics.multiprocess:
            loops.append(self._sample_loop())
        self._tasks = [asyncio.ensure_future(c) for c in loops]

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await self.lag.close()
        if self.requestlog is not None:
            await self.requestlog.close()
        await self.events.close()
