"""Shared cache store on Redis (redis.asyncio), for several Alice replicas.

    {prefix}:e:{namespace}:{key}   the record (CacheRecord.to_bytes), expiring with the record
    {prefix}:events                a stream of changes: put (with the record), delete, purge

Every replica appends its changes to the stream and follows the others' (XREAD BLOCK), so each
replica's in-process vector index and hot tier see new entries within milliseconds without a
vector database. The stream is trimmed to about `stream_maxlen` events; a replica that starts
later rebuilds from a SCAN instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis

from alice.state.cache_port import CacheEvent, CacheRecord

__all__ = ["RedisStore"]

log = logging.getLogger("alice.cache.redis")
_GLOB = re.compile(r"([*?\[\]\\])")


class RedisStore:
    name = "redis"

    def __init__(self, url: str, prefix: str = "alice:cache", *, stream_maxlen: int = 10_000) -> None:
        self.url = url
        self.prefix = prefix
        self.stream = f"{prefix}:events"
        self.stream_maxlen = stream_maxlen
        self.origin = uuid.uuid4().hex
        self._r: aioredis.Redis | None = None
        self._follower: asyncio.Task[None] | None = None
        self._closing = False
        self.events_in = 0
        self.events_out = 0

    def _key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}:e:{namespace}:{key}"

    @property
    def r(self) -> aioredis.Redis:
        if self._r is None:
            raise RuntimeError("the Redis cache store is not started")
        return self._r

    async def start(self) -> None:
        self._r = aioredis.from_url(self.url)
        await self._r.ping()

    async def close(self) -> None:
        if self._follower is not None:
            # redis-py can lose a cancel that races its own read timeout and retry the read; the
            # flag ends the loop after that read (XREAD blocks ≤ 1 s) instead of following forever.
            self._closing = True
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        if self._r is not None:
            await self._r.aclose()
            self._r = None

    async def _publish(self, fields: dict[str, Any]) -> None:
        await self.r.xadd(self.stream, {"origin": self.origin, **fields}, maxlen=self.stream_maxlen,
                          approximate=True)
        self.events_out += 1

    async def get(self, namespace: str, key: str) -> CacheRecord | None:
        raw = await self.r.get(self._key(namespace, key))
        return None if raw is None else CacheRecord.from_bytes(raw)

    async def put(self, record: CacheRecord) -> None:
        ttl_ms = int((record.expires - time.time()) * 1000)
        if ttl_ms <= 0:
            return
        data = record.to_bytes()
        await self.r.set(self._key(record.namespace, record.key), data, px=ttl_ms)
        await self._publish({"op": "put", "data": data})

    async def delete(self, namespace: str, key: str) -> None:
        await self.r.delete(self._key(namespace, key))
        await self._publish({"op": "delete", "ns": namespace, "key": key})

    async def purge(self, namespace: str | None = None) -> int:
        pattern = f"{self.prefix}:e:" + (_GLOB.sub(r"\\\1", namespace) + ":*" if namespace is not None else "*")
        n = 0
        batch: list[bytes] = []
        async for k in self.r.scan_iter(match=pattern, count=500):
            batch.append(k)
            if len(batch) >= 500:
                n += await self.r.delete(*batch)
                batch = []
        if batch:
            n += await self.r.delete(*batch)
        await self._publish({"op": "purge", "ns": namespace if namespace is not None else ""})
        return int(n)

    async def scan(self) -> AsyncIterator[CacheRecord]:
        keys: list[bytes] = []
        async for k in self.r.scan_iter(match=f"{self.prefix}:e:*", count=500):
            keys.append(k)
        for i in range(0, len(keys), 500):
            for raw in await self.r.mget(keys[i : i + 500]):
                if raw is not None:
                    yield CacheRecord.from_bytes(raw)

    def follow(self, on_event: Callable[[CacheEvent], None]) -> None:
        if self._follower is None:
            self._follower = asyncio.ensure_future(self._follow(on_event))

    async def _follow(self, on_event: Callable[[CacheEvent], None]) -> None:
        last = "$"
        while not self._closing:
            try:
                reply = await self.r.xread({self.stream: last}, block=1000, count=256)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: keep following, slowly
                if self._closing:
                    return
                log.warning("cache event stream: %s", exc)
                await asyncio.sleep(1.0)
                continue
            for _stream, entries in reply or ():
                for event_id, fields in entries:
                    last = event_id
                    event = self._decode(fields)
                    if event is None:
                        continue
                    self.events_in += 1
                    try:
                        on_event(event)
                    except Exception:
                        log.exception("cache event handler failed")

    def _decode(self, fields: dict[bytes, bytes]) -> CacheEvent | None:
        if fields.get(b"origin", b"").decode() == self.origin:
            return None
        op = fields.get(b"op", b"").decode()
        if op == "put":
            return CacheEvent("put", record=CacheRecord.from_bytes(fields[b"data"]))
        if op == "delete":
            return CacheEvent("delete", key=fields[b"key"].decode(), namespace=fields[b"ns"].decode())
        if op == "purge":
            ns = fields.get(b"ns", b"").decode()
            return CacheEvent("purge", namespace=ns or None)
        return None

    def stats(self) -> dict[str, Any]:
        return {"store": self.name, "prefix": self.prefix, "events_in": self.events_in, "events_out": self.events_out}
