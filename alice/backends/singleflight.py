"""Identical in-flight requests share one upstream call.

`SingleFlight.call` shares one awaitable result; `SingleFlight.stream` shares one `Broadcast`
whose frames every subscriber receives from the start (late joiners replay what was sent). The
shared work runs in its own task, so one caller leaving does not cancel it for the others; the
last caller to leave cancels it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["Broadcast", "SingleFlight"]

T = TypeVar("T")


class Broadcast:
    """Frames produced once and replayed to every subscriber. `meta` is set by the producer before
    its first frame (e.g. which deployment answered); an error before any frame is raised to every
    subscriber, which can still answer with a clean HTTP error."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.meta: dict[str, Any] = {}
        self.done = False
        self.error: BaseException | None = None
        self._wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.subscribers = 0

    def publish(self, frame: bytes) -> None:
        self.frames.append(frame)
        self._notify()

    def close(self, error: BaseException | None = None) -> None:
        self.done = True
        self.error = error
        self._notify()

    def _notify(self) -> None:
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    async def subscribe(self) -> AsyncIterator[bytes]:
        i = 0
        while True:
            if i < len(self.frames):
                i += 1
                yield self.frames[i - 1]
                continue
            if self.done:
                if self.error is not None and i == 0:
                    raise self.error
                return
            await self._wake.wait()


class _Flight(Generic[T]):
    __slots__ = ("task", "waiters")

    def __init__(self, task: asyncio.Future[T]) -> None:
        self.task = task
        self.waiters = 0


class SingleFlight:
    def __init__(self) -> None:
        self._calls: dict[Hashable, _Flight[Any]] = {}
        self._streams: dict[Hashable, Broadcast] = {}

    def __len__(self) -> int:
        return len(self._calls) + len(self._streams)

    async def call(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """Run `fn` once for all concurrent callers with `key`; returns (result, shared)."""
        flight = self._calls.get(key)
        shared = flight is not None
        if flight is None:
            flight = _Flight(asyncio.ensure_future(fn()))
            self._calls[key] = flight
            flight.task.add_done_callback(lambda _t, f=flight: self._forget(self._calls, key, f))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task), shared
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                flight.task.cancel()

    def stream(self, key: Hashable, produce: Callable[[Broadcast], Awaitable[None]]) -> tuple[Broadcast, bool]:
        """Join the broadcast for `key`, starting `produce(broadcast)` if there is none."""
        bc = self._streams.get(key)
        if bc is not None:
            return bc, True
        bc = Broadcast()
        self._streams[key] = bc
        bc.task = asyncio.ensure_future(produce(bc))
        bc.task.add_done_callback(lambda _t, b=bc: self._forget(self._streams, key, b))
        return bc, False

    @staticmethod
    def _forget(table: dict[Hashable, Any], key: Hashable, value: Any) -> None:
        if table.get(key) is value:
            del table[key]

    @staticmethod
    async def follow(bc: Broadcast) -> AsyncIterator[bytes]:
        """Iterate a broadcast as one subscriber; the last one to leave early cancels the producer."""
        bc.subscribers += 1
        try:
            async for frame in bc.subscribe():
                yield frame
        finally:
            bc.subscribers -= 1
            if bc.subscribers == 0 and bc.task is not None and not bc.task.done():
                bc.task.cancel()
