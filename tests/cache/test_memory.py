"""The byte budgets hold under churn, including records that grow after they were stored."""

from __future__ import annotations

from alice.cache.soak import soak
from tests.cache.cache_helpers import BagEmbedder, answer, ask


async def test_budget_holds_when_verifier_vectors_arrive_after_the_write(make_cache):
    # The verifier's vector is attached in the background after the record entered the hot tier:
    # it must be counted then, and evicting the record must subtract exactly what was counted.
    cache = await make_cache({"memory_bytes": 60_000, "index_bytes": 40_000, "semantic": {"verifier": "e5"}},
                             verifier=BagEmbedder("e5", 384))
    for i in range(300):
        await answer(cache, await ask(cache, f"Hur långt är det till stad nummer {i} härifrån?"), "svar " * (i % 50))
        if i % 7 == 0:
            await cache.settle()
    await cache.settle()
    assert cache.hot.evictions > 0 and cache.index is not None and cache.index.evictions > 0
    assert cache.hot.bytes == cache.hot.held_bytes() <= 60_000
    assert 0 < cache.index.bytes <= 40_000
    assert any(r.verify_vector is not None for r in cache.hot._items.values())


async def test_soak_reports_the_budget_held_and_samples_over_time(make_cache):
    cache = await make_cache({"memory_bytes": 50_000, "index_bytes": 30_000})
    res = await soak(cache, 1.0, sample_s=0.25)
    assert res.stores > 50 and res.within_budget
    assert res.peak_memory_bytes <= 50_000 and res.drift_bytes == 0
    assert len(res.rows) >= 4 and res.rows[-1]["evictions"] > 0
    assert all(r["index_bytes"] <= 30_000 for r in res.rows)
