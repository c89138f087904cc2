"""Guard test helpers: a fake clock, Redis clients on the session's real redis-server, turns."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from alice.pipeline import Turn


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def redis(redis_server: str) -> AsyncIterator[Any]:
    from alice.guard.stores import redis_client

    client = redis_client(redis_server)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    """A fresh key namespace per test, so tests sharing the session's Redis never meet."""
    return f"t{uuid.uuid4().hex[:10]}:"


def make_turn(body: dict[str, Any] | None = None, headers: dict[str, str] | None = None, **kw: Any) -> Turn:
    body = body if body is not None else {"model": "chat", "messages": [{"role": "user", "content": "hej"}]}
    turn = Turn(request_id=uuid.uuid4().hex, surface="openai", received=time.perf_counter(), body=body,
                headers=headers or {}, **kw)
    turn.model = turn.model or str(body.get("model", ""))
    turn.route = turn.route or turn.model
    return turn
