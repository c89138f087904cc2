"""The request's path, in one place.

    admit ─► understand ─► cache lookup ─► route ─► call ─► respond ─► write-back

Each stage is a small object with one method taking the `Turn` (the request's state). A stage
answers early by setting `turn.answer` (a chat.completion dict, e.g. a cache hit) or refuses by
raising an `ApiError`. After the response has been sent, the write-back hooks (cache store,
request log, metrics) run with the finished turn. The few hooks a client may rely on as soon as it
holds the whole answer (the idempotency record: a retry must find it) are `before_reply` hooks:
the surface awaits them (`settle`) before the answer's last frame, and the write-back runs them only
if the response path did not get that far. This module only orders the stages; it knows nothing of
what they do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from alice.backends.deployment import Attempt

__all__ = ["AfterHook", "Observer", "Pipeline", "Stage", "Turn"]

log = logging.getLogger("alice.pipeline")


@dataclass(slots=True)
class Turn:
    request_id: str
    surface: str  # "openai" or "assistant"
    received: float  # perf_counter at ASGI receive
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    tenant: str = "default"
    key_id: str | None = None
    model: str = ""  # the public model name the client asked for
    stream: bool = False
    # understanding
    text: str | None = None
    embedding: Any = None
    intent: str | None = None
    confidence: float | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    # routing and serving
    route: str = ""  # the public model / tier that served the request
    cache: str = "miss"
    similarity: float | None = None
    backend: str | None = None
    upstream_model: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict[str, Any] | None = None  # the full chat.completion that was (or will be) sent
    complete: bool = False  # the answer reached the client whole (a cut stream is not complete)
    settled: bool = False  # the before-reply hooks have run
    usage: dict[str, Any] | None = None
    status: int = 200
    error: str | None = None
    # timings (ms)
    overhead_ms: float = 0.0
    upstream_ms: float = 0.0
    ttft_ms: float | None = None
    total_ms: float = 0.0
    # stage annotations (guard flags, PII mapping, …) keyed by the stage's name
    meta: dict[str, Any] = field(default_factory=dict)


class Stage(Protocol):
    async def __call__(self, turn: Turn) -> None: ...


class AfterHook(Protocol):
    async def after(self, turn: Turn) -> None: ...


class Observer(Protocol):
    """A cheap synchronous look at every finished turn (metrics, queueing a log row)."""

    def observe(self, turn: Turn) -> None: ...


class Pipeline:
    def __init__(
        self, stages: Sequence[Stage] = (), after: Sequence[AfterHook] = (), observers: Sequence[Observer] = (),
        before_reply: Sequence[AfterHook] = (),
    ) -> None:
        self.stages = list(stages)
        self.after_hooks = list(after)
        self.observers = list(observers)
        self.before_reply = list(before_reply)

    async def before(self, turn: Turn) -> None:
        """Run the stages in order until one answers (sets `turn.answer`) or raises."""
        for stage in self.stages:
            await stage(turn)
            if turn.answer is not None:
                return

    def observe(self, turn: Turn) -> None:
        for observer in self.observers:
            try:
                observer.observe(turn)
            except Exception:
                log.exception("observer %s failed for request %s", type(observer).__name__, turn.request_id)

    async def settle(self, turn: Turn) -> None:
        """Run the before-reply hooks, once per turn; a failure is logged, the answer still goes out."""
        if not turn.settled:
            for hook in self.before_reply:  # in turn, not gathered: no task per request on the response path
                await self._after_one(hook, turn)
        # Set after the hooks: a response path cancelled half-way leaves them to the write-back.
        turn.settled = True

    async def after(self, turn: Turn) -> None:
        """Write-back: every hook runs even if one fails; a failure here never reaches the client."""
        # Hooks are independent (cache store, limit reconciliation, …): one slow hook must not delay the others.
        await asyncio.gather(self.settle(turn), *(self._after_one(hook, turn) for hook in self.after_hooks))

    @staticmethod
    async def _after_one(hook: AfterHook, turn: Turn) -> None:
        try:
            await hook.after(turn)
        except Exception:
            log.exception("write-back hook %s failed for request %s", type(hook).__name__, turn.request_id)
