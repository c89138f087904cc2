"""The cache's storage port: one record type and the protocol every store implements.

    CacheStore
    ├── MemoryStore   in-process, byte budget, LRU            (state/cache_memory.py)
    ├── SqliteStore   one file, survives restarts, own thread  (state/cache_sqlite.py)
    └── RedisStore    shared by replicas, change stream        (state/cache_redis.py)

A record is self-contained: besides the answer it carries the question text, its embedding and
the NLU labels, so another replica or a restarted process can rebuild its vector index without
embedding anything again.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import orjson

__all__ = ["CacheEvent", "CacheRecord", "CacheStore"]


@dataclass(slots=True)
class CacheRecord:
    key: str  # the exact key (RequestKey.exact)
    namespace: str
    partition: str
    kind: str  # "answer" | "negative"
    payload: bytes  # the chat.completion (orjson) or the error body
    status: int = 200
    query: str | None = None  # the normalised question, for the semantic tier
    vector: bytes | None = None  # float32 first-stage embedding
    verify_vector: bytes | None = None  # float32 second-stage embedding (optional)
    embedder: str | None = None
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    level: int = 0
    hits: int = 0
    level_hits: int = 0
    cap_s: float | None = None  # the intent's TTL cap, kept for promotions
    created: float = field(default_factory=time.time)
    expires: float = 0.0

    @property
    def size(self) -> int:
        # 700: the record object, its key strings, slots dict and the store's LRU node (measured
        # with tracemalloc), so the hot tier's byte budget is close to the memory it really holds.
        return (len(self.payload) + len(self.vector or b"") + len(self.verify_vector or b"")
                + len(self.query or "") + 700)

    def live(self, now: float) -> bool:
        return self.expires > now

    def vec(self) -> np.ndarray | None:
        return None if self.vector is None else np.frombuffer(self.vector, dtype=np.float32)

    def verify_vec(self) -> np.ndarray | None:
        return None if self.verify_vector is None else np.frombuffer(self.verify_vector, dtype=np.float32)

    def to_bytes(self) -> bytes:
        d = asdict(self)
        for name in ("payload", "vector", "verify_vector"):
            if d[name] is not None:
                d[name] = base64.b64encode(d[name]).decode()
        return orjson.dumps(d)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CacheRecord:
        d = orjson.loads(raw)
        for name in ("payload", "vector", "verify_vector"):
            if d.get(name) is not None:
                d[name] = base64.b64decode(d[name])
        return cls(**d)


@dataclass(frozen=True, slots=True)
class CacheEvent:
    """A change made by another process (replica) that this one must follow."""

    op: str  # "put" | "delete" | "purge"
    record: CacheRecord | None = None
    key: str | None = None
    namespace: str | None = None


class CacheStore(Protocol):
    name: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def get(self, namespace: str, key: str) -> CacheRecord | None: ...
    async def put(self, record: CacheRecord) -> None: ...
    async def delete(self, namespace: str, key: str) -> None: ...
    async def purge(self, namespace: str | None = None) -> int: ...
    def scan(self) -> AsyncIterator[CacheRecord]:
        """Every live record (to rebuild the index at start-up)."""
        ...
    def follow(self, on_event: Callable[[CacheEvent], None]) -> None:
        """Deliver other processes' changes to `on_event` (a no-op for private stores)."""
        ...
    def stats(self) -> dict[str, Any]: ...
