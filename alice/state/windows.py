"""Rate-limit windows: sliding request/token logs per subject, daily token counters, and request
budgets per deployment. One port, two adapters; `windows_redis.py` holds the shared one.

Sliding *log*, not a two-bucket estimate: every admitted request is an entry (time, tokens), so a
limit of 100/min admits exactly 100 in any 60-s span. Memory stays bounded by the limit itself
(at most `rpm` entries, or `tpm` entries since each reserves at least one token).

Token limits work by reservation: `admit` books an estimate, `reconcile` later moves that entry
(and the day's counter) by the difference to the real usage.

    WindowStore (protocol)
    ├── MemoryWindows   in-process; daily counters also saved to SQLite so a restart keeps them
    └── RedisWindows    (windows_redis.py) one Lua script per check, atomic across replicas
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["MemoryWindows", "Verdict", "WindowStore", "day_number", "seconds_to_day_end"]

log = logging.getLogger("alice.state")

DAY_S = 86400
FLUSH_S = 5.0  # how often the embedded daily counters are saved (and at shutdown)


def day_number(now: float | None = None) -> int:
    """Days since the epoch (UTC): daily budgets roll over at 00:00 UTC."""
    return int((time.time() if now is None else now) // DAY_S)


def seconds_to_day_end(now: float | None = None) -> float:
    now = time.time() if now is None else now
    return DAY_S - now % DAY_S


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""  # which limit refused: rpm | tpm | daily
    retry_after: float = 0.0  # seconds until the request could pass


ADMITTED = Verdict(True)


class WindowStore(Protocol):
    async def admit(self, rid: str, subject: str, *, window_s: float, rpm: int | None, tpm: int | None,
                    tokens: int, daily_subject: str | None, daily: int | None) -> Verdict:
        """Check every limit and, only if all pass, book the request (all or nothing)."""
        ...

    async def reconcile(self, rid: str, subject: str, daily_subject: str | None, delta: int) -> None:
        """Move a booked reservation by `delta` tokens (negative: the call used fewer)."""
        ...

    async def take_deployment(self, rid: str, budgets: list[tuple[str, int]], window_s: float) -> tuple[int, float]:
        """Book one request on the first deployment (in order) that has room; returns its index,
        or -1 and the seconds until the earliest one frees up."""
        ...

    async def release_deployment(self, rid: str, name: str) -> None: ...

    async def record_deployment(self, name: str, n: int, window_s: float) -> None:
        """Count calls made without a booking (fall-overs, retries) after the fact."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class _Log:
    """One subject's sliding log: admitted requests in time order with their booked tokens."""

    __slots__ = ("amounts", "entries", "tokens")

    def __init__(self) -> None:
        self.entries: deque[tuple[float, str]] = deque()
        self.amounts: dict[str, int] = {}
        self.tokens = 0

    def trim(self, now: float, window_s: float) -> None:
        cutoff = now - window_s
        entries = self.entries
        while entries and entries[0][0] <= cutoff:
            _, rid = entries.popleft()
            self.tokens -= self.amounts.pop(rid, 0)

    def wait_for_tokens(self, need: int, now: float, window_s: float) -> float:
        """Seconds until `need` booked tokens have left the window."""
        freed = 0
        for ts, rid in self.entries:
            freed += self.amounts.get(rid, 0)
            if freed >= need:
                return ts + window_s - now
        return window_s

    def add(self, now: float, rid: str, tokens: int) -> None:
        self.entries.append((now, rid))
        self.amounts[rid] = tokens
        self.tokens += tokens


