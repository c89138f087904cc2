"""Fixtures for telemetry tests: request-log stores on SQLite and on the local Postgres."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from alice.state.requestlog_store import COLUMNS

PG_DSN = os.environ.get("ALICE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
AMQP_URL = os.environ.get("ALICE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def make_row(i: int = 0, **kw: Any) -> tuple[Any, ...]:
    base: dict[str, Any] = dict(
        id=f"req-{i}", ts=1_700_000_000.0 + i, tenant="t1", agent=None, surface="openai", route="chat", model="chat",
        intent=None, tool=None, backend="b1", upstream_model="m", cache="miss", status=200, error=None, stream=0,
        complete=1, total_ms=10.0 + i, overhead_ms=0.2, upstream_ms=9.0, ttft_ms=None, tokens_in=3, tokens_out=5,
        cost=0.001, attempts=None, text=None,
    )
    base.update(kw)
    return tuple(base[c] for c in COLUMNS)


async def drop_pg(table: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.execute(f"DROP TABLE IF EXISTS {table}_feedback")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        from alice.state.requestlog_sqlite import SqliteRequestLog

        s: Any = SqliteRequestLog(tmp_path / "log.sqlite3")
        await s.open()
        yield s
        await s.close()
        return
    if not reachable("127.0.0.1", 5432):
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432 (set ALICE_TEST_POSTGRES_DSN)")
    from alice.state.requestlog_postgres import PostgresRequestLog

    table = f"alice_test_{uuid.uuid4().hex[:10]}"
    s = PostgresRequestLog(PG_DSN, table)
    await s.open()
    yield s
    await s.close()
    await drop_pg(table)
