"""The call stage: send a turn to its public model's chain, sharing identical in-flight calls.

Non-streamed answers come back whole. Streamed answers go through a `Broadcast` that holds the
commit point: until the first content chunk, any failure falls over inside the chain; after it,
a failure ends the stream with an explicit error event and no `[DONE]`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import orjson

from alice.backends.assemble import DONE, Assembler, error_frame, estimate_usage, frame
from alice.backends.base import Chunk, Completion
from alice.backends.deployment import Attempt, DeploymentRunner, OpenStream
from alice.backends.errors import UpstreamError
from alice.backends.fallback import Chain
from alice.backends.outbound import Outbound
from alice.backends.resilience import Deadlines
from alice.backends.singleflight import Broadcast, SingleFlight
from alice.pipeline import Turn

__all__ = ["Dispatcher"]


def _usage_only(chunk: Chunk) -> bool:
    return bool(chunk.data.get("usage")) and not chunk.data.get("choices")


class Dispatcher:
    def __init__(self, chains: dict[str, Chain], deadlines: Deadlines, *, single_flight: bool = True) -> None:
        self.chains = chains
        self.deadlines = deadlines
        self.single_flight = single_flight
        self.flights = SingleFlight()
        # Set by the guard: books a call on a deployment with room (per-deployment rpm budgets) and
        # returns the chain's skip predicate for the saturated ones; may raise AllFailed(Throttled).
        self.gate: Callable[[Turn, Chain], Awaitable[Callable[[DeploymentRunner], bool] | None]] | None = None
        # Set by the guard: what one deployment may see of the body (PII redacted for cloud ones) and
        # how its reply is put back; a None result sends the body unchanged. Called per deployment
        # inside the single flight, so callers sharing a flight share the reply as put back.
        self.outbound: Callable[[Turn, DeploymentRunner, dict[str, Any]], Outbound | None] | None = None

    def _outbound(self, turn: Turn, runner: DeploymentRunner, body: dict[str, Any]) -> Outbound | None:
        return self.outbound(turn, runner, body) if self.outbound is not None else None

    def _key(self, turn: Turn) -> Hashable:
        return (turn.tenant, turn.route, orjson.dumps(turn.body, option=orjson.OPT_SORT_KEYS))

    async def complete(self, turn: Turn) -> bytes:
        """The raw chat.completion body to send; fills the turn's backend, answer and usage."""
        chain = self.chains[turn.route]
        body, rid = turn.body, turn.request_id

        async def call(r: DeploymentRunner, attempts: list[Attempt]) -> Completion:
            out = self._outbound(turn, r, body)
            if out is None:
                return await r.complete(body, self.deadlines, rid, attempts)
            return out.completion(await r.complete(out.body, self.deadlines, rid, attempts))

        async def run() -> tuple[str, Completion]:
            attempts: list[Attempt] = []
            try:
                skip = await self.gate(turn, chain) if self.gate is not None else None
                runner, completion = await chain.run(lambda r: call(r, attempts), attempts, skip)
            finally:
                turn.attempts = attempts
            return runner.name, completion

        started = time.perf_counter()
        if self.single_flight:
            (name, completion), shared = await self.flights.call(self._key(turn), run)
            turn.meta["single_flight_shared"] = shared
        else:
            name, completion = await run()
        turn.upstream_ms = (time.perf_counter() - started) * 1000
        turn.backend = name
        turn.answer = completion.data
        turn.upstream_model = str(completion.data.get("model") or "")
        turn.complete = True
        raw = completion.raw
        usage = completion.data.get("usage")
        if not usage:
            content = ((completion.data.get("choices") or [{}])[0].get("message") or {}).get("content") or ""
            usage = estimate_usage(body.get("messages"), content)
            completion.data["usage"] = usage
            raw = orjson.dumps(completion.data)
        turn.usage = usage
        return raw

    def stream(self, turn: Turn) -> Broadcast:
        chain = self.chains[turn.route]
        wants_usage = bool((turn.body.get("stream_options") or {}).get("include_usage"))
        # Always ask upstream for usage (for the log and metrics); drop it if the client didn't ask.
        upstream_body = {**turn.body, "stream_options": {**(turn.body.get("stream_options") or {}),
                                                         "include_usage": True}}
        deadlines, rid = self.deadlines, turn.request_id

        async def open_on(r: DeploymentRunner, attempts: list[Attempt]) -> tuple[OpenStream, Outbound | None]:
            out = self._outbound(turn, r, upstream_body)
            return await r.open_stream(upstream_body if out is None else out.body, deadlines, rid, attempts), out

        async def produce(bc: Broadcast) -> None:
            attempts: list[Attempt] = []
            bc.meta["attempts"] = attempts
            started = time.perf_counter()
            try:
                skip = await self.gate(turn, chain) if self.gate is not None else None
                runner, (opened, out) = await chain.run(lambda r: open_on(r, attempts), attempts, skip)
            except Exception as exc:
                bc.close(exc)
                return
            bc.meta["backend"] = runner.name
            asm = Assembler()
            reply = out.stream() if out is not None else None

            def publish(chunk: Chunk) -> None:
                if reply is not None:
                    chunk = reply.chunk(chunk)
                asm.add(chunk.data)
                if wants_usage or not _usage_only(chunk):
                    bc.publish(frame(chunk.raw))

            try:
                remaining = max(0.001, deadlines.total - (time.perf_counter() - opened.started))
                async with asyncio.timeout(remaining):
                    for chunk in opened.held:
                        publish(chunk)
                    async for chunk in opened.rest:
                        publish(chunk)
                if reply is not None and (last := reply.end()) is not None:
                    publish(last)
                if asm.usage is None:
                    asm.usage = estimate_usage(turn.body.get("messages"), asm.text)
                    if wants_usage:
                        bc.publish(frame(orjson.dumps({"id": asm.id, "object": "chat.completion.chunk",
                                                       "created": asm.created, "model": asm.model,
                                                       "choices": [], "usage": asm.usage})))
                bc.publish(DONE)
                bc.meta["complete"] = True
            except (UpstreamError, TimeoutError) as exc:
                runner.breaker.failure()
                message = exc.message if isinstance(exc, UpstreamError) else "upstream total deadline passed"
                bc.meta["error"] = message
                bc.publish(error_frame(f"the answer was cut off after it had started: {message}",
                                       code="stream_interrupted"))
            finally:
                await opened.rest.aclose()
                bc.meta["answer"] = asm.completion()
                bc.meta["usage"] = asm.usage
                bc.meta["upstream_ms"] = (time.perf_counter() - started) * 1000
                bc.close()

        if self.single_flight:
            bc, shared = self.flights.stream(self._key(turn), produce)
            turn.meta["single_flight_shared"] = shared
            return bc
        bc = Broadcast()
        bc.task = asyncio.ensure_future(produce(bc))
        return bc

    @staticmethod
    def settle_stream(turn: Turn, bc: Broadcast) -> None:
        """Copy what the broadcast learned onto the turn once the stream has ended."""
        meta: dict[str, Any] = bc.meta
        if not turn.meta.get("single_flight_shared"):
            turn.attempts = meta.get("attempts", [])
        turn.backend = meta.get("backend")
        turn.answer = meta.get("answer")
        turn.usage = meta.get("usage")
        turn.complete = bool(meta.get("complete"))
        turn.upstream_ms = float(meta.get("upstream_ms", 0.0))
        if turn.answer:
            turn.upstream_model = turn.answer.get("model")
        if meta.get("error"):
            turn.error = meta["error"]
