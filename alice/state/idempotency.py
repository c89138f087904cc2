"""Idempotency records: who owns an `Idempotency-Key`, for which request body, and the answer
once there is one. One port, two adapters.

A record is `pending` while its first request runs (with a lease, so a replica that dies does
not block the key for ever) and `done` with the stored completion afterwards.

    IdempotencyStore (protocol)   begin · finish · release · get
    ├── MemoryIdempotency         in-process, bounded (oldest records evicted first)
    └── RedisIdempotency          one key per record; `begin` and the owner checks are Lua scripts
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["IdempotencyRecord", "IdempotencyStore", "MemoryIdempotency", "RedisIdempotency"]


@dataclass(slots=True)
class IdempotencyRecord:
    state: str  # pending | done
    fingerprint: str  # sha256 of the canonical request body
    owner: str  # the reservation id of the request that holds the key
    answer: dict[str, Any] | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> IdempotencyRecord:
        return cls(**orjson.loads(raw))


class IdempotencyStore(Protocol):
    async def begin(self, key: str, fingerprint: str, owner: str, lease_s: float) -> IdempotencyRecord | None:
        """Claim `key` for `owner`; returns None when claimed, else the record that is already there."""
        ...

    async def finish(self, key: str, owner: str, answer: dict[str, Any], ttl_s: float) -> None: ...

    async def release(self, key: str, owner: str) -> None: ...

    async def get(self, key: str) -> IdempotencyRecord | None: ...


class MemoryIdempotency:
    def __init__(self, max_records: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._records: OrderedDict[str, tuple[IdempotencyRecord, float]] = OrderedDict()
        self._max = max_records
        self._clock = clock

    def _live(self, key: str) -> IdempotencyRecord | None:
        item = self._records.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._records[key]
            return None
        return item[0]

    def _put(self, key: str, record: IdempotencyRecord, ttl_s: float) -> None:
        self._records[key] = (record, self._clock() + ttl_s)
        self._records.move_to_end(key)
        while len(self._records) > self._max:
            self._records.popitem(last=False)

    async def begin(self, key: str, fingerprint: str, owner: str, lease_s: float) -> IdempotencyRecord | None:
        existing = self._live(key)
        if existing is not None:
            return existing
        self._put(key, IdempotencyRecord("pending", fingerprint, owner), lease_s)
        return None

    async def finish(self, key: str, owner: str, answer: dict[str, Any], ttl_s: float) -> None:
        record = self._live(key)
        if record is not None and record.owner == owner:
            self._put(key, IdempotencyRecord("done", record.fingerprint, owner, answer), ttl_s)

    async def release(self, key: str, owner: str) -> None:
        record = self._live(key)
        if record is not None and record.owner == owner and record.state == "pending":
            del self._records[key]

    async def get(self, key: str) -> IdempotencyRecord | None:
        return self._live(key)


# KEYS: record   ARGV: pending record JSON, lease_ms
_BEGIN = """
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""

# KEYS: record   ARGV: owner, new value ('' = delete if still pending), ttl_ms
_SETTLE = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local rec = cjson.decode(v)
if rec['owner'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  if rec['state'] == 'pending' then redis.call('DEL', KEYS[1]) end
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"""


class RedisIdempotency:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}idem:"
        self._begin = redis.register_script(_BEGIN)
        self._settle = redis.register_script(_SETTLE)

    async def begin(self, key: str, fingerprint: str, owner: str, lease_s: float) -> IdempotencyRecord | None:
        pending = IdempotencyRecord("pending", fingerprint, owner).to_json()
        raw = await self._begin(keys=[self.prefix + key], args=[pending, max(1, int(lease_s * 1000))])
        return IdempotencyRecord.from_json(raw) if raw else None

    async def finish(self, key: str, owner: str, answer: dict[str, Any], ttl_s: float) -> None:
        record = await self.get(key)
        if record is None:
            return
        done = IdempotencyRecord("done", record.fingerprint, owner, answer).to_json()
        await self._settle(keys=[self.prefix + key], args=[owner, done, max(1, int(ttl_s * 1000))])

    async def release(self, key: str, owner: str) -> None:
        await self._settle(keys=[self.prefix + key], args=[owner, "", 0])

    async def get(self, key: str) -> IdempotencyRecord | None:
        raw = await self.redis.get(self.prefix + key)
        return IdempotencyRecord.from_json(raw) if raw else None
