"""Embedded durable cache store: one SQLite file, survives restarts.

SQLite never runs on the event loop: one dedicated thread owns the connection. Writes are
queued and committed in batches (every `flush_s`, or at once when `batch` writes are waiting),
so a burst of write-backs costs one transaction; `close()` flushes what is queued. The store
keeps at most `max_entries` live rows (the ones expiring soonest go first).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alice.state.cache_port import CacheEvent, CacheRecord

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_entries (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    expires REAL NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS cache_entries_expires ON cache_entries (expires);
"""


class SqliteStore:
    name = "sqlite"

    def __init__(self, path: Path, *, max_entries: int = 200_000, flush_s: float = 0.05, batch: int = 64) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self.flush_s = flush_s
        self.batch = batch
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alice-cache-sqlite")
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._wake: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.writes = 0
        self.commits = 0

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.execute("DELETE FROM cache_entries WHERE expires <= ?", (time.time(),))
        self._db = db

    async def start(self) -> None:
        await self._run(self._open)
        self._wake = asyncio.Event()
        self._flusher = asyncio.ensure_future(self._flush_loop())

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self._flush()
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._pool.shutdown(wait=True)

    # --- writes: queued, committed in batches on the store's thread ---

    def _queue(self, sql: str, args: tuple[Any, ...]) -> None:
        self._pending.append((sql, args))
        if self._wake is not None and len(self._pending) >= self.batch:
            self._wake.set()

    async def _flush_loop(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending or self._db is None:
            return
        batch, self._pending = self._pending, []
        await self._run(self._commit, batch)

    def _commit(self, batch: list[tuple[str, tuple[Any, ...]]]) -> None:
        assert self._db is not None
        db = self._db
        db.execute("BEGIN")
        try:
            for sql, args in batch:
                db.execute(sql, args)
            n = db.execute("SELECT count(*) FROM cache_entries").fetchone()[0]
            if n > self.max_entries:
                db.execute("DELETE FROM cache_entries WHERE rowid IN (SELECT rowid FROM cache_entries "
                           "ORDER BY expires LIMIT ?)", (n - self.max_entries,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.writes += len(batch)
        self.commits += 1

    async def put(self, record: CacheRecord) -> None:
        self._queue("INSERT OR REPLACE INTO cache_entries (namespace, key, expires, data) VALUES (?, ?, ?, ?)",
                    (record.namespace, record.key, record.expires, record.to_bytes()))

    async def delete(self, namespace: str, key: str) -> None:
        self._queue("DELETE FROM cache_entries WHERE namespace = ? AND key = ?", (namespace, key))

    async def purge(self, namespace: str | None = None) -> int:
        await self._flush()

        def run() -> int:
            assert self._db is not None
            if namespace is None:
                return self._db.execute("DELETE FROM cache_entries").rowcount
            return self._db.execute("DELETE FROM cache_entries WHERE namespace = ?", (namespace,)).rowcount

        return int(await self._run(run))

    # --- reads, on the store's thread ---

    async def get(self, namespace: str, key: str) -> CacheRecord | None:
        for sql, args in reversed(self._pending):  # a queued write is the newest truth
            if args[:2] == (namespace, key):
                return CacheRecord.from_bytes(args[3]) if sql.startswith("INSERT") else None

        def run() -> bytes | None:
            assert self._db is not None
            row = self._db.execute("SELECT data FROM cache_entries WHERE namespace = ? AND key = ? AND expires > ?",
                                   (namespace, key, time.time())).fetchone()
            return None if row is None else row[0]

        raw = await self._run(run)
        return None if raw is None else CacheRecord.from_bytes(raw)

    async def scan(self) -> AsyncIterator[CacheRecord]:
        await self._flush()

        def run() -> list[bytes]:
            assert self._db is not None
            return [r[0] for r in self._db.execute(
                "SELECT data FROM cache_entries WHERE expires > ? ORDER BY expires DESC", (time.time(),))]

        for raw in await self._run(run):
            yield CacheRecord.from_bytes(raw)

    def follow(self, on_event: Callable[[CacheEvent], None]) -> None:
        return None  # one process owns the file

    def stats(self) -> dict[str, Any]:
        return {"store": self.name, "path": str(self.path), "queued": len(self._pending), "writes": self.writes,
                "commits": self.commits}
