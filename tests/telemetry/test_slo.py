import pytest

from alice.profiles import FIBONACCI_PROFILE
from alice.telemetry.settings import RouteAlert, SloSettings
from alice.telemetry.slo import SloEvaluator, budget_remaining, burn_rate, route_p95_level
from alice.telemetry.windows import Live


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def add(live: Live, n: int, **kw) -> None:
    base = dict(route="chat", backend="b", intent=None, tenant="t", agent=None, status=200, total_ms=10.0,
                slo_ms=10.0, overhead_ms=0.1, ttft_ms=None, upstream_ms=None, cache="miss", tokens_in=0,
                tokens_out=0, cost=0.0)
    base.update(kw)
    for _ in range(n):
        live.add(**base)


def test_burn_rate_arithmetic() -> None:
    # 98 % success target: 2 % budget. 4 % failing burns twice as fast as allowed.
    assert burn_rate(4, 100, 0.98) == pytest.approx(2.0)
    assert burn_rate(0, 100, 0.98) == 0.0
    assert burn_rate(0, 0, 0.98) is None
    # p95 latency: 5 % may be slow; 10 % slow = burn 2.
    assert burn_rate(10, 100, 0.95) == pytest.approx(2.0)
    # cache hit >= 40 %: misses may be 60 %; all misses = burn 1.667 (can never reach 14.4)
    assert burn_rate(100, 100, 0.40) == pytest.approx(1 / 0.6)


def test_budget_remaining_arithmetic() -> None:
    assert budget_remaining(0, 1000, 0.98) == 1.0
    assert budget_remaining(10, 1000, 0.98) == pytest.approx(0.5)  # 10 of 20 allowed failures
    assert budget_remaining(20, 1000, 0.98) == pytest.approx(0.0)
    assert budget_remaining(40, 1000, 0.98) == pytest.approx(-1.0)
    assert budget_remaining(0, 0, 0.98) == 1.0


def test_route_level_uses_profile_thresholds() -> None:
    p = FIBONACCI_PROFILE
    alert = RouteAlert(warning_ms=p.slo_p95_warning_ms, critical_ms=p.slo_p95_critical_ms)
    assert (alert.warning_ms, alert.critical_ms) == (144, 377)
    assert route_p95_level(100, alert) == "ok"
    assert route_p95_level(144, alert) == "warning"
    assert route_p95_level(377, alert) == "critical"
    assert route_p95_level(None, alert) == "ok"
    assert SloSettings().alerts_for(FIBONACCI_PROFILE) == {"micro": alert}


def _evaluator(**kw) -> tuple[SloEvaluator, Live, Clock]:
    cfg = SloSettings(windows_s=[300, 3600, 21600], min_events=10, **kw)
    clock = Clock()
    live = Live(slot_s=cfg.slot_s, horizon_s=21600, latency_target_ms=cfg.latency_p95_ms, clock=clock)
    live.MEMO_S = 0  # the fake clock stands still: read fresh every time
    return SloEvaluator(cfg, cfg.alerts_for(FIBONACCI_PROFILE)), live, clock


def test_report_figures_and_levels() -> None:
    ev, live, _ = _evaluator()
    add(live, 80, cache="exact")
    add(live, 15, total_ms=1000, slo_ms=1000)  # slow
    add(live, 5, status=503)  # failed
    r = ev.report(live)
    success = r["objectives"]["success"]
    assert success["windows"]["300"] == {"events": 100, "bad": 5, "good_ratio": 0.95, "burn_rate": 2.5}
    assert success["budget_remaining"] == pytest.approx(1 - 5 / 2)
    assert success["level"] == "exhausted"
    lat = r["objectives"]["latency"]
    assert lat["windows"]["300"]["events"] == 95 and lat["windows"]["300"]["bad"] == 15
    assert lat["windows"]["300"]["burn_rate"] == pytest.approx((15 / 95) / 0.05, abs=1e-3)
    cache = r["objectives"]["cache_hit"]
    assert cache["windows"]["300"]["good_ratio"] == pytest.approx(80 / 95, abs=1e-4)
    assert cache["level"] == "ok"
    assert r["objectives"]["tool_precision"]["windows"]["300"]["events"] == 0


