"""Where multi-turn state lives: a small port (`SessionStore`) with two adapters.

`MemorySessionStore` (default) is an in-process dict with a TTL per entry; `RedisSessionStore`
(redis.asyncio) shares sessions between replicas. State is a JSON-able dict; the store neither
knows nor cares what is in it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import orjson

__all__ = ["MemorySessionStore", "RedisSessionStore", "SessionStore"]


class SessionStore(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, state: dict[str, Any], ttl_s: float) -> None: ...


class MemorySessionStore:
    """In-process, bounded (least recently written entries go first), expired entries read as absent."""

    def __init__(self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    async def get(self, key: str) -> dict[str, Any] | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, blob = item
        if expires <= self._clock():
            del self._data[key]
            return None
        # a copy, so a caller's edits only count once they are put back
        return orjson.loads(blob)

    async def put(self, key: str, state: dict[str, Any], ttl_s: float) -> None:
        self._data[key] = (self._clock() + ttl_s, orjson.dumps(state))
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class RedisSessionStore:
    """Sessions in Redis (`SET key value PX ttl`), shared by every replica."""

    def __init__(self, url: str, *, prefix: str = "alice:session:") -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._prefix = prefix

    async def get(self, key: str) -> dict[str, Any] | None:
        blob = await self._redis.get(self._prefix + key)
        return None if blob is None else orjson.loads(blob)

    async def put(self, key: str, state: dict[str, Any], ttl_s: float) -> None:
        await self._redis.set(self._prefix + key, orjson.dumps(state), px=max(1, int(ttl_s * 1000)))

    async def close(self) -> None:
        await self._redis.aclose()
