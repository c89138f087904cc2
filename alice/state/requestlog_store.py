"""The request-log port: one row per request, plus feedback rows, in SQLite or Postgres.

Both adapters share the columns and the SQL below; they differ only in placeholders (`?` vs
`$n`), in the driver, and in where the work runs (SQLite: one dedicated thread; Postgres:
asyncpg on the event loop).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "COLUMNS",
    "FEEDBACK_COLUMNS",
    "Query",
    "RequestLogStore",
    "Sql",
    "parse_since",
    "parse_status",
]

# Order matters: rows are plain tuples in this order (cheap to build on the hot path).
COLUMNS: tuple[str, ...] = (
    "id", "ts", "tenant", "agent", "surface", "route", "model", "intent", "tool", "backend", "upstream_model",
    "cache", "status", "error", "stream", "complete", "total_ms", "overhead_ms", "upstream_ms", "ttft_ms",
    "tokens_in", "tokens_out", "cost", "attempts", "text",
)
FEEDBACK_COLUMNS: tuple[str, ...] = ("request_id", "ts", "rating", "comment", "route", "intent", "tool", "tenant")

_TYPES = {
    "ts": "DOUBLE PRECISION", "status": "INTEGER", "stream": "INTEGER", "complete": "INTEGER",
    "total_ms": "DOUBLE PRECISION", "overhead_ms": "DOUBLE PRECISION", "upstream_ms": "DOUBLE PRECISION",
    "ttft_ms": "DOUBLE PRECISION", "tokens_in": "INTEGER", "tokens_out": "INTEGER", "cost": "DOUBLE PRECISION",
    "rating": "INTEGER",
}


def parse_status(spec: str | None) -> tuple[int, int] | None:
    """'502' → (502, 502); '5xx' → (500, 599); 'error' → (500, 599); 'ok' → (100, 399)."""
    if not spec:
        return None
    s = spec.strip().lower()
    if s == "error":
        return 500, 599
    if s == "ok":
        return 100, 399
    if re.fullmatch(r"[1-5]xx", s):
        lo = int(s[0]) * 100
        return lo, lo + 99
    if re.fullmatch(r"\d{3}", s):
        return int(s), int(s)
    raise ValueError(f"status filter {spec!r}: use a code (502), a class (5xx), 'error' or 'ok'")


def parse_since(spec: str | None, now: float | None = None) -> float | None:
    """'90s', '15m', '2h', '7d' ago, or an epoch number → epoch seconds."""
    if not spec:
        return None
    now = time.time() if now is None else now
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", spec)
    if not m:
        raise ValueError(f"since {spec!r}: use e.g. 90s, 15m, 2h, 7d, or an epoch time")
    value, unit = float(m.group(1)), m.group(2)
    if not unit:
        return value
    return now - value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


@dataclass(frozen=True, slots=True)
class Query:
    status: tuple[int, int] | None = None
    route: str | None = None
    tenant: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 100


class Sql:
    """The statements, for one table name and one placeholder style."""

    def __init__(self, table: str, dollar: bool) -> None:
        self.table = table
        self.feedback = f"{table}_feedback"
        self._dollar = dollar

    def p(self, i: int) -> str:
        return f"${i}" if self._dollar else "?"

    def create(self, serial: str) -> list[str]:
        cols = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in COLUMNS)
        fcols = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in FEEDBACK_COLUMNS[1:])
        t, f = self.table, self.feedback
        return [
            f"CREATE TABLE IF NOT EXISTS {t} (seq {serial}, {cols})",
            f"CREATE INDEX IF NOT EXISTS {t}_ts ON {t} (ts)",
            f"CREATE INDEX IF NOT EXISTS {t}_id ON {t} (id)",
            f"CREATE TABLE IF NOT EXISTS {f} (request_id TEXT PRIMARY KEY, {fcols})",
        ]

    def insert_feedback(self) -> str:
        marks = ", ".join(self.p(i + 1) for i in range(len(FEEDBACK_COLUMNS)))
        return (f"INSERT INTO {self.feedback} ({', '.join(FEEDBACK_COLUMNS)}) VALUES ({marks}) "
                "ON CONFLICT (request_id) DO NOTHING")

    def find(self) -> str:
        return f"SELECT seq, {', '.join(COLUMNS)} FROM {self.table} WHERE id = {self.p(1)} ORDER BY seq DESC LIMIT 1"

    def where(self, q: Query) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            marks = [self.p(len(args) + i + 1) for i in range(len(values))]
            clauses.append(sql.format(*marks))
            args.extend(values)

        if q.status:
            add("status BETWEEN {} AND {}", *q.status)
        if q.route:
            add("route = {}", q.route)
        if q.tenant:
            add("tenant = {}", q.tenant)
        if q.since is not None:
            add("ts >= {}", q.since)
        if q.until is not None:
            add("ts < {}", q.until)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def query(self, q: Query) -> tuple[str, list[Any]]:
        where, args = self.where(q)
        return (f"SELECT seq, {', '.join(COLUMNS)} FROM {self.table}{where} ORDER BY seq DESC "
                f"LIMIT {int(q.limit)}"), args

    def tail(self) -> str:
        return (f"SELECT seq, {', '.join(COLUMNS)} FROM {self.table} WHERE seq > {self.p(1)} ORDER BY seq "
                f"LIMIT {self.p(2)}")

    def last_seq(self) -> str:
        return f"SELECT COALESCE(MAX(seq), 0) FROM {self.table}"

    def purge(self) -> list[str]:
        return [f"DELETE FROM {t} WHERE ts < {self.p(1)}" for t in (self.table, self.feedback)]

    def group(self, column: str, q: Query) -> tuple[str, list[Any]]:
        """Per value of `column`: requests, errors, tokens, cost, mean latency and overhead."""
        if column not in COLUMNS:
            raise ValueError(f"cannot group by {column!r}")
        where, args = self.where(q)
        return (f"SELECT COALESCE({column}, ''), COUNT(*), SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END), "
                "COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0), COALESCE(SUM(cost), 0), "
                f"AVG(total_ms), AVG(overhead_ms) FROM {self.table}{where} GROUP BY 1 ORDER BY 2 DESC"), args

    def nth(self, column: str, q: Query) -> tuple[str, list[Any]]:
        """The value at an offset of `column` in ascending order (for percentiles); the offset is the
        last argument."""
        where, args = self.where(q)
        cond = f"{where} AND {column} IS NOT NULL" if where else f" WHERE {column} IS NOT NULL"
        return (f"SELECT {column} FROM {self.table}{cond} ORDER BY {column} LIMIT 1 OFFSET {self.p(len(args) + 1)}",
                args)

    def count(self, column: str, q: Query) -> tuple[str, list[Any]]:
        where, args = self.where(q)
        cond = f"{where} AND {column} IS NOT NULL" if where else f" WHERE {column} IS NOT NULL"
        return f"SELECT COUNT(*) FROM {self.table}{cond}", args

    def feedback_summary(self, since: float | None) -> tuple[str, list[Any]]:
        where, args = ("", []) if since is None else (f" WHERE ts >= {self.p(1)}", [since])
        return (f"SELECT COALESCE(route, ''), COALESCE(intent, ''), COALESCE(tool, ''), "
                "SUM(CASE WHEN rating > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN rating < 0 THEN 1 ELSE 0 END), "
                f"COUNT(*) FROM {self.feedback}{where} GROUP BY 1, 2, 3 ORDER BY 6 DESC"), args


class RequestLogStore(Protocol):
    """What the request log and the CLI need from a store. Rows are dicts with `seq` + COLUMNS."""

    async def open(self) -> None: ...

    async def write(self, rows: list[tuple[Any, ...]]) -> None: ...

    async def write_feedback(self, row: tuple[Any, ...]) -> bool: ...

    async def find(self, request_id: str) -> dict[str, Any] | None: ...

    async def query(self, q: Query) -> list[dict[str, Any]]: ...

    async def tail(self, after_seq: int, limit: int) -> list[dict[str, Any]]: ...

    async def last_seq(self) -> int: ...

    async def purge(self, before_ts: float) -> int: ...

    async def group(self, column: str, q: Query) -> list[tuple[Any, ...]]: ...

    async def percentile(self, column: str, q: Query, p: float) -> float | None: ...

    async def feedback_summary(self, since: float | None) -> list[tuple[Any, ...]]: ...

    async def close(self) -> None: ...
