"""Durable stores: SQLite survives a restart; two replicas share Redis and follow each other."""

import asyncio

import pytest

from alice.cache.settings import load_settings
from alice.state.cache_port import CacheRecord
from alice.state.cache_sqlite import SqliteStore
from tests.cache.cache_helpers import answer, ask


async def test_record_round_trip():
    rec = CacheRecord(key="k", namespace="n", partition="p", kind="answer", payload=b"{}", vector=b"\x00" * 8,
                      slots={"place": "Lund"}, expires=1e10)
    assert CacheRecord.from_bytes(rec.to_bytes()) == rec


async def test_sqlite_survives_restart(make_cache, tmp_path):
    section = {"store": "sqlite", "sqlite_path": str(tmp_path / "c.sqlite3")}
    first = await make_cache(section)
    await answer(first, await ask(first, "Vem skrev den kända romanen Utvandrarna?"), "Moberg")
    await first.close()  # flushes the queued write
    second = await make_cache(section)
    assert (await ask(second, "Vem skrev den kända romanen Utvandrarna?")).cache == "exact"
    assert (await ask(second, "Vem skrev kända romanen Utvandrarna?")).cache == "semantic"  # index rebuilt
    assert second.stats()["durable"]["known_keys"] == 2  # the entry and the paraphrase's alias


async def test_sqlite_batches_writes_and_reads_evicted_entries(tmp_path, make_cache):
    store = SqliteStore(tmp_path / "s.sqlite3", flush_s=10)
    cache = await make_cache({"memory_bytes": 4000}, store=store)
    for i in range(20):
        await answer(cache, await ask(cache, f"Fråga {i}"), "y" * 200)
    assert store.commits == 0  # nothing committed yet: the batch is still queued
    assert cache.hot.evictions > 0
    hit = await ask(cache, "Fråga 0")  # evicted from memory, found in the (queued) store
    assert hit.cache == "exact"
    await store._flush()
    assert store.commits == 1 and store.writes == 20


async def test_sqlite_purge_by_tenant(make_cache, tmp_path):
    section = {"store": "sqlite", "sqlite_path": str(tmp_path / "p.sqlite3")}
    cache = await make_cache(section)
    for tenant in ("a", "b"):
        await answer(cache, await ask(cache, "Hej", tenant=tenant), "Hej!")
    await cache.purge("a")
    await cache.close()
    again = await make_cache(section)
    assert (await ask(again, "Hej", tenant="a")).cache == "miss"
    assert (await ask(again, "Hej", tenant="b")).cache == "exact"


def test_redis_store_needs_a_url():
    from alice.cache.engine import SmartCache
    from alice.profiles import get_profile

    with pytest.raises(ValueError, match="redis_url"):
        SmartCache(load_settings({"store": "redis"}), get_profile("fibonacci"))


async def _eventually(check, within=5.0):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


@pytest.mark.integration
async def test_two_replicas_share_redis(redis_server, make_cache):
    section = {"store": "redis", "redis_url": redis_server, "redis_prefix": f"test:{id(object())}"}
    a = await make_cache(section)
    b = await make_cache(section)
    await answer(a, await ask(a, "Vad är huvudstaden i Norge?"), "Oslo")

    async def b_serves_paraphrase():
        return (await ask(b, "Vilken är huvudstaden i Norge?")).cache == "semantic"

    assert await _eventually(b_serves_paraphrase)  # b's index followed a's entry over the stream
    assert (await ask(b, "Vad är huvudstaden i Norge?")).cache == "exact"
    assert (await ask(b, "Vad är huvudstaden i Norge?", tenant="other")).cache == "miss"
    # a third replica started later rebuilds from Redis
    c = await make_cache(section)
    assert (await ask(c, "Vad är huvudstaden i Norge?")).cache == "exact"
    for replica in (a, b, c):
        await replica.flush()  # hits promote entries: let those writes land before the purge
    # a purge on one replica reaches the others
    await b.purge("t1")

    async def a_forgot():
        return (await ask(a, "Vad är huvudstaden i Norge?")).cache == "miss"

    assert await _eventually(a_forgot)
