"""API-key records: one port, two adapters (SQLite file for one replica, Redis when scaled out).

Only the sha256 of a key is stored, never the key. A version counter changes on every write so a
running gateway can poll one cheap value and reload only when something changed (a key created
or revoked by `alice keys …` while it runs).

    KeyStore (protocol)   load() · version() · create(record) · revoke(id) · close()
    ├── SqliteKeyStore    <state.dir>/keys.sqlite3; calls run in a thread (never on the loop)
    └── RedisKeyStore     hash  <prefix>keys  (id → JSON record) + counter <prefix>keys:version
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["KeyRecord", "KeyStore", "RedisKeyStore", "SqliteKeyStore"]


@dataclass(slots=True)
class KeyRecord:
    id: str  # public part of the key, shown by `alice keys list`
    tenant: str
    hash: str  # sha256 hex of the whole key
    admin: bool = False
    rpm: int | None = None
    tpm: int | None = None
    daily_tokens: int | None = None
    models: list[str] | None = None  # None: every public model
    tools: list[str] | None = None  # None: every tool
    created: float = field(default_factory=time.time)
    revoked: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> KeyRecord:
        data: dict[str, Any] = orjson.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class KeyStore(Protocol):
    async def load(self) -> list[KeyRecord]: ...

    async def version(self) -> int: ...

    async def create(self, record: KeyRecord) -> None: ...

    async def revoke(self, key_id: str) -> bool: ...

    async def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO api_keys_version VALUES (1, 0);
"""


class SqliteKeyStore:
    """One small SQLite file; each call opens its own connection in a worker thread, so the CLI and
    a running server can share the file safely (SQLite's own locking)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.executescript(_SCHEMA)
        return conn

    def _load(self) -> list[KeyRecord]:
        with self._connect() as conn:
            return [KeyRecord.from_json(r[0]) for r in conn.execute("SELECT record FROM api_keys ORDER BY rowid")]

    def _version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT version FROM api_keys_version").fetchone()[0])

    def _create(self, record: KeyRecord) -> None:
        with self._connect() as conn:
            conn.execute("INSERT INTO api_keys VALUES (?, ?)", (record.id, record.to_json().decode()))
            conn.execute("UPDATE api_keys_version SET version = version + 1")

    def _revoke(self, key_id: str) -> bool:
        with self._connect() as conn:
            row = conn.execute("SELECT record FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                return False
            record = KeyRecord.from_json(row[0])
            if record.revoked is None:
                record.revoked = time.time()
                conn.execute("UPDATE api_keys SET record = ? WHERE id = ?", (record.to_json().decode(), key_id))
                conn.execute("UPDATE api_keys_version SET version = version + 1")
            return True

    async def load(self) -> list[KeyRecord]:
        return await asyncio.to_thread(self._load)

    async def version(self) -> int:
        return await asyncio.to_thread(self._version)

    async def create(self, record: KeyRecord) -> None:
        await asyncio.to_thread(self._create, record)

    async def revoke(self, key_id: str) -> bool:
        return await asyncio.to_thread(self._revoke, key_id)

    async def close(self) -> None:
        return None


class RedisKeyStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.hash_key = f"{prefix}keys"
        self.version_key = f"{prefix}keys:version"

    async def load(self) -> list[KeyRecord]:
        raw = await self.redis.hgetall(self.hash_key)
        return sorted((KeyRecord.from_json(v) for v in raw.values()), key=lambda r: r.created)

    async def version(self) -> int:
        return int(await self.redis.get(self.version_key) or 0)

    async def create(self, record: KeyRecord) -> None:
        if not await self.redis.hsetnx(self.hash_key, record.id, record.to_json()):
            raise ValueError(f"a key with id {record.id} already exists")
        await self.redis.incr(self.version_key)

    async def revoke(self, key_id: str) -> bool:
        raw = await self.redis.hget(self.hash_key, key_id)
        if raw is None:
            return False
        record = KeyRecord.from_json(raw)
        if record.revoked is None:
            record.revoked = time.time()
            await self.redis.hset(self.hash_key, key_id, record.to_json())
            await self.redis.incr(self.version_key)
        return True

    async def close(self) -> None:
        return None
