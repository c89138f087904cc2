"""In-process cache store: a dict in LRU order, bounded by bytes (not entry count).

It is the hot tier in front of every durable store, and the whole store with `store: memory`.
All operations are synchronous underneath (microseconds); the async methods satisfy the port.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from alice.state.cache_port import CacheEvent, CacheRecord

__all__ = ["MemoryStore"]


class MemoryStore:
    name = "memory"

    def __init__(self, max_bytes: int, on_evict: Callable[[CacheRecord], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self.on_evict = on_evict
        self._items: OrderedDict[tuple[str, str], CacheRecord] = OrderedDict()
        # The size each record was counted with: a record can grow after insertion (the verifier's
        # vector arrives later), and eviction must subtract what was added, or the count drifts.
        self._sizes: dict[tuple[str, str], int] = {}
        self.bytes = 0
        self.bytes_by_kind: dict[str, int] = {"answer": 0, "negative": 0}
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    # --- synchronous core (the engine's hot path) ---

    def get_now(self, namespace: str, key: str) -> CacheRecord | None:
        rec = self._items.get((namespace, key))
        if rec is None:
            return None
        if not rec.live(time.time()):
            self.drop(namespace, key)
            return None
        self._items.move_to_end((namespace, key))
        return rec

    def put_now(self, record: CacheRecord) -> None:
        k = (record.namespace, record.key)
        old = self._items.pop(k, None)
        if old is not None:
            self._account(k, old, -1)
        self._items[k] = record
        self._account(k, record, +1)
        while self.bytes > self.max_bytes and len(self._items) > 1:
            vk, victim = self._items.popitem(last=False)
            self._account(vk, victim, -1)
            self.evictions += 1
            if self.on_evict is not None:
                self.on_evict(victim)

    def drop(self, namespace: str, key: str) -> CacheRecord | None:
        rec = self._items.pop((namespace, key), None)
        if rec is not None:
            self._account((namespace, key), rec, -1)
        return rec

    def drop_namespace(self, namespace: str | None) -> list[CacheRecord]:
        gone = [k for k in self._items if namespace is None or k[0] == namespace]
        return [r for k in gone if (r := self.drop(*k)) is not None]

    def _account(self, k: tuple[str, str], rec: CacheRecord, sign: int) -> None:
        size = rec.size if sign > 0 else self._sizes.pop(k)
        if sign > 0:
            self._sizes[k] = size
        self.bytes += size * sign
        self.bytes_by_kind[rec.kind] = self.bytes_by_kind.get(rec.kind, 0) + size * sign

    def held_bytes(self) -> int:
        """The held records' sizes now, recounted (what `bytes` should equal once grown records are re-put)."""
        return sum(rec.size for rec in self._items.values())

    # --- the port ---

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def get(self, namespace: str, key: str) -> CacheRecord | None:
        return self.get_now(namespace, key)

    async def put(self, record: CacheRecord) -> None:
        self.put_now(record)

    async def delete(self, namespace: str, key: str) -> None:
        self.drop(namespace, key)

    async def purge(self, namespace: str | None = None) -> int:
        return len(self.drop_namespace(namespace))

    async def scan(self) -> AsyncIterator[CacheRecord]:
        now = time.time()
        for rec in list(self._items.values()):
            if rec.live(now):
                yield rec

    def follow(self, on_event: Callable[[CacheEvent], None]) -> None:
        return None

    def stats(self) -> dict[str, Any]:
        return {"store": self.name, "entries": len(self._items), "bytes": self.bytes,
                "max_bytes": self.max_bytes, "evictions": self.evictions}
