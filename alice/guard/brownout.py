"""The guardian: NORMAL → BROWNOUT → EMERGENCY with hysteresis, driven by measured load.

Every `interval_s` it samples its signals and turns each into a *pressure* = value / budget:

    process_cpu, process_memory_mb, loop_lag_ms, in_flight, queue_ms   (on by default: Alice itself)
    machine_cpu, machine_memory_mb                                      (opt-in: the whole box)

Each value is the median of its last `smooth_samples` (3) samples: one outlier — a GC pause, a
model loading at start-up, one busy quarter-second — never moves the state on its own, while a
load that stays is seen on the second sample (0.5 s at the default interval).

and reacts to the highest one against the levels (multiples of the budget; by default the
profile's thresholds, fibonacci: 0.382 / 0.618 / 1.618 / 2.618):

    up:    BROWNOUT  at ≥ brownout_soft for `sustain_samples` in a row, or ≥ brownout_hard at once
           EMERGENCY at ≥ emergency_soft sustained, or ≥ emergency_hard at once
    down:  one level at a time, after pressure stayed below recover_emergency (from EMERGENCY) or
           recover_brownout (from BROWNOUT) for `recovery_s`

BROWNOUT degrades: `turn.meta["guardian"] = {"state": "brownout", "degrade": True, "max_tokens": N}`
(routing may step deep → planner → micro, lookups may get cheaper) and max_tokens is capped.
EMERGENCY sheds new chat requests with 503 + Retry-After; requests already admitted finish, and
/health, /ready, /metrics and admin endpoints never pass through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import psutil

from alice.api.errors import Unavailable
from alice.guard.limits import guard_meta
from alice.guard.settings import GuardianSettings
from alice.pipeline import Turn
from alice.profiles import Profile

__all__ = ["Guardian", "GuardianState", "Sampler"]

log = logging.getLogger("alice.guard.guardian")

MB = 1024 * 1024


class GuardianState(StrEnum):
    NORMAL = "normal"
    BROWNOUT = "brownout"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {GuardianState.NORMAL: 0, GuardianState.BROWNOUT: 1, GuardianState.EMERGENCY: 2}
_DOWN = {GuardianState.EMERGENCY: GuardianState.BROWNOUT, GuardianState.BROWNOUT: GuardianState.NORMAL}
_EVENT = {  # (from, to) → event kind
    (GuardianState.NORMAL, GuardianState.BROWNOUT): ("brownout.enter", "warning"),
    (GuardianState.NORMAL, GuardianState.EMERGENCY): ("emergency.enter", "critical"),
    (GuardianState.BROWNOUT, GuardianState.EMERGENCY): ("emergency.enter", "critical"),
    (GuardianState.EMERGENCY, GuardianState.BROWNOUT): ("emergency.exit", "warning"),
    (GuardianState.BROWNOUT, GuardianState.NORMAL): ("brownout.exit", "info"),
}

Listener = Callable[[GuardianState, GuardianState, dict[str, Any]], None]


class Sampler:
    """Reads the raw signal values; only those with a budget are measured."""

    def __init__(self, budgets: dict[str, float]) -> None:
        self.budgets = budgets
        self.process = psutil.Process()
        # psutil's cpu_percent measures since the previous call: prime both counters now.
        self.process.cpu_percent(None)
        psutil.cpu_percent(None)

    def read(self, *, lag_ms: float, in_flight: int, queue_ms: float) -> dict[str, float]:
        b = self.budgets
        out: dict[str, float] = {}
        if "process_cpu" in b:
            out["process_cpu"] = self.process.cpu_percent(None) / 100
        if "process_memory_mb" in b:
            out["process_memory_mb"] = self.process.memory_info().rss / MB
        if "loop_lag_ms" in b:
            out["loop_lag_ms"] = lag_ms
        if "in_flight" in b:
            out["in_flight"] = float(in_flight)
        if "queue_ms" in b:
            out["queue_ms"] = queue_ms
        if "machine_cpu" in b:
            out["machine_cpu"] = psutil.cpu_percent(None) / 100
        if "machine_memory_mb" in b:
            vm = psutil.virtual_memory()
            out["machine_memory_mb"] = (vm.total - vm.available) / MB
        return out


class Guardian:
    def __init__(self, settings: GuardianSettings, profile: Profile,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.levels = settings.levels.resolve(profile)
        self.budgets = {k: float(v) for k, v in settings.signals.model_dump().items() if v is not None}
        self.state = GuardianState.NORMAL
        self.since = time.time()
        self.in_flight = 0
        self.values: dict[str, float] = {}
        self.pressures: dict[str, float] = {}
        self.pressure = 0.0
        self.transitions: deque[dict[str, Any]] = deque(maxlen=settings.history)
        self.listeners: list[Listener] = []
        self.shed = 0  # requests refused in EMERGENCY since start
        self._clock = clock
        self._queue: deque[float] = deque(maxlen=4096)
        self._recent: dict[str, deque[float]] = {}
        self._runs = {"brownout": 0, "emergency": 0}
        self._calm_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._sampler: Sampler | None = None

    # --- the state machine (pure: unit-tested with made-up pressures) ---

    def evaluate(self, pressures: dict[str, float]) -> GuardianState:
        lv, now = self.levels, self._clock()
        self.pressures = pressures
        top = max(pressures, key=lambda k: pressures[k], default="")
        p = pressures.get(top, 0.0)
        self.pressure = p
        self._runs["brownout"] = self._runs["brownout"] + 1 if p >= lv["brownout_soft"] else 0
        self._runs["emergency"] = self._runs["emergency"] + 1 if p >= lv["emergency_soft"] else 0
        sustain = self.settings.sustain_samples
        if p >= lv["emergency_hard"] or self._runs["emergency"] >= sustain:
            wanted = GuardianState.EMERGENCY
        elif p >= lv["brownout_hard"] or self._runs["brownout"] >= sustain:
            wanted = GuardianState.BROWNOUT
        else:
            wanted = GuardianState.NORMAL
        if wanted.rank > self.state.rank:
            self._move(wanted, top, p)
            return self.state
        line = lv["recover_emergency"] if self.state is GuardianState.EMERGENCY else lv["recover_brownout"]
        if self.state is GuardianState.NORMAL or p >= line:
            self._calm_since = None
        elif self._calm_since is None:
            self._calm_since = now
        elif now - self._calm_since >= self.settings.recovery_s:
            self._move(_DOWN[self.state], top, p)
        return self.state

    def _move(self, new: GuardianState, signal: str, pressure: float) -> None:
        old, self.state = self.state, new
        self.since = time.time()
        self._calm_since = None
        info = {"from": old.value, "to": new.value, "time": self.since, "signal": signal,
                "pressure": round(pressure, 3), "value": round(self.values.get(signal, 0.0), 3)}
        self.transitions.append(info)
        log.warning("guardian %s -> %s (%s at %.2f of its budget)", old.value, new.value, signal or "-", pressure)
        for listener in self.listeners:
            try:
                listener(old, new, info)
            except Exception:
                log.exception("guardian listener failed")

    @staticmethod
    def event_for(old: GuardianState, new: GuardianState) -> tuple[str, str]:
        return _EVENT[(old, new)]

    # --- sampling ---

    def sample(self, lag_ms: float) -> GuardianState:
        assert self._sampler is not None
        queue = statistics.median(self._queue) if self._queue else 0.0
        self._queue.clear()
        raw = self._sampler.read(lag_ms=lag_ms, in_flight=self.in_flight, queue_ms=queue)
        return self.evaluate_values(raw)

    def evaluate_values(self, raw: dict[str, float]) -> GuardianState:
        """Smooth each signal (median of its last `smooth_samples`), then evaluate the pressures."""
        n = self.settings.smooth_samples
        for name, value in raw.items():
            recent = self._recent.get(name)
            if recent is None:  # start from calm, so the very first sample is no more trusted than later ones
                recent = self._recent[name] = deque([0.0] * n, maxlen=n)
            recent.append(value)
            self.values[name] = statistics.median(recent)
        return self.evaluate({k: self.values[k] / self.budgets[k] for k in raw})

    async def start(self) -> None:
        if self.settings.enabled and self.budgets:
            self._sampler = Sampler(self.budgets)
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        interval = self.settings.interval_s
        while True:
            started = time.perf_counter()
            await asyncio.sleep(interval)
            lag_ms = max(0.0, (time.perf_counter() - started - interval) * 1000)
            try:
                self.sample(lag_ms)
            except Exception:
                log.exception("guardian sample failed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # --- the request path ---

    def admit(self, turn: Turn) -> None:
        state = self.state
        if state is GuardianState.EMERGENCY:
            self.shed += 1
            raise Unavailable("Alice is overloaded and shedding load; retry later", code="overloaded",
                              retry_after=self.settings.emergency_retry_after_s)
        if state is GuardianState.BROWNOUT:
            cap = self.settings.brownout_max_tokens
            turn.meta["guardian"] = {"state": state.value, "degrade": True, "max_tokens": cap}
            body = dict(turn.body)
            for name in ("max_tokens", "max_completion_tokens"):
                v = body.get(name)
                if isinstance(v, int) and v > cap:
                    body[name] = cap
            if "max_tokens" not in body and "max_completion_tokens" not in body:
                body["max_tokens"] = cap
            turn.body = body
        self._queue.append((time.perf_counter() - turn.received) * 1000)
        self.in_flight += 1
        guard_meta(turn)["in_flight"] = True

    def observe(self, turn: Turn) -> None:
        """Observer: an admitted request has finished (answered, failed or cut)."""
        meta = turn.meta.get("guard")
        if meta is not None and meta.pop("in_flight", False):
            self.in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "since": self.since,
            "enabled": self.settings.enabled,
            "in_flight": self.in_flight,
            "shed": self.shed,
            "pressure": round(self.pressure, 3),
            "signals": {k: {"value": round(self.values.get(k, 0.0), 3), "budget": b,
                            "pressure": round(self.pressures.get(k, 0.0), 3)} for k, b in self.budgets.items()},
            "levels": self.levels,
            "transitions": list(self.transitions),
        }
