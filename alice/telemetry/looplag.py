"""Event-loop lag: how late a short sleep wakes up. Anything blocking the loop shows here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

__all__ = ["LoopLag"]


class LoopLag:
    def __init__(self, interval_s: float = 0.25, keep_s: float = 60.0) -> None:
        self.interval_s = interval_s
        self.last_ms = 0.0
        self._recent: deque[float] = deque(maxlen=max(1, int(keep_s / interval_s)))
        self._task: asyncio.Task[None] | None = None

    @property
    def max_ms(self) -> float:
        return max(self._recent, default=0.0)

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            self.last_ms = max(0.0, (time.perf_counter() - t0 - self.interval_s) * 1000)
            self._recent.append(self.last_ms)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
