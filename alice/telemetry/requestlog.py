"""The request log: one row per request, buffered in memory and written in batches.

`add(row)` runs inline on the hot path and only appends a tuple to a list. A task on the event
loop swaps the list every `flush_interval_s` (0.5 s) and hands the batch to the store (SQLite:
its own thread; Postgres: asyncpg). Loss bounds, by design and tested:
  - clean shutdown (SIGTERM, Ctrl-C): nothing is lost; `close()` writes what is buffered;
  - SIGKILL or a crash: at most the rows of the last flush interval plus the batch being
    written, i.e. well under one second of requests (the test allows exactly 1 s).
If the store fails (Postgres down) batches are kept and retried; past `max_buffer` rows the
oldest are dropped and counted (metric `alice_requestlog_rows_total{result="dropped"}`).

Message text is never logged raw: with `log.text: redacted`, the writer (off the hot path)
replaces it with `alice.guard.pii.redact(text)`; without that function no text is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from alice.state.requestlog_store import COLUMNS, RequestLogStore

__all__ = ["TEXT_INDEX", "RequestLog", "load_redactor"]

log = logging.getLogger("alice.telemetry.requestlog")

TEXT_INDEX = COLUMNS.index("text")
_PURGE_EVERY_S = 3600.0


def load_redactor() -> Callable[[str], str | None] | None:
    """The guard's PII redaction (`redact(text, reversible=False).text`), if that module exists.
    A result that is not text means "log nothing"."""
    try:
        from alice.guard.pii import redact
    except ImportError:
        return None

    def redacted(text: str) -> str | None:
        result = redact(text, reversible=False)  # the log must not hold the originals
        out = result if isinstance(result, str) else getattr(result, "text", None)
        return out if isinstance(out, str) else None

    return redacted


class RequestLog:
    def __init__(
        self,
        store: RequestLogStore,
        *,
        flush_interval_s: float = 0.5,
        max_buffer: int = 100_000,
        retention_days: float = 30.0,
        redact: Callable[[str], str | None] | None = None,
        on_written: Callable[[int, int], None] | None = None,
    ) -> None:
        self.store = store
        self.flush_interval_s = flush_interval_s
        self.max_buffer = max_buffer
        self.retention_days = retention_days
        self.redact = redact
        self.on_written = on_written or (lambda written, dropped: None)
        self._buf: list[tuple[Any, ...]] = []
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        self._last_purge = 0.0
        self.written = 0
        self.dropped = 0

    def add(self, row: tuple[Any, ...]) -> None:
        """Hot path: queue one row (the row's text, if any, is still raw here)."""
        self._buf.append(row)

    @property
    def buffered(self) -> int:
        return len(self._buf)

    async def start(self) -> None:
        await self.store.open()
        await self.purge()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.flush_interval_s)
            await self.flush()
            if time.monotonic() - self._last_purge > _PURGE_EVERY_S:
                await self.purge()

    def _finish(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Redact (or drop) the text column before anything reaches the store."""
        redact = self.redact
        out = []
        for r in rows:
            text = r[TEXT_INDEX]
            if text is not None:
                text = redact(text) if redact is not None else None
                r = (*r[:TEXT_INDEX], text, *r[TEXT_INDEX + 1:])
            out.append(r)
        return out

    async def flush(self) -> int:
        """Write what is buffered now; on failure keep it (bounded) for the next round."""
        async with self._lock:
            rows, self._buf = self._buf, []
            if not rows:
                return 0
            try:
                if any(r[TEXT_INDEX] is not None for r in rows):
                    rows = await asyncio.get_running_loop().run_in_executor(None, self._finish, rows)
                await self.store.write(rows)
            except Exception:
                log.exception("request log: writing %d rows failed; keeping them for the next try", len(rows))
                self._buf = rows + self._buf
                overflow = len(self._buf) - self.max_buffer
                if overflow > 0:
                    del self._buf[:overflow]
                    self.dropped += overflow
                    self.on_written(0, overflow)
                return 0
            self.written += len(rows)
            self.on_written(len(rows), 0)
            return len(rows)

    async def purge(self) -> int:
        self._last_purge = time.monotonic()
        try:
            n = await self.store.purge(time.time() - self.retention_days * 86400)
        except Exception:
            log.exception("request log: purge failed")
            return 0
        if n:
            log.info("request log: purged %d rows older than %g days", n, self.retention_days)
        return n

    async def close(self) -> None:
        # Let a write in progress finish (cancelling it could lose its batch), then drain.
        self._stop.set()
        if self._task is not None:
            await self._task
        for _ in range(3):  # a clean shutdown loses nothing unless the store itself is gone
            await self.flush()
            if not self._buf:
                break
        if self._buf:
            log.error("request log: %d rows could not be written at shutdown", len(self._buf))
        await self.store.close()
