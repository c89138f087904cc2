import pytest

from alice.state.requestlog_store import Query, parse_since, parse_status

from .conftest import make_row


async def test_write_query_filters(store) -> None:
    rows = [make_row(i, status=200 if i % 4 else 502, tenant="t1" if i < 10 else "t2",
                     route="chat" if i % 2 else "micro") for i in range(20)]
    await store.write(rows)
    assert len(await store.query(Query(limit=1000))) == 20
    errors = await store.query(Query(status=(500, 599), limit=1000))
    assert sorted(r["id"] for r in errors) == sorted(f"req-{i}" for i in range(0, 20, 4))
    t2_micro = await store.query(Query(tenant="t2", route="micro", limit=1000))
    assert {r["id"] for r in t2_micro} == {f"req-{i}" for i in range(10, 20, 2)}
    recent = await store.query(Query(since=1_700_000_015.0, limit=1000))
    assert {r["id"] for r in recent} == {f"req-{i}" for i in range(15, 20)}
    newest = await store.query(Query(limit=3))
    assert [r["id"] for r in newest] == ["req-19", "req-18", "req-17"]
    row = newest[0]
    assert row["total_ms"] == 29.0 and row["tokens_out"] == 5 and row["cost"] == pytest.approx(0.001)


async def test_tail_find_and_percentile(store) -> None:
    await store.write([make_row(i) for i in range(100)])
    last = await store.last_seq()
    tail = await store.tail(last - 5, 10)
    assert [r["id"] for r in tail] == [f"req-{i}" for i in range(95, 100)]
    assert (await store.find("req-42"))["total_ms"] == 52.0
    assert await store.find("nope") is None
    p50 = await store.percentile("total_ms", Query(), 0.5)
    p95 = await store.percentile("total_ms", Query(), 0.95)
    assert (p50, p95) == (59.0, 104.0)
    assert await store.percentile("ttft_ms", Query(), 0.5) is None


async def test_group(store) -> None:
    await store.write([make_row(i, route="chat" if i < 6 else "micro", status=500 if i == 0 else 200)
                       for i in range(10)])
    groups = {r[0]: r for r in await store.group("route", Query())}
    assert groups["chat"][1:3] == (6, 1)
    assert groups["micro"][1:5] == (4, 0, 12, 20)


async def test_purge_and_feedback(store) -> None:
    await store.write([make_row(i) for i in range(10)])
    assert await store.write_feedback(("req-1", 1_700_000_001.0, 1, "bra", "chat", "", "", "t1")) is True
    assert await store.write_feedback(("req-1", 1_700_000_002.0, -1, None, "chat", "", "", "t1")) is False
    assert await store.write_feedback(("req-8", 1_700_000_008.0, -1, None, "chat", "", "", "t1")) is True
    summary = await store.feedback_summary(None)
    assert [tuple(r) for r in summary] == [("chat", "", "", 1, 1, 2)]
    assert await store.purge(1_700_000_005.0) == 5
    assert {r["id"] for r in await store.query(Query(limit=100))} == {f"req-{i}" for i in range(5, 10)}
    assert [tuple(r)[3:] for r in await store.feedback_summary(None)] == [(0, 1, 1)]


def test_parse_status_and_since() -> None:
    assert parse_status("502") == (502, 502)
    assert parse_status("5xx") == (500, 599)
    assert parse_status("error") == (500, 599)
    assert parse_status("ok") == (100, 399)
    assert parse_status(None) is None
    with pytest.raises(ValueError):
        parse_status("bad")
    assert parse_since("15m", now=10_000) == 10_000 - 900
    assert parse_since("2h", now=10_000) == 10_000 - 7200
    assert parse_since("123.5") == 123.5
    with pytest.raises(ValueError):
        parse_since("yesterday")
