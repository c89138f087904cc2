"""One coroutine per behaviour: given an attempt (`Call`), produce the (possibly broken) response.

The requested model name picks the behaviour: `NAME` or `NAME:anything` (the suffix only labels the
attempt in the log, so two deployments can share a behaviour). Stateful behaviours (`flap`,
`500-once`) are resolved by the server into a stateless one (`503`/`500` or `ok`) before they get here.

Faults that never answer, or answer slowly, watch the connection and stop as soon as the client
leaves, so abandoned attempts do not pile up in the sim.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from alice.sim.settings import SimSettings
from alice.sim.wire import DONE, MALFORMED, Rendered, completion_body, error_body, stream_frames

__all__ = ["BEHAVIOURS", "STATUS", "Call", "behaviour_of"]

_JSON = {"Content-Type": "application/json"}
_SSE = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_POLL_S = 0.1  # how often a waiting fault checks whether the client is still there


@dataclass(slots=True)
class Call:
    """One attempt, parsed."""

    request: web.Request
    settings: SimSettings
    answer: Rendered
    rid: bytes
    created: int
    prompt_tokens: int
    stream: bool
    include_usage: bool


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


async def _client_left(request: web.Request, seconds: float) -> bool:
    """Wait up to `seconds` (math.inf: for ever); True as soon as the client has closed the connection."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (transport := request.transport) is not None and not transport.is_closing():
        left = deadline - loop.time()
        if left <= 0:
            return False
        await asyncio.sleep(min(left, _POLL_S))
    return True


def _reset_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0: close() sends a TCP RST, the client sees "connection reset by peer"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _close_connection(request: web.Request) -> None:
    if (transport := request.transport) is not None:
        transport.close()  # flushes what was written, then FIN: the body ends without its terminator


def _unsent() -> web.Response:
    # Returned after the connection is gone: aiohttp's write fails with ConnectionError, which it
    # treats as "client disconnected" and drops quietly.
    return web.Response()


def _gap_s(call: Call) -> float:
    return 1.0 / call.settings.tokens_per_s if call.settings.tokens_per_s > 0 else 0.0


async def _answer(call: Call) -> web.StreamResponse:
    if call.stream:
        return await _stream(call)
    if gap := _gap_s(call):  # a real model takes as long to generate a whole answer as to stream it
        await asyncio.sleep(gap * len(call.answer.delta_choices))
    return web.Response(body=completion_body(call.answer, call.rid, call.created, call.prompt_tokens), headers=_JSON)


