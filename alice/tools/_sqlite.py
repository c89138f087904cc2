"""A SQLite file used from asyncio: every statement runs in a worker thread, one at a time."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["SqliteDB"]


class SqliteDB:
    def __init__(self, path: Path | str, schema: str) -> None:
        self.path = Path(path)
        self._schema = schema
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(self._schema)
            self._conn = conn
        return self._conn

    def _run(self, sql: str, params: Sequence[Any], fetch: bool) -> list[dict[str, Any]] | int:
        with self._lock:
            cur = self._connect().execute(sql, params)
            if fetch:
                return [dict(r) for r in cur.fetchall()]
            return int(cur.lastrowid or cur.rowcount)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(self._run, sql, params, True)
        assert isinstance(rows, list)
        return rows

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """lastrowid for an INSERT, else the number of rows changed."""
        n = await asyncio.to_thread(self._run, sql, params, False)
        assert isinstance(n, int)
        return n

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
