"""The OpenAI-compatible surface: /v1/chat/completions and /v1/models."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import orjson

from alice.api import access
from alice.api.errors import ApiError, Unavailable
from alice.api.http import JSON, Request, Response, Router, json_response
from alice.api.validate import validate_chat_body
from alice.backends.assemble import DONE, completion_to_frames
from alice.backends.errors import BreakerOpen, Final, Throttled, UpstreamError
from alice.backends.fallback import AllFailed
from alice.backends.singleflight import SingleFlight
from alice.pipeline import Turn

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["mount", "upstream_error"]

log = logging.getLogger("alice.api")

SSE = b"text/event-stream"


def upstream_error(exc: Exception) -> ApiError:
    """Map a failed call to the client's error: deterministic refusals pass through as the upstream
    said them; exhausted chains become 503 (throttled / breakers open) or 502 (upstream broke)."""
    if isinstance(exc, Final):
        return ApiError(exc.message, status=exc.status or 400, body=exc.body)
    if isinstance(exc, AllFailed):
        last = exc.last
        if isinstance(last, Throttled | BreakerOpen):
            return Unavailable(f"no deployment available: {exc}", code="upstream_unavailable",
                               retry_after=last.retry_after or 1.0)
        return ApiError(f"upstream failed: {exc}", status=502, code="upstream_error")
    if isinstance(exc, UpstreamError):
        return ApiError(f"upstream failed: {exc.message}", status=502, code="upstream_error")
    raise exc


def _served_headers(turn: Turn) -> list[tuple[bytes, bytes]]:
    h = [(b"x-request-id", turn.request_id.encode()), (b"x-alice-route", turn.route.encode()),
         (b"x-alice-backend", (turn.backend or "none").encode()), (b"x-alice-cache", turn.cache.encode())]
    if turn.similarity is not None:
        h.append((b"x-alice-similarity", f"{turn.similarity:.4f}".encode()))
    auto = turn.meta.get("auto_route")  # `model: auto`: the router's decision (alice/assistant/wiring.py)
    if auto is not None:
        h += [(b"x-alice-tier", auto["tier"].encode()),
              (b"x-alice-route-reasons", "; ".join(auto["reasons"]).encode("ascii", "replace"))]
    return h


def _overhead(turn: Turn) -> bytes:
    turn.total_ms = (time.perf_counter() - turn.received) * 1000
    turn.overhead_ms = max(0.0, turn.total_ms - turn.upstream_ms)
    return f"{turn.overhead_ms:.3f}".encode()


async def _watch_disconnect(req: Request) -> None:
    while (await req.receive())["type"] != "http.disconnect":
        pass


def mount(router: Router, gw: Gateway) -> None:
    async def models(req: Request) -> Response:
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "alice"} for name in gw.public_models()]
        return json_response({"object": "list", "data": data})

    async def chat_completions(req: Request) -> Response | None:
        turn = Turn(request_id=req.request_id, surface="openai", received=req.received, headers=req.headers)
        try:
            body = await req.json()
            validate_chat_body(body)
            turn.body, turn.model, turn.stream = body, body["model"], bool(body.get("stream"))
            return await _serve(req, turn)
        except ApiError as exc:
            turn.status, turn.error = exc.status, exc.message
            turn.meta["api_error"] = exc  # the cache's negative tier reads the classified cause
            await gw.pipeline.settle(turn)  # released before the error goes out: a retry must not find it held
            raise
        except BaseException as exc:
            turn.status, turn.error = 500, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            gw.write_back(turn)

    async def _serve(req: Request, turn: Turn) -> Response | None:
        turn.route = gw.resolve_model(turn.model, turn)
        await gw.pipeline.before(turn)
        if turn.answer is not None:
            return await _answer_from(req, turn)
        if not turn.stream:
            try:
                raw = await gw.dispatcher.complete(turn)
            except (UpstreamError, AllFailed) as exc:
                raise upstream_error(exc) from None
            await gw.pipeline.settle(turn)
            return Response(raw, 200, JSON, [*_served_headers(turn), (b"x-alice-overhead-ms", _overhead(turn))])
        bc = gw.dispatcher.stream(turn)
        frames = SingleFlight.follow(bc)
        try:
            first = await anext(frames)
        except StopAsyncIteration:
            raise ApiError("upstream stream ended with nothing", status=502) from None
        except (UpstreamError, AllFailed) as exc:
            gw.dispatcher.settle_stream(turn, bc)
            raise upstream_error(exc) from None
        turn.backend = bc.meta.get("backend")
        turn.ttft_ms = (time.perf_counter() - turn.received) * 1000

        async def settle() -> None:
            gw.dispatcher.settle_stream(turn, bc)
            await gw.pipeline.settle(turn)

        await _stream(req, turn, first, frames, settle)
        gw.dispatcher.settle_stream(turn, bc)  # again: a client that left never reached `settle`
        if not turn.complete:
            turn.status = 502
        _overhead(turn)
        return None

    async def _answer_from(req: Request, turn: Turn) -> Response | None:
        """A stage answered (cache hit, tool): render its completion as JSON or as a stream."""
        assert turn.answer is not None
        turn.complete = True
        turn.usage = turn.answer.get("usage")
        if not turn.stream:
            await gw.pipeline.settle(turn)
            return Response(orjson.dumps(turn.answer), 200, JSON,
                            [*_served_headers(turn), (b"x-alice-overhead-ms", _overhead(turn))])
        include_usage = bool((turn.body.get("stream_options") or {}).get("include_usage"))
        frames = completion_to_frames(turn.answer, include_usage)

        async def replay() -> AsyncIterator[bytes]:
            for f in frames[1:]:
                yield f

        await _stream(req, turn, frames[0], replay(), functools.partial(gw.pipeline.settle, turn))
        _overhead(turn)
        return None

    async def _stream(req: Request, turn: Turn, first: bytes, rest: AsyncIterator[bytes],
                      settle: Callable[[], Awaitable[None]]) -> None:
        """Send the frames; `settle` runs once they have all come, before `[DONE]` and the end go out."""
        headers = [(b"content-type", SSE), (b"cache-control", b"no-cache"), *_served_headers(turn),
                   (b"x-alice-overhead-ms", f"{(time.perf_counter() - turn.received) * 1000:.3f}".encode())]
        send = req.send
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        async def pump() -> None:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            done = b""
            async for f in rest:
                if f == DONE:  # held back: a client that has seen it may retry and must find the answer stored
                    done = f
                    continue
                await send({"type": "http.response.body", "body": f, "more_body": True})
            await settle()
            await send({"type": "http.response.body", "body": done, "more_body": False})

        pumping = asyncio.ensure_future(pump())
        watching = asyncio.ensure_future(_watch_disconnect(req))
        try:
            await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (pumping, watching):
                t.cancel()
            await asyncio.gather(pumping, watching, return_exceptions=True)
            await rest.aclose()  # type: ignore[attr-defined]
        pumped = pumping.done() and not pumping.cancelled()
        if pumped and pumping.exception() is None:
            return
        if not pumped:
            turn.status, turn.error = 499, "client disconnected"
        elif pumping.exception() is not None:
            # The response has started: nothing can be sent any more, so record and log it.
            exc = pumping.exception()
            turn.status, turn.error = 500, f"{type(exc).__name__}: {exc}"
            log.error("stream to client failed for %s", turn.request_id, exc_info=exc)

    router.add("GET", "/v1/models", access.keyed(gw, models))
    router.add("POST", "/v1/chat/completions", chat_completions)

