"""Ollama's native API (/api/chat), translated to and from the OpenAI wire format."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from alice.backends.base import Chunk, Completion
from alice.backends.errors import ConnectFailed, Malformed, PhaseTimeout, classify_http_error
from alice.backends.resilience import Deadlines
from alice.config import Deployment

__all__ = ["OllamaBackend"]

_OPTION_MAP = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "num_predict", "seed": "seed",
               "stop": "stop", "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty"}


def _to_ollama(body: dict[str, Any], model: str, stream: bool) -> bytes:
    options = {dst: body[src] for src, dst in _OPTION_MAP.items() if body.get(src) is not None}
    messages = [{"role": m.get("role"), "content": m.get("content") or ""} for m in body.get("messages", [])]
    return orjson.dumps({"model": model, "messages": messages, "stream": stream, "options": options})


def _usage(d: dict[str, Any]) -> dict[str, int]:
    p, c = int(d.get("prompt_eval_count") or 0), int(d.get("eval_count") or 0)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _finish(d: dict[str, Any]) -> str:
    return "length" if d.get("done_reason") == "length" else "stop"


class OllamaBackend:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        # Ollama serves its native API at the root; accept a base_url with or without /v1.
        self.base_url = (deployment.base_url or "").rstrip("/").removesuffix("/v1")
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def ready(self) -> bool:
        assert self._session is not None
        try:
            async with self._session.get(f"{self.base_url}/api/tags", timeout=aiohttp.ClientTimeout(total=2)) as r:
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _open(self, payload: bytes, deadlines: Deadlines, headers_deadline: float) -> aiohttp.ClientResponse:
        assert self._session is not None, "backend not started"
        try:
            async with asyncio.timeout(headers_deadline):
                resp = await self._session.post(
                    f"{self.base_url}/api/chat", data=payload,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=deadlines.connect),
                )
        except TimeoutError:
            raise PhaseTimeout("headers", headers_deadline) from None
        except aiohttp.ClientError as exc:
            raise ConnectFailed(f"upstream connection failed: {exc}") from None
        if resp.status >= 400:
            body = await resp.read()
            resp.release()
            # Ollama's errors are {"error": "message"}; reshape so classification sees a message.
            try:
                msg = orjson.loads(body).get("error", "")
            except (orjson.JSONDecodeError, AttributeError):
                msg = body.decode("utf-8", "replace")
            raise classify_http_error(resp.status, orjson.dumps({"error": {"message": msg}}), None)
        return resp

    async def complete(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> Completion:
        model = self.deployment.model
        resp = await self._open(_to_ollama(body, model, False), deadlines, deadlines.total)
        try:
            raw = await resp.read()
        finally:
            resp.release()
        try:
            d = orjson.loads(raw)
            content = d["message"]["content"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise Malformed("ollama returned a body that is not a chat answer") from None
        data = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": _finish(d)}],
            "usage": _usage(d),
        }
        return Completion(raw=orjson.dumps(data), data=data)

    async def stream(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> AsyncIterator[Chunk]:
        model = self.deployment.model
        resp = await self._open(_to_ollama(body, model, True), deadlines, deadlines.headers)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None, usage: dict[str, int] | None = None) -> Chunk:
            data: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage is not None:
                data["usage"] = usage
            return Chunk(raw=orjson.dumps(data), data=data)

        try:
            phase, wait, first = "first_token", deadlines.first_token, True
            while True:
                try:
                    async with asyncio.timeout(wait):
                        line = await resp.content.readline()
                except TimeoutError:
                    raise PhaseTimeout(phase, wait) from None
                except aiohttp.ClientError as exc:
                    raise ConnectFailed(f"upstream stream cut: {exc}") from None
                if not line:
                    raise ConnectFailed("upstream stream ended before the answer was complete")
                if not line.strip():
                    continue
                try:
                    d = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise Malformed("ollama sent a line that is not JSON") from None
                if first:
                    yield chunk({"role": "assistant", "content": ""}, None)
                    first = False
                if d.get("done"):
                    yield chunk({}, _finish(d), _usage(d))
                    return
                yield chunk({"content": (d.get("message") or {}).get("content", "")}, None)
                phase, wait = "gap", deadlines.gap
        finally:
            resp.release()
