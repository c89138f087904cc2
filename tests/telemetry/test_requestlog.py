import asyncio
from pathlib import Path
from typing import Any

from alice.state.requestlog_sqlite import SqliteRequestLog
from alice.state.requestlog_store import Query
from alice.telemetry.requestlog import TEXT_INDEX, RequestLog

from .conftest import make_row


class FlakyStore:
    """A store that fails its first `failures` writes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.rows: list[tuple[Any, ...]] = []

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def purge(self, before_ts: float) -> int:
        return 0

    async def write(self, rows: list[tuple[Any, ...]]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store down")
        self.rows.extend(rows)


async def test_rows_are_written_in_batches_by_the_interval(tmp_path: Path) -> None:
    store = SqliteRequestLog(tmp_path / "log.sqlite3")
    counts: list[tuple[int, int]] = []
    rl = RequestLog(store, flush_interval_s=0.1, on_written=lambda w, d: counts.append((w, d)))
    await rl.start()
    for i in range(50):
        rl.add(make_row(i))
    assert rl.buffered == 50  # nothing written inline
    await asyncio.sleep(0.3)
    assert rl.buffered == 0 and rl.written == 50
    assert counts == [(50, 0)]
    assert len(await store.query(Query(limit=100))) == 50
    await rl.close()


async def test_clean_close_writes_everything(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    rl = RequestLog(SqliteRequestLog(path), flush_interval_s=5)
    await rl.start()
    for i in range(1234):
        rl.add(make_row(i))
    await rl.close()
    check = SqliteRequestLog(path)
    await check.open()
    assert len(await check.query(Query(limit=5000))) == 1234
    await check.close()


async def test_failed_writes_are_kept_and_retried_then_bounded() -> None:
    store = FlakyStore(failures=2)
    dropped: list[int] = []
    rl = RequestLog(store, flush_interval_s=10, max_buffer=150, on_written=lambda w, d: d and dropped.append(d))
    for i in range(100):
        rl.add(make_row(i))
    assert await rl.flush() == 0  # failure 1: kept
    for i in range(100, 200):
        rl.add(make_row(i))
    assert await rl.flush() == 0  # failure 2: 200 kept > 150 → oldest 50 dropped
    assert rl.dropped == 50 and dropped == [50]
    assert await rl.flush() == 150
    assert [r[0] for r in store.rows] == [f"req-{i}" for i in range(50, 200)]


async def test_text_is_redacted_off_the_hot_path_or_not_written() -> None:
    store = FlakyStore(failures=0)
    rl = RequestLog(store, redact=lambda t: t.replace("070-1234567", "<PHONE>"))
    rl.add(make_row(1, text="ring 070-1234567"))
    rl.add(make_row(2, text=None))
    await rl.flush()
    assert [r[TEXT_INDEX] for r in store.rows] == ["ring <PHONE>", None]
    no_redactor = RequestLog(store)
    no_redactor.add(make_row(3, text="ring 070-1234567"))
    await no_redactor.flush()
    assert store.rows[-1][TEXT_INDEX] is None  # never raw
