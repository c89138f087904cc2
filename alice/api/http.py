"""A minimal ASGI toolkit for Alice's routes: a request, a response, and a path router.

Alice's hot path is a plain ASGI callable rather than a framework app: per-request dependency
injection and re-validation cost real time on a gateway (see ARCHITECTURE.md, hot-path rules).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from alice.api.errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge

__all__ = ["JSON", "Handler", "Request", "Response", "Router", "error_response", "json_response"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON = b"application/json"


class Request:
    __slots__ = ("_body", "headers", "max_body", "method", "path", "query", "receive", "received", "request_id",
                 "scope", "send")

    def __init__(self, scope: Scope, receive: Receive, send: Send, max_body: int) -> None:
        self.received = time.perf_counter()
        self.scope = scope
        self.receive = receive
        self.send = send
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query: bytes = scope.get("query_string", b"")
        self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        rid = self.headers.get("x-request-id", "")
        # Accept a caller's id only if it is short and printable (it lands in logs and headers).
        self.request_id = rid if 0 < len(rid) <= 128 and rid.isprintable() else uuid.uuid4().hex
        self.max_body = max_body
        self._body: bytes | None = None

    async def body(self) -> bytes:
        if self._body is None:
            declared = self.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body:
                raise PayloadTooLarge(f"request body of {declared} bytes is over the limit of {self.max_body}")
            parts: list[bytes] = []
            size = 0
            while True:
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    raise PayloadTooLarge(f"request body is over the limit of {self.max_body} bytes")
                parts.append(chunk)
                if not message.get("more_body"):
                    break
            self._body = b"".join(parts)
        return self._body

    async def json(self) -> Any:
        raw = await self.body()
        if not raw:
            raise BadRequest("request body is empty; expected a JSON object")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from None


@dataclass(slots=True)
class Response:
    body: bytes = b""
    status: int = 200
    media_type: bytes = JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def __call__(self, send: Send) -> None:
        headers = [(b"content-type", self.media_type), (b"content-length", str(len(self.body)).encode()),
                   *self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_response(data: Any, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    return Response(orjson.dumps(data), status, JSON, headers or [])


Handler = Callable[[Request], Awaitable[Response | None]]


class Router:
    """Exact-path routes; a handler returns a Response, or None when it answered itself (streams)."""

    def __init__(self) -> None:
        self._routes: dict[str, dict[str, Handler]] = {}
        self._prefixes: list[tuple[str, dict[str, Handler]]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        if path.endswith("/*"):
            self._prefixes.append((path[:-1], {method: handler}))
        else:
            self._routes.setdefault(path, {})[method] = handler

    def resolve(self, method: str, path: str) -> Handler:
        methods = self._routes.get(path)
        if methods is None:
            for prefix, m in self._prefixes:
                if path.startswith(prefix) and method in m:
                    return m[method]
            raise NotFound(f"no route for {path}", code="not_found")
        handler = methods.get(method)
        if handler is None:
            raise MethodNotAllowed(f"{method} is not allowed on {path}; use {', '.join(sorted(methods))}")
        return handler

    def paths(self) -> list[str]:
        return sorted(self._routes)


def error_response(exc: ApiError, request_id: str) -> Response:
    return Response(exc.render(), exc.status, JSON, [*exc.headers(), (b"x-request-id", request_id.encode())])
