"""The sim in-process on a random loopback port, and small SSE helpers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from alice.sim import SimSettings, build_app


class Sim:
    def __init__(self, url: str, app: web.Application, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.app = app
        self.session = session

    def post(self, model: str, *, stream: bool = False, content: str = "Hej", headers: dict[str, str] | None = None,
             **extra: Any) -> Any:
        body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream, **extra}
        return self.session.post(self.url + "/v1/chat/completions", json=body, headers=headers)

    async def chat(self, model: str, **kw: Any) -> tuple[int, Any, bytes]:
        async with self.post(model, **kw) as r:
            return r.status, r.headers, await r.read()

    async def log(self) -> list[dict[str, Any]]:
        async with self.session.get(self.url + "/control/log") as r:
            return orjson.loads(await r.read())

    async def reset(self) -> None:
        async with self.session.post(self.url + "/control/reset") as r:
            assert r.status == 200


MakeSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """Start a sim with the given SimSettings fields. The runner keeps aiohttp's default
    handler_cancellation=False, so the sim's own disconnect watching is what ends abandoned faults."""
    runners: list[web.AppRunner] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(**settings: Any) -> Sim:
        app = build_app(SimSettings(**settings))
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        runners.append(runner)
        session = aiohttp.ClientSession()
        sessions.append(session)
        return Sim(f"http://127.0.0.1:{sock.getsockname()[1]}", app, session)

    yield start
    for s in sessions:
        await s.close()
    for r in runners:
        await r.cleanup()


@pytest.fixture
async def sim(make_sim: MakeSim) -> Sim:
    """Overrides tests/conftest.py's `sim` (an `alice sim` subprocess) with the in-process sim."""
    return await make_sim()


def sse_data(raw: bytes) -> list[str]:
    """The `data:` payloads of an SSE body, in order (a partial trailing event is kept)."""
    return [line[6:] for line in raw.decode().split("\n") if line.startswith("data: ")]


def sse_text(events: list[str]) -> str:
    out = []
    for e in events:
        if e == "[DONE]":
            continue
        for c in orjson.loads(e)["choices"]:
            out.append(c["delta"].get("content") or "")
    return "".join(out)


async def read_until_quiet(resp: aiohttp.ClientResponse, quiet_s: float) -> bytes:
    """Read a streamed body until nothing more arrives for `quiet_s` (or it ends)."""
    data = b""
    while True:
        try:
            chunk = await asyncio.wait_for(resp.content.readany(), quiet_s)
        except TimeoutError:
            return data
        if not chunk:
            return data
        data += chunk


def request_tasks() -> int:
    """aiohttp request-handler tasks still running in this loop."""
    return sum(1 for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "RequestHandler._handle_request")
