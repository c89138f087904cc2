"""Any OpenAI-compatible server (llama.cpp, vLLM, cloud APIs) over aiohttp."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from alice.backends.base import Chunk, Completion
from alice.backends.errors import ConnectFailed, Malformed, PhaseTimeout, classify_http_error
from alice.backends.resilience import Deadlines
from alice.config import Deployment

__all__ = ["OpenAICompatBackend", "finish_grace_s"]

# After a chunk with finish_reason, a server that never sends [DONE] is waited on this long
# (enough for a trailing usage chunk), then the stream is finalised as complete.
finish_grace_s = 0.5


class OpenAICompatBackend:
    def __init__(self, deployment: Deployment, *, base_url: str | None = None, pool_size: int = 256) -> None:
        self.deployment = deployment
        self.base_url = (base_url or deployment.base_url or "").rstrip("/")
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        headers = {"content-type": "application/json"}
        if deployment.api_key:
            headers["authorization"] = f"Bearer {deployment.api_key}"
        self._headers = headers

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(connector=connector, headers=self._headers, auto_decompress=True)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def ready(self) -> bool:
        assert self._session is not None
        try:
            async with self._session.get(f"{self.base_url}/models", timeout=aiohttp.ClientTimeout(total=2)) as r:
                return r.status < 500
        except (aiohttp.ClientError, TimeoutError):
            return False

    def _payload(self, body: dict[str, Any]) -> bytes:
        return orjson.dumps({**body, "model": self.deployment.model})

    @asynccontextmanager
    async def _post(self, body: dict[str, Any], deadlines: Deadlines, request_id: str, headers_deadline: float):
        assert self._session is not None, "backend not started"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=deadlines.connect, connect=deadlines.connect)
        try:
            async with asyncio.timeout(headers_deadline):
                resp = await self._session.post(
                    f"{self.base_url}/chat/completions",
                    data=self._payload(body),
                    headers={"x-request-id": request_id},
                    timeout=timeout,
                )
        except TimeoutError:
            raise PhaseTimeout("headers", headers_deadline) from None
        except (aiohttp.ServerTimeoutError, aiohttp.ConnectionTimeoutError):
            raise PhaseTimeout("connect", deadlines.connect) from None
        except aiohttp.ClientError as exc:
            raise ConnectFailed(f"upstream connection failed: {exc.__class__.__name__}: {exc}") from None
        try:
            if resp.status >= 400:
                try:
                    async with asyncio.timeout(deadlines.gap):
                        err_body = await resp.read()
                except (TimeoutError, aiohttp.ClientError):
                    err_body = b""
                raise classify_http_error(resp.status, err_body, resp.headers.get("retry-after"))
            yield resp
        finally:
            resp.release()

    async def complete(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> Completion:
        # A non-streamed answer sends its headers only when the whole answer is ready.
        async with self._post(body, deadlines, request_id, deadlines.total) as resp:
            try:
                async with asyncio.timeout(deadlines.gap):
                    raw = await resp.read()
            except TimeoutError:
                raise PhaseTimeout("gap", deadlines.gap) from None
            except aiohttp.ClientError as exc:
                raise ConnectFailed(f"upstream body cut: {exc}") from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise Malformed("upstream returned a body that is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise Malformed("upstream returned JSON that is not a chat completion")
        return Completion(raw=raw, data=data)

    async def stream(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> AsyncIterator[Chunk]:
        async with self._post(body, deadlines, request_id, deadlines.headers) as resp:
            async for chunk in _read_sse(resp.content, deadlines):
                yield chunk


async def _read_sse(content: aiohttp.StreamReader, deadlines: Deadlines) -> AsyncIterator[Chunk]:
    phase, wait = "first_token", deadlines.first_token
    finished = False
    while True:
        try:
            async with asyncio.timeout(wait):
                line = await content.readline()
        except TimeoutError:
            if finished:
                return  # complete answer whose server never sent [DONE]
            raise PhaseTimeout(phase, wait) from None
        except aiohttp.ClientError as exc:
            if finished:
                return
            raise ConnectFailed(f"upstream stream cut: {exc}") from None
        if not line:
            if finished:
                return
            raise ConnectFailed("upstream stream ended before the answer was complete")
        if not line.startswith(b"data:"):
            continue  # blank separators, comments, `event:` lines
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise Malformed("upstream sent a stream chunk that is not JSON") from None
        if not isinstance(data, dict):
            raise Malformed("upstream sent a stream chunk that is not an object")
        if "error" in data:
            # An error event inside a 200 stream: retryable, like a 5xx.
            raise classify_http_error(500, orjson.dumps({"error": data["error"]}), None)
        yield Chunk(raw=payload, data=data)
        choices = data.get("choices") or []
        if any(c.get("finish_reason") for c in choices if isinstance(c, dict)):
            finished = True
        phase, wait = "gap", (finish_grace_s if finished else deadlines.gap)