def test_fast_burn_is_critical_only_when_short_and_mid_windows_agree() -> None:
    ev, live, clock = _evaluator(success_rate=0.5)  # budget 50 %: exhaustion needs > half failing
    add(live, 1000)  # an hour of good traffic long ago
    clock.t += 3000
    add(live, 20, status=500)
    add(live, 20)
    r = ev.report(live)
    s = r["objectives"]["success"]
    assert s["windows"]["300"]["burn_rate"] == pytest.approx(1.0)
    assert s["level"] == "ok"


def test_fast_burn_critical_when_short_and_mid_windows_burn() -> None:
    ev, live, clock = _evaluator()
    add(live, 10_000)  # good traffic two hours ago: in the 6-h window only
    clock.t += 7200
    add(live, 60)
    add(live, 40, status=500)  # 40 % failing now: burn 20 on 5 min and 1 h
    s = ev.report(live)["objectives"]["success"]
    assert s["windows"]["300"]["burn_rate"] == pytest.approx(20.0)
    assert s["windows"]["3600"]["burn_rate"] == pytest.approx(20.0)
    assert s["budget_remaining"] == pytest.approx(1 - 40 / (0.02 * 10_100), abs=1e-3)
    assert s["level"] == "critical"


def test_slow_burn_warning_and_transitions() -> None:
    ev, live, clock = _evaluator(slow_burn=1.5)
    add(live, 10_000)
    clock.t += 7200
    add(live, 970)
    add(live, 30, status=500)  # 3 % failing now: burn 1.5 on 1 h; 6 h: 30/11000 → burn 0.14
    assert ev.report(live)["objectives"]["success"]["level"] == "ok"
    ev2, live2, _ = _evaluator(slow_burn=1.5)
    add(live2, 970)
    add(live2, 30, status=500)  # same rate on every window, budget 2 % → 6 h window exhausted
    assert ev2.report(live2)["objectives"]["success"]["level"] == "exhausted"
    ev3, live3, _ = _evaluator(slow_burn=0.5, success_rate=0.8)
    add(live3, 90)
    add(live3, 10, status=500)  # 10 % failing, budget 20 % → burn 0.5 everywhere, 50 % budget left
    r3 = ev3.report(live3)
    assert r3["objectives"]["success"]["level"] == "warning"
    assert ("objective:success", "ok", "warning") in [c[:3] for c in ev3.changes(r3)]
    assert ev3.changes(r3) == []  # no change, no event


def test_min_events_suppresses_alerts() -> None:
    ev, live, _ = _evaluator()
    add(live, 5, status=500)  # 100 % failing but only 5 events (< min_events 10)
    assert ev.report(live)["objectives"]["success"]["level"] == "ok"


def test_route_p95_alert() -> None:
    ev, live, _ = _evaluator()
    add(live, 50, route="micro", total_ms=200)
    r = ev.report(live)["routes"]["micro"]
    assert r["level"] == "warning"
    assert r["p95_ms"] == pytest.approx(200, rel=0.05)
    add(live, 200, route="micro", total_ms=500)
    assert ev.report(live)["routes"]["micro"]["level"] == "critical"


def test_tool_precision_from_feedback() -> None:
    ev, live, _ = _evaluator()
    for _ in range(17):
        live.add_feedback("chat", "weather", "weather", 1)
    for _ in range(3):
        live.add_feedback("chat", "weather", "weather", -1)
    for _ in range(5):
        live.add_feedback("chat", "smalltalk", "", -1)  # not a tool answer
    tp = ev.report(live)["objectives"]["tool_precision"]
    assert tp["windows"]["300"]["events"] == 20
    assert tp["windows"]["300"]["good_ratio"] == 0.85
    assert tp["budget_remaining"] == pytest.approx(0.0, abs=1e-9)


def test_settings_validation() -> None:
    with pytest.raises(ValueError):
        SloSettings(windows_s=[300])
    with pytest.raises(ValueError):
        SloSettings(windows_s=[305, 3600])