async def _stream(call: Call, fault: str | None = None) -> web.StreamResponse:
    """Stream the answer; `fault` ("cut", "stall", "malformed", "no-done") breaks it mid-way or at the end."""
    resp = web.StreamResponse(headers=_SSE)
    await resp.prepare(call.request)
    frames = stream_frames(call.answer, call.rid, call.created, call.prompt_tokens, call.include_usage)
    n_content = len(call.answer.delta_choices)
    fault_at = min(1 + max(1, n_content // 2), len(frames) - 1)  # after the role and half the deltas
    gap = _gap_s(call)
    loop = asyncio.get_running_loop()
    next_t = loop.time()
    try:
        for i, frame in enumerate(frames):
            if i == fault_at and fault == "cut":
                _close_connection(call.request)
                return resp
            if i == fault_at and fault == "stall" and await _client_left(call.request, call.settings.stall_s):
                return resp
            if i == fault_at and fault == "malformed":
                await resp.write(MALFORMED)
            if gap and 1 <= i <= n_content:
                next_t += gap
                await asyncio.sleep(max(0.0, next_t - loop.time()))
            await resp.write(frame)
        if fault == "no-done":  # everything but [DONE]; hold the stream open so the reader must finalise it
            await _client_left(call.request, call.settings.stall_s)
            return resp
        await resp.write(DONE)
    except ConnectionError:  # the client left mid-stream: nothing more to do
        pass
    return resp


async def _body_fault(call: Call, fault: str) -> web.StreamResponse:
    """Non-streaming analogue of the stream faults: the JSON body breaks off half-way."""
    body = completion_body(call.answer, call.rid, call.created, call.prompt_tokens)
    half = len(body) // 2
    if fault == "malformed":  # a complete HTTP response whose body is not valid JSON
        return web.Response(body=body[:half], headers=_JSON)
    resp = web.StreamResponse(headers=_JSON)
    resp.content_length = len(body)
    await resp.prepare(call.request)
    try:
        await resp.write(body[:half])
        if fault == "cut":
            _close_connection(call.request)  # fewer bytes than Content-Length
            return resp
        if not await _client_left(call.request, call.settings.stall_s):
            await resp.write(body[half:])
    except ConnectionError:
        pass
    return resp


def _stream_fault(fault: str, *, plain_is_healthy: bool = False) -> Handler:
    async def handler(call: Call) -> web.StreamResponse:
        if call.stream:
            return await _stream(call, fault)
        return await _answer(call) if plain_is_healthy else await _body_fault(call, fault)

    return handler


async def _slow_ttft(call: Call) -> web.StreamResponse:
    if await _client_left(call.request, call.settings.ttft_ms / 1000):
        return _unsent()
    return await _answer(call)


async def _reset(call: Call) -> web.StreamResponse:
    _reset_connection(call.request)
    return _unsent()


async def _hang(call: Call) -> web.StreamResponse:
    await _client_left(call.request, math.inf)
    return _unsent()


def _seconds(value: float) -> str:
    """`1.0` → "1", `0.25` → "0.25" (HTTP wants whole seconds; a fraction is only for fast tests)."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _error(status: int, message: str, type_: str, code: str | None, param: str | None = None,
           retry_after: bool = False) -> Handler:
    body = error_body(message, type_, code, param)

    async def handler(call: Call) -> web.StreamResponse:
        headers = dict(_JSON)
        if retry_after:
            headers["Retry-After"] = _seconds(call.settings.retry_after_s)
        return web.Response(status=status, body=body, headers=headers)

    return handler


async def _context_length(call: Call) -> web.StreamResponse:
    window = call.settings.context_window
    message = (f"This model's maximum context length is {window} tokens. However, your messages resulted in "
               f"{max(call.prompt_tokens, window + 1)} tokens. Please reduce the length of the messages.")
    return web.Response(status=400, headers=_JSON,
                        body=error_body(message, "invalid_request_error", "context_length_exceeded", "messages"))


_RATE = "Rate limit reached for requests (simulated). Please try again later."

BEHAVIOURS: dict[str, Handler] = {
    "ok": _answer,
    "echo": _answer,  # the server makes the answer the last user message
    "slow-ttft": _slow_ttft,
    "429": _error(429, _RATE, "requests", "rate_limit_exceeded"),
    "429-retry-after": _error(429, _RATE, "requests", "rate_limit_exceeded", retry_after=True),
    "500": _error(500, "The server had an error while processing your request (simulated).", "server_error", None),
    "500-once": _answer,  # resolved by the server: its first attempt per body runs "500" instead
    "503": _error(503, "The server is overloaded or not ready yet (simulated).", "server_error",
                  "service_unavailable"),
    "flap": _answer,  # resolved by the server: "503" inside the flap window
    "reset": _reset,
    "hang": _hang,
    "stream-cut": _stream_fault("cut"),
    "stream-stall": _stream_fault("stall"),
    "malformed-chunk": _stream_fault("malformed"),
    "no-done": _stream_fault("no-done", plain_is_healthy=True),
    "context-length": _context_length,
    "content-filter": _error(
        400, "The response was filtered due to the prompt triggering the content management policy (simulated). "
        "Please modify your prompt and retry.", "invalid_request_error", "content_filter", "prompt"),
}

# The HTTP status each behaviour sends, as logged (None: no response at all).
STATUS: dict[str, int | None] = {
    **dict.fromkeys(BEHAVIOURS, 200),
    "429": 429, "429-retry-after": 429, "500": 500, "503": 503, "reset": None, "hang": None,
    "context-length": 400, "content-filter": 400,
}


def behaviour_of(model: str) -> str | None:
    """`ok`, `ok:primary` → "ok"; an unknown name → None."""
    name = model.partition(":")[0]
    return name if name in BEHAVIOURS else None
