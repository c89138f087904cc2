"""Monitoring surfaces: /metrics, /api/monitoring/*, /api/feedback and the /dashboard page.

Every figure comes from the telemetry service's rolling windows (or the live objects it reads);
nothing here is estimated or fixed. Windows are chosen with `?window=` (seconds, or 5m / 1h /
6h), capped at the longest SLO window. With several worker processes these JSON figures are
the answering worker's own; /metrics is aggregated over all workers.

`/api/monitoring/circuit-breakers` stays in admin.py and `/api/monitoring/cache` (the cache's own
counters) in the cache area; the windowed cache figures are part of /performance (key "cache").

Every /api/monitoring route is an operator's (admin key, see alice/api/access.py); /api/feedback
takes any client key; /metrics and the static /dashboard files are open (the dashboard asks for
the admin key before it reads the API).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from alice.api import access
from alice.api.errors import BadRequest, NotFound
from alice.api.http import Handler, Request, Response, json_response
from alice.telemetry.windows import Agg, quantile

if TYPE_CHECKING:
    from alice.telemetry.core import Telemetry

__all__ = ["routes"]

DASHBOARD_DIR = Path(__file__).parent / "dashboard"
_ASSETS = {"index.html": b"text/html; charset=utf-8", "dashboard.js": b"text/javascript; charset=utf-8",
           "dashboard.css": b"text/css; charset=utf-8"}
_TOP = 50


def _window(req: Request, tel: Telemetry, default: int = 300) -> int:
    raw = parse_qs(req.query.decode("latin-1")).get("window", [str(default)])[0]
    m = re.fullmatch(r"(\d+)([smh]?)", raw.strip())
    if not m:
        raise BadRequest("window must be seconds or e.g. 5m, 1h, 6h", param="window")
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]
    horizon = max(tel.settings.slo.windows_s)
    if not 0 < seconds <= horizon:
        raise BadRequest(f"window must be between 1 s and {horizon} s", param="window")
    return seconds


def _pcts(hist: dict[int, int]) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {"p50": r(quantile(hist, 0.5)), "p95": r(quantile(hist, 0.95)), "p99": r(quantile(hist, 0.99))}


def _table(groups: dict[str, Agg], seconds: float, top: int = _TOP) -> dict[str, Any]:
    ranked = sorted(groups.items(), key=lambda kv: kv[1].n, reverse=True)[:top]
    return {k: a.summary(seconds) for k, a in ranked}


def routes(tel: Telemetry) -> list[tuple[str, str, Handler]]:
    live, gw = tel.live, tel.gw

    async def metrics(req: Request) -> Response:
        if tel.metrics is None:
            raise NotFound("metrics are disabled (telemetry.metrics.enabled: false)")
        body, ctype = tel.metrics.render()
        return Response(body, 200, ctype.encode())

    def cache_figures(w: int) -> dict[str, Any]:
        m = live.merged(w)
        total = sum(m.cache.values())
        return {
            "window_s": w, "requests": total, "tiers": m.cache,
            "tier_rates": {k: round(v / total, 4) for k, v in m.cache.items()} if total else {},
            "hit_rate": round(m.cache_hits / m.cache_eligible, 4) if m.cache_eligible else None,
            "eligible": m.cache_eligible, "hits": m.cache_hits,
        }

    async def performance(req: Request) -> Response:
        w = _window(req, tel)
        m, span = live.merged(w), live.span(w)
        a = m.all
        return json_response({
            "cache": cache_figures(w),
            "window_s": w, "observed_s": round(span, 3), "uptime_s": round(live.clock() - tel.started, 3),
            "requests": a.n, "rps": round(a.n / span, 3), "errors": a.errors,
            "success_rate": round(1 - a.errors / a.n, 4) if a.n else None,
            "statuses": {str(k): v for k, v in sorted(m.statuses.items())},
            "latency_ms": _pcts(a.lat), "overhead_ms": _pcts(m.overhead), "ttft_ms": _pcts(m.ttft),
            "upstream_ms": _pcts(m.upstream), "tokens_in": a.tokens_in, "tokens_out": a.tokens_out,
            "cost": round(a.cost, 6), "inflight": tel.inflight,
            "event_loop_lag_ms": {"last": round(tel.lag.last_ms, 3), "max_1m": round(tel.lag.max_ms, 3)},
            "request_log": None if tel.requestlog is None else {
                "written": tel.requestlog.written, "buffered": tel.requestlog.buffered,
                "dropped": tel.requestlog.dropped},
        })

    async def routing(req: Request) -> Response:
        w = _window(req, tel)
        m, span = live.merged(w), live.span(w)
        backends = _table(m.backends, span)
        for name, runner in gw.runners.items():
            backends.setdefault(name, Agg().summary(span))["breaker"] = runner.breaker.snapshot()
        return json_response({"window_s": w, "routes": _table(m.routes, span), "intents": _table(m.intents, span),
                              "backends": backends})

    async def usage(req: Request) -> Response:
        w = _window(req, tel)
        m, span = live.merged(w), live.span(w)
        return json_response({"window_s": w, "tenants": _table(m.tenants, span), "agents": _table(m.agents, span)})

    async def timeline(req: Request) -> Response:
        w = _window(req, tel)
        return json_response({"window_s": w, "slot_s": live.slot_s, "points": live.timeline(w)})

    async def slo(req: Request) -> Response:
        return json_response(await tel.evaluate_slo())

    async def guardian(req: Request) -> Response:
        w = _window(req, tel)
        m = live.merged(w)
        g = getattr(gw, "guardian", None)
        snapshot = getattr(g, "snapshot", None)
        refusals = {str(s): n for s, n in m.statuses.items() if s in (401, 403, 413, 429, 503)}
        return json_response({"available": g is not None, "state": tel.guardian_state(),
                              "details": snapshot() if callable(snapshot) else None,
                              "window_s": w, "refusals": refusals})

    async def quality(req: Request) -> Response:
        w = _window(req, tel, default=max(tel.settings.slo.windows_s))
        m = live.merged(w)
        by_route: dict[str, list[int]] = {}
        by_intent: dict[str, list[int]] = {}
        for (route, intent, _tool), counts in m.feedback.items():
            for d, k in ((by_route, route), (by_intent, intent or "(none)")):
                acc = d.setdefault(k, [0, 0, 0])
                for i in range(3):
                    acc[i] += counts[i]

        def fmt(d: dict[str, list[int]]) -> dict[str, Any]:
            return {k: {"good": g, "bad": b, "neutral": n, "precision": round(g / (g + b), 4) if g + b else None}
                    for k, (g, b, n) in d.items()}

        return json_response({"window_s": w, "routes": fmt(by_route), "intents": fmt(by_intent)})

    async def events(req: Request) -> Response:
        return json_response({"recent": [e.to_dict() for e in reversed(tel.events.recent)],
                              "sinks": tel.events.stats()})

    async def reset(req: Request) -> Response:
        live.reset()
        tel.slo_report = None
        tel.evaluator.levels.clear()
        tel.events.publish("monitoring.reset", severity="info")
        return json_response({"reset": True, "note": "rolling windows cleared; Prometheus counters are not reset"})

    async def feedback(req: Request) -> Response:
        return json_response(await tel.feedback.submit(await req.json()), 201)

    async def dashboard(req: Request) -> Response:
        return _asset("index.html")

    async def dashboard_asset(req: Request) -> Response:
        return _asset(req.path.removeprefix("/dashboard/") or "index.html")

    api = "/api/monitoring"
    operator = [
        ("GET", f"{api}/performance", performance),
        ("GET", f"{api}/routing", routing),
        ("GET", f"{api}/usage", usage),
        ("GET", f"{api}/timeline", timeline),
        ("GET", f"{api}/slo", slo),
        ("GET", f"{api}/guardian", guardian),
        ("GET", f"{api}/quality", quality),
        ("GET", f"{api}/events", events),
        ("POST", f"{api}/reset", reset),
    ]
    return [
        *((m, p, access.admin(gw, h)) for m, p, h in operator),
        ("POST", "/api/feedback", access.keyed(gw, feedback)),
        ("GET", "/metrics", metrics),
        ("GET", "/dashboard", dashboard),
        ("GET", "/dashboard/*", dashboard_asset),
    ]


def _asset(name: str) -> Response:
    ctype = _ASSETS.get(name)  # an allow-list: no path from the URL ever reaches the file system
    if ctype is None:
        raise NotFound(f"no dashboard file {name!r}")
    return Response((DASHBOARD_DIR / name).read_bytes(), 200, ctype,
                    [(b"cache-control", b"no-cache"), (b"x-content-type-options", b"nosniff"),
                     (b"content-security-policy",
                      b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")])
