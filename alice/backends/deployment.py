"""One deployment with its breaker, retry schedule and retry budget around a backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from alice.backends.base import Backend, Chunk, Completion
from alice.backends.errors import BreakerOpen, Final, PhaseTimeout, Retryable, Throttled
from alice.backends.resilience import Breaker, Deadlines, RetryBudget, RetrySchedule

__all__ = ["Attempt", "DeploymentRunner", "OpenStream"]

T = TypeVar("T")


@dataclass(slots=True)
class Attempt:
    """One call to one deployment, kept on the request for the log, metrics and tests."""

    deployment: str
    outcome: str  # "ok" or the error class name
    ms: float
    status: int | None = None


@dataclass(slots=True)
class OpenStream:
    """A stream past its commit point: the chunks read so far (up to and including the first one
    with content), the iterator that yields the rest, and when this attempt began (the total
    deadline is per attempt: time lost on earlier attempts is not taken from the one that answers)."""

    held: list[Chunk]
    rest: AsyncIterator[Chunk]
    started: float


def _has_content(chunk: Chunk) -> bool:
    for choice in chunk.data.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or delta.get("function_call") or choice.get("finish_reason"):
            return True
    return False


class DeploymentRunner:
    def __init__(
        self,
        backend: Backend,
        breaker: Breaker,
        schedule: RetrySchedule,
        budget: RetryBudget,
        *,
        max_attempts: int,
        retry_after_max_s: float,
    ) -> None:
        self.backend = backend
        self.deployment = backend.deployment
        self.name = backend.deployment.name
        self.breaker = breaker
        self.schedule = schedule
        self.budget = budget
        self.max_attempts = max_attempts
        self.retry_after_max_s = retry_after_max_s

    async def _with_retries(self, op: Callable[[], Awaitable[T]], attempts: list[Attempt]) -> T:
        self.budget.record_request()
        last: Retryable | None = None
        for i in range(self.max_attempts):
            if last is not None:
                if last.retry_after is not None and last.retry_after > self.retry_after_max_s:
                    raise last  # a long Retry-After: fall over to the next deployment at once
                if not self.budget.try_spend():
                    raise last
                delay = last.retry_after if last.retry_after is not None else self.schedule.delay(i - 1)
                await asyncio.sleep(delay)
            if not self.breaker.allow():
                err = BreakerOpen(f"circuit breaker for {self.name} is open", retry_after=self.breaker.retry_in())
                err.deployment = self.name
                raise err
            started = time.perf_counter()
            try:
                result = await op()
            except Final as exc:
                # A deterministic refusal means the backend is alive: no breaker failure, no retry.
                self.breaker.success()
                exc.deployment = self.name
                attempts.append(Attempt(self.name, type(exc).__name__, _ms(started), exc.status))
                raise
            except Retryable as exc:
                exc.deployment = self.name
                attempts.append(Attempt(self.name, type(exc).__name__, _ms(started), exc.status))
                if isinstance(exc, Throttled):
                    self.breaker.release()  # busy, not broken
                else:
                    self.breaker.failure()
                last = exc
                continue
            except BaseException:
                self.breaker.release()
                raise
            self.breaker.success()
            attempts.append(Attempt(self.name, "ok", _ms(started), 200))
            return result
        assert last is not None
        raise last

    async def complete(
        self, body: dict[str, Any], deadlines: Deadlines, request_id: str, attempts: list[Attempt]
    ) -> Completion:
        return await self._with_retries(lambda: self.backend.complete(body, deadlines, request_id), attempts)

    async def open_stream(
        self, body: dict[str, Any], deadlines: Deadlines, request_id: str, attempts: list[Attempt]
    ) -> OpenStream:
        async def attempt() -> OpenStream:
            started = time.perf_counter()
            it = aiter(self.backend.stream(body, deadlines, request_id))
            held: list[Chunk] = []
            try:
                async with asyncio.timeout(deadlines.total):
                    async for chunk in it:
                        held.append(chunk)
                        if _has_content(chunk):
                            return OpenStream(held, it, started)
            except TimeoutError:
                await it.aclose()
                raise PhaseTimeout("total", deadlines.total) from None
            except BaseException:
                await it.aclose()
                raise
            # The upstream ended cleanly without any content: an empty but complete answer.
            return OpenStream(held, _empty(), started)

        return await self._with_retries(attempt, attempts)


async def _empty() -> AsyncIterator[Chunk]:
    return
    yield  # pragma: no cover - makes this an async generator


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
