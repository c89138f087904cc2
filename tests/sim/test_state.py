import time

import pytest

from alice.sim import DEFAULT_ANSWER, SimSettings, behaviour_of
from alice.sim.state import SimState, body_hash


def _record(state: SimState, model: str) -> None:
    state.record(model=model, behaviour="ok", stream=False, status=200, request_id=None, body_hash=None)


def test_log_is_bounded_and_keeps_the_newest():
    state = SimState(log_attempts=True, log_max=3)
    for i in range(5):
        _record(state, f"ok:{i}")
    assert [a["model"] for a in state.attempts] == ["ok:2", "ok:3", "ok:4"]


def test_log_can_be_disabled():
    state = SimState(log_attempts=False, log_max=10)
    _record(state, "ok")
    assert list(state.attempts) == []


def test_fail_once_per_key_until_reset():
    state = SimState(log_attempts=True, log_max=10)
    assert state.fail_once("a") is True
    assert state.fail_once("a") is False
    assert state.fail_once("b") is True
    state.reset()
    assert state.fail_once("a") is True


def test_flap_window_opens_at_the_first_request_per_model():
    state = SimState(log_attempts=True, log_max=10)
    assert state.flapping("flap", 0.05) is True
    time.sleep(0.06)
    assert state.flapping("flap", 0.05) is False
    assert state.flapping("flap:other", 0.05) is True  # its own clock
    state.reset()
    assert state.flapping("flap", 0.05) is True


def test_body_hash_ignores_key_order_but_not_content():
    assert body_hash({"a": 1, "b": [1, 2]}) == body_hash({"b": [1, 2], "a": 1})
    assert body_hash({"a": 1}) != body_hash({"a": 2})


def test_ids_are_unique():
    state = SimState(log_attempts=False, log_max=1)
    assert len({state.next_id() for _ in range(100)}) == 100


def test_behaviour_names():
    assert behaviour_of("ok") == "ok"
    assert behaviour_of("ok:primary") == "ok"
    assert behaviour_of("429-retry-after:x:y") == "429-retry-after"
    assert behaviour_of("ok@name") is None
    assert behaviour_of("gpt-4o") is None


def test_settings_defaults_and_validation():
    s = SimSettings()
    assert s.answer == DEFAULT_ANSWER and len(DEFAULT_ANSWER.split()) == 20
    with pytest.raises(ValueError, match="stall_s"):
        SimSettings(stall_s=-1)
    with pytest.raises(ValueError, match="log_max"):
        SimSettings(log_max=0)


def test_public_surface():
    import alice.sim

    assert alice.sim.__all__ == sorted(alice.sim.__all__)
    assert all(hasattr(alice.sim, name) for name in alice.sim.__all__)
