import math

import pytest

from alice.telemetry.windows import Live, Slot, _merge_slot, bucket_of, bucket_value, quantile


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def add(live: Live, **kw) -> None:
    base = dict(route="chat", backend="b1", intent=None, tenant="t1", agent=None, status=200, total_ms=10.0,
                slo_ms=10.0, overhead_ms=0.1, ttft_ms=None, upstream_ms=9.0, cache="miss", tokens_in=3,
                tokens_out=5, cost=0.0)
    base.update(kw)
    live.add(**base)


@pytest.mark.parametrize("ms", [0.02, 0.3, 1.0, 7.5, 144.0, 900.0, 10946.0, 89000.0])
def test_bucket_value_is_within_five_percent(ms: float) -> None:
    assert math.isclose(bucket_value(bucket_of(ms)), ms, rel_tol=0.05)


def test_quantile_of_uniform_latencies() -> None:
    hist: dict[int, int] = {}
    for ms in range(1, 1001):
        b = bucket_of(float(ms))
        hist[b] = hist.get(b, 0) + 1
    assert math.isclose(quantile(hist, 0.5), 500, rel_tol=0.06)
    assert math.isclose(quantile(hist, 0.95), 950, rel_tol=0.06)
    assert quantile({}, 0.5) is None


def test_window_sums_only_its_slots_and_old_slots_expire() -> None:
    clock = Clock()
    live = Live(slot_s=10, horizon_s=60, clock=clock)
    add(live, status=200)
    clock.t += 30
    add(live, status=502)
    add(live, status=200, cache="exact")
    assert live.merged(10).all.n == 2  # only the current slot
    assert live.merged(60).all.n == 3
    m = live.merged(60)
    assert m.all.errors == 1 and m.statuses == {200: 2, 502: 1}
    assert m.cache == {"miss": 2, "exact": 1}
    clock.t += 100  # everything is now older than the horizon
    add(live)
    assert live.merged(60).all.n == 1
    assert len(live._slots) == 1


def test_slo_counts() -> None:
    live = Live(slot_s=10, horizon_s=60, latency_target_ms=100, clock=Clock())
    add(live, slo_ms=50)
    add(live, slo_ms=150)  # slow
    add(live, status=500)  # failed: not in latency or cache counts
    add(live, status=499)  # client left: not counted at all
    add(live, status=404, cache="miss")  # answered, not cache-eligible
    add(live, cache="semantic")
    m = live.merged(60)
    assert (m.slo_n, m.slo_failed) == (5, 1)
    assert (m.lat_n, m.slow) == (4, 1)
    assert (m.cache_eligible, m.cache_hits) == (3, 1)


def test_key_cap_folds_overflow_into_other() -> None:
    live = Live(slot_s=10, horizon_s=60, max_keys=2, clock=Clock())
    for t in ("a", "b", "c", "d"):
        add(live, tenant=t)
    tenants = live.merged(60).tenants
    assert set(tenants) == {"a", "b", "other"}
    assert tenants["other"].n == 2


def test_rates_use_the_observed_span() -> None:
    clock = Clock()
    live = Live(slot_s=10, horizon_s=3600, clock=clock)
    clock.t += 20
    for _ in range(40):
        add(live)
    assert live.span(300) == pytest.approx(20)
    assert live.merged(300).all.summary(live.span(300))["rps"] == pytest.approx(2.0)


def test_timeline_points() -> None:
    clock = Clock(1_000_000.0)
    live = Live(slot_s=10, horizon_s=600, clock=clock)
    add(live, total_ms=100)
    clock.t += 10
    add(live, total_ms=200, cache="exact")
    add(live, total_ms=200, cache="miss")
    pts = live.timeline(60)
    assert len(pts) == 6
    assert pts[-1]["rps"] == pytest.approx(0.2)
    assert pts[-1]["cache_hit_rate"] == 0.5
    assert pts[-2]["p50_ms"] == pytest.approx(100, rel=0.05)
    assert pts[0]["rps"] == 0


def test_feedback_counts() -> None:
    live = Live(slot_s=10, horizon_s=60, clock=Clock())
    live.add_feedback("chat", "weather", "weather", 1)
    live.add_feedback("chat", "weather", "weather", -1)
    live.add_feedback("chat", "weather", "weather", 0)
    assert live.merged(60).feedback == {("chat", "weather", "weather"): [1, 1, 1]}


def test_blocks_give_the_same_answer_as_slots() -> None:
    clock = Clock(1_000_000.0)
    live = Live(slot_s=10, horizon_s=21600, clock=clock)
    live.MEMO_S = 0
    for i in range(1000):  # ~2.8 h of traffic, one request every 10 s, varied
        add(live, route=f"r{i % 3}", tenant=f"t{i % 7}", status=500 if i % 11 == 0 else 200,
            total_ms=float(1 + i % 300), cache="exact" if i % 4 == 0 else "miss")
        clock.t += 10
    for seconds in (300, 3600, 21600, 1234):
        via_blocks = live.merged(seconds)
        by_slot = Slot(-1)
        for s in live.slots(seconds):
            _merge_slot(by_slot, s, True)
        assert via_blocks.all.n == by_slot.all.n and via_blocks.all.lat == by_slot.all.lat
        assert {k: a.n for k, a in via_blocks.tenants.items()} == {k: a.n for k, a in by_slot.tenants.items()}
        assert (via_blocks.slo_failed, via_blocks.cache_hits) == (by_slot.slo_failed, by_slot.cache_hits)
    pts = live.timeline(21600)
    step = pts[1]["t"] - pts[0]["t"]
    assert step % 300 == 0 and pts[0]["t"] % 300 == 0  # 6-h steps are whole 5-min blocks
    assert sum(p["rps"] * step for p in pts) == pytest.approx(1000, rel=2e-3)  # rps is rounded


def test_reads_are_memoised_for_a_second() -> None:
    clock = Clock()
    live = Live(slot_s=10, horizon_s=60, clock=clock)
    add(live)
    assert live.merged(60).all.n == 1
    add(live)
    assert live.merged(60).all.n == 1  # same second: the memo
    clock.t += 1.5
    assert live.merged(60).all.n == 2
