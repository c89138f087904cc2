"""Request-log store, shared adapter: Postgres through asyncpg (non-blocking, on the event loop).

Batches go in with COPY (`copy_records_to_table`), the fastest path asyncpg offers. Several
Alice replicas can share one table; `seq` (bigserial) orders rows across them.
"""

from __future__ import annotations

import math
from typing import Any

import asyncpg

from alice.state.requestlog_store import COLUMNS, Query, Sql

__all__ = ["PostgresRequestLog"]

_NAMES = ("seq", *COLUMNS)


class PostgresRequestLog:
    def __init__(self, dsn: str, table: str = "alice_requests") -> None:
        self.dsn = dsn
        self.sql = Sql(table, dollar=True)
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("request log store is not open")
        return self._pool

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=3, command_timeout=30)
        async with self.pool.acquire() as conn, conn.transaction():
            # Two replicas starting together must not race on CREATE TABLE IF NOT EXISTS.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self.sql.table)
            for stmt in self.sql.create("BIGSERIAL PRIMARY KEY"):
                await conn.execute(stmt)

    async def write(self, rows: list[tuple[Any, ...]]) -> None:
        async with self.pool.acquire() as conn:
            await conn.copy_records_to_table(self.sql.table, records=rows, columns=list(COLUMNS))

    async def write_feedback(self, row: tuple[Any, ...]) -> bool:
        status = await self.pool.execute(self.sql.insert_feedback(), *row)
        return status.endswith(" 1")

    async def find(self, request_id: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(self.sql.find(), request_id)
        return dict(zip(_NAMES, row, strict=True)) if row else None

    async def query(self, q: Query) -> list[dict[str, Any]]:
        stmt, args = self.sql.query(q)
        return [dict(zip(_NAMES, r, strict=True)) for r in await self.pool.fetch(stmt, *args)]

    async def tail(self, after_seq: int, limit: int) -> list[dict[str, Any]]:
        return [dict(zip(_NAMES, r, strict=True)) for r in await self.pool.fetch(self.sql.tail(), after_seq, limit)]

    async def last_seq(self) -> int:
        return int(await self.pool.fetchval(self.sql.last_seq()))

    async def purge(self, before_ts: float) -> int:
        stmts = self.sql.purge()
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(stmts[0], before_ts)
            await conn.execute(stmts[1], before_ts)
        return int(status.split()[-1])

    async def group(self, column: str, q: Query) -> list[tuple[Any, ...]]:
        stmt, args = self.sql.group(column, q)
        return [tuple(r) for r in await self.pool.fetch(stmt, *args)]

    async def percentile(self, column: str, q: Query, p: float) -> float | None:
        count_stmt, args = self.sql.count(column, q)
        n = await self.pool.fetchval(count_stmt, *args)
        if not n:
            return None
        nth_stmt, _ = self.sql.nth(column, q)
        return await self.pool.fetchval(nth_stmt, *args, max(0, math.ceil(p * n) - 1))

    async def feedback_summary(self, since: float | None) -> list[tuple[Any, ...]]:
        stmt, args = self.sql.feedback_summary(since)
        return [tuple(r) for r in await self.pool.fetch(stmt, *args)]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
