"""The guardian's state machine (made-up pressures, fake clock) and its sampler."""

from __future__ import annotations

import asyncio

import pytest

from alice.guard.brownout import Guardian, GuardianState, Sampler
from alice.guard.settings import GuardianSettings, Levels
from alice.profiles import get_profile

N, B, E = GuardianState.NORMAL, GuardianState.BROWNOUT, GuardianState.EMERGENCY


def guardian(clock, **kw) -> Guardian:
    settings = GuardianSettings(**{"sustain_samples": 3, "recovery_s": 5.0, **kw})
    return Guardian(settings, get_profile("fibonacci"), clock=clock)


def feed(g, clock, pressures, step=0.25):
    states = []
    for p in pressures:
        clock.advance(step)
        states.append(g.evaluate({"in_flight": p}))
    return states


def test_levels_come_from_the_profile():
    lv = Levels().resolve(get_profile("fibonacci"))
    assert lv == {"brownout_soft": 0.618, "brownout_hard": 1.0, "emergency_soft": 1.618, "emergency_hard": 2.618,
                  "recover_emergency": 1.0, "recover_brownout": 0.382}
    assert Levels().resolve(get_profile("standard"))["brownout_soft"] == 0.75


def test_levels_must_be_ordered():
    with pytest.raises(ValueError, match="not ordered"):
        Levels(brownout_soft=0.9, recover_brownout=0.95).resolve(get_profile("fibonacci"))


def test_soft_level_needs_sustained_samples(clock):
    g = guardian(clock)
    assert feed(g, clock, [0.7, 0.7, 0.5, 0.7, 0.7]) == [N] * 5  # the dip resets the run
    assert feed(g, clock, [0.7]) == [B]


def test_hard_level_acts_at_once(clock):
    g = guardian(clock)
    assert feed(g, clock, [1.0]) == [B]
    g2 = guardian(clock)
    assert feed(g2, clock, [2.7]) == [E]


def test_emergency_soft_sustained(clock):
    g = guardian(clock)
    assert feed(g, clock, [1.7, 1.7, 1.7]) == [B, B, E]


def test_recovery_needs_calm_below_the_lower_line_for_recovery_s(clock):
    g = guardian(clock)
    feed(g, clock, [3.0])
    assert g.state is E
    # Below emergency_soft but above recover_emergency (1.0): stays in EMERGENCY (hysteresis).
    assert set(feed(g, clock, [1.2] * 40)) == {E}
    # Calm (< 1.0) for 5 s: one step down, to BROWNOUT — not straight to NORMAL.
    states = feed(g, clock, [0.2] * 21)
    assert states[-1] is B and E in states
    # BROWNOUT needs its own 5 s below 0.382.
    states = feed(g, clock, [0.2] * 21)
    assert states[-1] is N
    assert [(t["from"], t["to"]) for t in g.transitions] == [("normal", "emergency"), ("emergency", "brownout"),
                                                              ("brownout", "normal")]


def test_a_spike_during_recovery_restarts_the_calm_timer(clock):
    g = guardian(clock)
    feed(g, clock, [1.0])
    feed(g, clock, [0.1] * 16)  # 4 s calm
    feed(g, clock, [0.5])  # above recover_brownout: the timer restarts, no new transition
    assert feed(g, clock, [0.1] * 19)[-1] is B  # 4.75 s calm
    assert feed(g, clock, [0.1] * 2)[-1] is N


def test_listeners_and_events_for_each_transition(clock):
    g = guardian(clock)
    seen = []
    g.listeners.append(lambda old, new, info: seen.append((old, new, info["signal"])))
    g.listeners.append(lambda *a: 1 / 0)  # a broken listener never stops the guardian
    feed(g, clock, [1.0, 3.0])
    assert seen == [(N, B, "in_flight"), (B, E, "in_flight")]
    assert Guardian.event_for(N, B) == ("brownout.enter", "warning")
    assert Guardian.event_for(B, E) == ("emergency.enter", "critical")
    assert Guardian.event_for(B, N) == ("brownout.exit", "info")


def test_highest_pressure_wins(clock):
    g = guardian(clock)
    clock.advance(1)
    g.evaluate({"process_cpu": 0.1, "loop_lag_ms": 1.1, "in_flight": 0.0})
    assert g.state is B and g.transitions[-1]["signal"] == "loop_lag_ms"


def test_sampler_reads_only_budgeted_signals():
    s = Sampler({"process_cpu": 1.0, "process_memory_mb": 100.0, "in_flight": 10.0, "machine_memory_mb": 1.0,
                 "machine_cpu": 0.9})
    sum(i * i for i in range(200_000))  # some CPU for the process counter to see
    values = s.read(lag_ms=3.0, in_flight=4, queue_ms=9.0)
    assert set(values) == {"process_cpu", "process_memory_mb", "in_flight", "machine_memory_mb", "machine_cpu"}
    assert values["in_flight"] == 4 and values["process_memory_mb"] > 10 and values["machine_memory_mb"] > 10
    assert 0 < values["process_cpu"] and 0 <= values["machine_cpu"] <= 1


def test_one_outlier_sample_never_moves_the_state(clock):
    g = guardian(clock, signals={"loop_lag_ms": 100})
    for lag in (5, 2800, 4, 6, 3):  # one stall (a model loading, a GC pause) among calm samples
        clock.advance(0.25)
        assert g.evaluate_values({"loop_lag_ms": lag}) is N
    clock.advance(0.25)
    g.evaluate_values({"loop_lag_ms": 300})
    clock.advance(0.25)
    assert g.evaluate_values({"loop_lag_ms": 300}) is E  # a stall that stays: the second sample acts
    assert g.values["loop_lag_ms"] == 300


async def test_sampler_loop_measures_event_loop_lag():
    import time

    g = Guardian(GuardianSettings(interval_s=0.05, sustain_samples=1, recovery_s=0.1,
                                  signals={"loop_lag_ms": 50, "process_cpu": None, "process_memory_mb": None,
                                           "in_flight": None, "queue_ms": None}), get_profile("fibonacci"))
    await g.start()
    try:
        await asyncio.sleep(0.12)
        for _ in range(3):  # the loop keeps stalling: every sample wakes ~150 ms late
            time.sleep(0.15)  # noqa: ASYNC251 - blocking the loop is the point
            await asyncio.sleep(0.06)
        assert g.state is not N
        assert any(t["signal"] == "loop_lag_ms" for t in g.transitions)
    finally:
        await g.close()


def test_machine_signals_are_opt_in():
    s = GuardianSettings().signals
    assert s.machine_cpu is None and s.machine_memory_mb is None
    assert s.process_cpu and s.loop_lag_ms and s.in_flight