class MemoryWindows:
    """Single-process windows. Every method is synchronous underneath (no await between check and
    book), so concurrent requests on one event loop can never both take the last slot."""

    def __init__(self, daily_path: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self._logs: dict[str, _Log] = {}
        self._deployments: dict[str, _Log] = {}
        self._daily: dict[tuple[str, int], int] = {}
        self._dirty: set[tuple[str, int]] = set()
        self._daily_path = daily_path
        self._clock = clock
        self._seq = 0
        self._task: asyncio.Task[None] | None = None

    def _log(self, table: dict[str, _Log], name: str) -> _Log:
        log = table.get(name)
        if log is None:
            log = table[name] = _Log()
        return log

    async def admit(self, rid: str, subject: str, *, window_s: float, rpm: int | None, tpm: int | None,
                    tokens: int, daily_subject: str | None, daily: int | None) -> Verdict:
        now = self._clock()
        log = self._log(self._logs, subject) if (rpm or tpm) else None
        if log is not None:
            log.trim(now, window_s)
            if rpm and len(log.entries) + 1 > rpm:
                return Verdict(False, "rpm", log.entries[0][0] + window_s - now)
            if tpm and log.tokens + tokens > tpm:
                return Verdict(False, "tpm", log.wait_for_tokens(log.tokens + tokens - tpm, now, window_s))
        day_key = (daily_subject, day_number(now)) if daily and daily_subject else None
        if day_key is not None and self._daily.get(day_key, 0) + tokens > (daily or 0):
            return Verdict(False, "daily", seconds_to_day_end(now))
        if log is not None:
            log.add(now, rid, tokens)
        if day_key is not None:
            self._daily[day_key] = self._daily.get(day_key, 0) + tokens
            self._dirty.add(day_key)
        return ADMITTED

    async def reconcile(self, rid: str, subject: str, daily_subject: str | None, delta: int) -> None:
        if not delta:
            return
        log = self._logs.get(subject)
        if log is not None and rid in log.amounts:
            log.amounts[rid] += delta
            log.tokens += delta
        if daily_subject is not None:
            day_key = (daily_subject, day_number(self._clock()))
            if day_key in self._daily:
                self._daily[day_key] = max(0, self._daily[day_key] + delta)
                self._dirty.add(day_key)

    async def take_deployment(self, rid: str, budgets: list[tuple[str, int]], window_s: float) -> tuple[int, float]:
        now = self._clock()
        soonest = window_s
        for i, (name, rpm) in enumerate(budgets):
            log = self._log(self._deployments, name)
            log.trim(now, window_s)
            if len(log.entries) < rpm:
                log.add(now, rid, 1)
                return i, 0.0
            soonest = min(soonest, log.entries[0][0] + window_s - now)
        return -1, soonest

    async def release_deployment(self, rid: str, name: str) -> None:
        log = self._deployments.get(name)
        if log is not None and log.amounts.pop(rid, None) is not None:
            log.entries = deque(e for e in log.entries if e[1] != rid)

    async def record_deployment(self, name: str, n: int, window_s: float) -> None:
        log = self._log(self._deployments, name)
        now = self._clock()
        log.trim(now, window_s)
        for _ in range(n):
            self._seq += 1
            log.add(now, f"after:{self._seq}", 1)

    def deployment_count(self, name: str, window_s: float) -> int:
        log = self._deployments.get(name)
        if log is None:
            return 0
        log.trim(self._clock(), window_s)
        return len(log.entries)

    def daily_used(self, subject: str) -> int:
        return self._daily.get((subject, day_number(self._clock())), 0)

    # --- persistence of the daily counters (the only part worth keeping across a restart) ---

    def _db(self) -> sqlite3.Connection:
        assert self._daily_path is not None
        self._daily_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._daily_path, timeout=10)
        conn.execute("CREATE TABLE IF NOT EXISTS daily_tokens (subject TEXT, day INTEGER, tokens INTEGER, "
                     "PRIMARY KEY (subject, day))")
        return conn

    def _load(self, today: int) -> dict[tuple[str, int], int]:
        with self._db() as conn:
            conn.execute("DELETE FROM daily_tokens WHERE day < ?", (today,))
            rows = conn.execute("SELECT subject, day, tokens FROM daily_tokens WHERE day = ?", (today,))
            return {(s, d): t for s, d, t in rows}

    def _save(self, rows: list[tuple[str, int, int]]) -> None:
        with self._db() as conn:
            conn.executemany("INSERT OR REPLACE INTO daily_tokens VALUES (?, ?, ?)", rows)

    async def start(self) -> None:
        if self._daily_path is not None:
            loaded = await asyncio.to_thread(self._load, day_number(self._clock()))
            for k, v in loaded.items():
                self._daily[k] = self._daily.get(k, 0) + v
            self._task = asyncio.ensure_future(self._flush_every(FLUSH_S))

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.flush()
            except Exception:
                log.exception("could not save the daily token counters; will retry")

    async def flush(self) -> None:
        if self._daily_path is None or not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        rows = [(s, d, self._daily[(s, d)]) for s, d in dirty if (s, d) in self._daily]
        today = day_number(self._clock())
        for k in [k for k in self._daily if k[1] < today]:
            del self._daily[k]
        try:
            await asyncio.to_thread(self._save, rows)
        except BaseException:
            self._dirty |= dirty
            raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
