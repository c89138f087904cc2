"""SLOs as good/bad event ratios, their error budgets and burn rates over several windows.

Each objective says which fraction of events must be good:

    latency         p95 < 900 ms  ⇔ ≥ 95 % of answered requests faster than 900 ms
                    (a stream counts by its time to first token: that is what the user waits for)
    success         ≥ 98 % of requests not failed by the gateway (5xx); a client that left (499)
                    is not counted
    cache_hit       ≥ 40 % of answered (< 400) requests served from a cache tier
    tool_precision  ≥ 85 % of rated tool answers rated good (from /api/feedback)

The error budget is the allowed bad fraction (1 − target); the burn rate is the observed bad
fraction divided by it (1.0 spends the budget exactly over the period; 14.4 spends a 6-h
budget in 25 min). The budget period is the longest window. Alerts follow the multi-window
rule of the Google SRE workbook: critical when the short and the middle window both burn
faster than `fast_burn`, warning when the middle and the long window both burn faster than
`slow_burn`, and "exhausted" when the long window's budget is used up. An objective whose
budget is large (cache hit: 60 %) can never reach those burn rates; it alerts by exhaustion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alice.telemetry.settings import RouteAlert, SloSettings
from alice.telemetry.windows import Live, Slot, quantile

__all__ = ["Objective", "SloEvaluator", "budget_remaining", "burn_rate", "objectives", "route_p95_level"]


@dataclass(frozen=True, slots=True)
class Objective:
    name: str
    target: float  # the fraction of events that must be good
    description: str

    def counts(self, s: Slot) -> tuple[int, int]:
        """(bad, total) events of this objective in a slot or merged window."""
        if self.name == "latency":
            return s.slow, s.lat_n
        if self.name == "success":
            return s.slo_failed, s.slo_n
        if self.name == "cache_hit":
            return s.cache_eligible - s.cache_hits, s.cache_eligible
        good = bad = 0
        for (_route, _intent, tool), (g, b, _neutral) in s.feedback.items():
            if tool:
                good += g
                bad += b
        return bad, good + bad


def objectives(cfg: SloSettings) -> list[Objective]:
    return [
        Objective("latency", 0.95, f"p95 < {cfg.latency_p95_ms:g} ms"),
        Objective("success", cfg.success_rate, f"success >= {cfg.success_rate:.1%}"),
        Objective("cache_hit", cfg.cache_hit_rate, f"cache hit rate >= {cfg.cache_hit_rate:.0%}"),
        Objective("tool_precision", cfg.tool_precision, f"tool precision >= {cfg.tool_precision:.0%}"),
    ]


def burn_rate(bad: int, total: int, target: float) -> float | None:
    """Observed bad fraction over the allowed bad fraction; None without events."""
    if total <= 0:
        return None
    return (bad / total) / (1.0 - target)


def budget_remaining(bad: int, total: int, target: float) -> float:
    """Fraction of the period's error budget left (1 = untouched, 0 = spent, < 0 = overspent)."""
    if total <= 0:
        return 1.0
    return 1.0 - bad / ((1.0 - target) * total)


def route_p95_level(p95_ms: float | None, alert: RouteAlert) -> str:
    if p95_ms is None:
        return "ok"
    if p95_ms >= alert.critical_ms:
        return "critical"
    if p95_ms >= alert.warning_ms:
        return "warning"
    return "ok"


class SloEvaluator:
    """Computes the SLO report from the rolling windows and remembers each objective's alert
    level, so that only changes become events."""

    def __init__(self, cfg: SloSettings, route_alerts: dict[str, RouteAlert]) -> None:
        self.cfg = cfg
        self.objectives = objectives(cfg)
        self.route_alerts = route_alerts
        self.levels: dict[str, str] = {}

    def _level(self, burns: list[float | None], totals: list[int], remaining: float) -> str:
        short, mid, long_ = 0, len(burns) // 2 if len(burns) > 2 else 1, len(burns) - 1
        ok = [t >= self.cfg.min_events for t in totals]

        def over(i: int, threshold: float) -> bool:
            b = burns[i]
            return ok[i] and b is not None and b >= threshold

        if ok[long_] and remaining <= 0:
            return "exhausted"
        if over(short, self.cfg.fast_burn) and over(mid, self.cfg.fast_burn):
            return "critical"
        if over(mid, self.cfg.slow_burn) and over(long_, self.cfg.slow_burn):
            return "warning"
        return "ok"

    def report(self, live: Live) -> dict[str, Any]:
        # Only the shortest window needs the per-route tables (route p95 alerts).
        windows = [live.merged(w, full=i == 0) for i, w in enumerate(self.cfg.windows_s)]
        out: dict[str, Any] = {"windows_s": self.cfg.windows_s, "objectives": {}, "routes": {}}
        for obj in self.objectives:
            per_window, burns, totals = {}, [], []
            for w, merged in zip(self.cfg.windows_s, windows, strict=True):
                bad, total = obj.counts(merged)
                burn = burn_rate(bad, total, obj.target)
                burns.append(burn)
                totals.append(total)
                per_window[str(w)] = {
                    "events": total,
                    "bad": bad,
                    "good_ratio": round(1 - bad / total, 4) if total else None,
                    "burn_rate": None if burn is None else round(burn, 3),
                }
            bad, total = obj.counts(windows[-1])
            remaining = budget_remaining(bad, total, obj.target)
            out["objectives"][obj.name] = {
                "description": obj.description,
                "target": obj.target,
                "windows": per_window,
                "budget_remaining": round(remaining, 4),
                "level": self._level(burns, totals, remaining),
            }
        short = windows[0]
        for route, alert in self.route_alerts.items():
            agg = short.routes.get(route)
            p95 = quantile(agg.lat, 0.95) if agg is not None and agg.n >= self.cfg.min_events else None
            out["routes"][route] = {
                "p95_ms": None if p95 is None else round(p95, 3),
                "requests": agg.n if agg is not None else 0,
                "warning_ms": alert.warning_ms,
                "critical_ms": alert.critical_ms,
                "level": route_p95_level(p95, alert),
            }
        return out

    def changes(self, report: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(key, old level, new level, details) for every objective or route whose level changed."""
        found = []
        items = [(f"objective:{k}", v) for k, v in report["objectives"].items()]
        items += [(f"route:{k}", v) for k, v in report["routes"].items()]
        for key, item in items:
            new = item["level"]
            old = self.levels.get(key, "ok")
            if new != old:
                found.append((key, old, new, item))
            self.levels[key] = new
        return found
