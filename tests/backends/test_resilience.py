from alice.backends.resilience import Breaker, BreakerState, RetryBudget, RetrySchedule


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_breaker_opens_after_threshold_and_probes_once():
    clock = Clock()
    changes = []
    b = Breaker(3, (1.0, 2.0), clock=clock, on_change=lambda old, new: changes.append(new))
    for _ in range(3):
        assert b.allow()
        b.failure()
    assert b.state is BreakerState.OPEN
    assert not b.allow()
    clock.t = 1.0
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()  # the single probe
    assert not b.allow() and not b.allow()  # everyone else waits
    b.failure()  # probe failed: open again with the next backoff
    assert b.state is BreakerState.OPEN
    clock.t = 2.5
    assert not b.allow()
    clock.t = 3.0
    assert b.allow()
    b.success()
    assert b.state is BreakerState.CLOSED and b.allow()
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN, BreakerState.HALF_OPEN,
                       BreakerState.CLOSED]


def test_breaker_success_resets_consecutive_count():
    b = Breaker(2, (1.0,), clock=Clock())
    b.failure()
    b.success()
    b.failure()
    assert b.state is BreakerState.CLOSED


def test_released_probe_lets_another_caller_probe():
    clock = Clock()
    b = Breaker(1, (1.0,), clock=clock)
    b.failure()
    clock.t = 1.0
    assert b.allow()
    b.release()
    assert b.allow()


def test_retry_schedule_follows_profile_with_bounded_jitter():
    s = RetrySchedule((1, 1, 2, 3), unit_s=0.5, jitter=0.382)
    assert s.delay(0, rng=lambda: 1.0) == 0.5
    assert abs(s.delay(2, rng=lambda: 0.0) - 1.0 * (1 - 0.382)) < 1e-9
    assert s.delay(10, rng=lambda: 1.0) == 1.5  # past the end: the last delay


def test_retry_budget_stops_hammering():
    clock = Clock()
    budget = RetryBudget(ratio=0.1, min_per_s=1.0, clock=clock)
    spent = sum(budget.try_spend() for _ in range(100))
    assert spent == 10  # the burst capacity, then nothing
    clock.t = 3.0
    assert sum(budget.try_spend() for _ in range(100)) == 3  # refilled at min_per_s
    for _ in range(20):
        budget.record_request()
    assert sum(budget.try_spend() for _ in range(100)) == 2  # 20 requests x 0.1
