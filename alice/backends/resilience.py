"""Per-deployment resilience: circuit breaker, retry schedule, retry budget, phase deadlines."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from alice.config import ResilienceConfig
from alice.profiles import Profile

__all__ = ["Breaker", "BreakerState", "Deadlines", "RetryBudget", "RetrySchedule"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    """closed → open after N consecutive failures → half-open after a backoff, where exactly one
    caller gets to probe; its result closes the breaker or re-opens it with the next backoff."""

    def __init__(
        self,
        failure_threshold: int,
        backoff_s: tuple[float, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.backoff_s = backoff_s
        self._clock = clock
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._trips = 0
        self._open_until = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() >= self._open_until:
            return BreakerState.HALF_OPEN
        return self._state

    def retry_in(self) -> float:
        return max(0.0, self._open_until - self._clock())

    def allow(self) -> bool:
        """May a call go out now? In half-open state only the single probe may."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._probe_in_flight:
            return False
        self._set(BreakerState.HALF_OPEN)
        self._probe_in_flight = True
        return True

    def success(self) -> None:
        self._failures = 0
        self._probe_in_flight = False
        if self._state is not BreakerState.CLOSED:
            self._trips = 0
            self._set(BreakerState.CLOSED)

    def failure(self) -> None:
        self._failures += 1
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        if was_probe or self._failures >= self.failure_threshold:
            self._trip()

    def release(self) -> None:
        """A probe that ended without a verdict (e.g. the caller left) frees the probe slot."""
        self._probe_in_flight = False

    def _trip(self) -> None:
        backoff = self.backoff_s[min(self._trips, len(self.backoff_s) - 1)]
        self._trips += 1
        self._open_until = self._clock() + backoff
        self._set(BreakerState.OPEN)

    def _set(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if old is not new and self._on_change is not None:
            self._on_change(old, new)

    def snapshot(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "consecutive_failures": self._failures,
            "trips": self._trips,
            "retry_in_s": round(self.retry_in(), 3),
        }


class RetrySchedule:
    """Delays between attempts: the profile's sequence × unit, with a jittered fraction."""

    def __init__(self, delays: tuple[float, ...], unit_s: float, jitter: float) -> None:
        self.delays = delays
        self.unit_s = unit_s
        self.jitter = jitter

    def delay(self, retry_index: int, rng: Callable[[], float] = random.random) -> float:
        base = self.delays[min(retry_index, len(self.delays) - 1)] * self.unit_s
        # jitter=1 is "full jitter" (uniform 0…base); smaller values keep most of the delay.
        return base * (1 - self.jitter) + base * self.jitter * rng()


class RetryBudget:
    """Token bucket: each first attempt earns `ratio` tokens, a retry spends one, plus a floor of
    `min_per_s` retries per second, so a dead backend is never hammered by retries."""

    def __init__(self, ratio: float, min_per_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ratio = ratio
        self.min_per_s = min_per_s
        self._clock = clock
        self.capacity = max(1.0, min_per_s * 10)
        self._tokens = self.capacity
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.min_per_s)
        self._last = now

    def record_request(self) -> None:
        self._tokens = min(self.capacity, self._tokens + self.ratio)

    def try_spend(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


@dataclass(frozen=True, slots=True)
class Deadlines:
    connect: float
    headers: float
    first_token: float
    gap: float
    total: float

    @classmethod
    def from_config(cls, profile: Profile, cfg: ResilienceConfig) -> Deadlines:
        t = cfg.timeouts
        return cls(
            connect=t.connect or profile.timeout_connect_s,
            headers=t.headers or profile.timeout_headers_s,
            first_token=t.first_token or profile.timeout_first_token_s,
            gap=t.gap or profile.timeout_gap_s,
            total=t.total or profile.timeout_total_s,
        )
