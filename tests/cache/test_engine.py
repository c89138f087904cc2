"""The cache library end to end, in-process: tiers, isolation, promotion, bypass, rules."""

import asyncio
import threading
import time

import numpy as np
import pytest

from alice.api.errors import ApiError
from alice.backends.errors import ContentFiltered, ContextLength, ServerError, Throttled
from alice.cache.negative import CachedFailure
from tests.cache.cache_helpers import BagEmbedder, answer, ask, completion, make_turn


async def test_exact_hit_replays_the_answer_with_a_new_id(make_cache):
    cache = await make_cache()
    t = await ask(cache, "Vad är huvudstaden i Norge?")
    assert t.cache == "miss" and t.answer is None
    await answer(cache, t, "Oslo")
    hit = await ask(cache, "Vad är huvudstaden i Norge?")
    assert hit.cache == "exact" and hit.similarity == 1.0
    assert hit.answer["choices"][0]["message"]["content"] == "Oslo"
    assert hit.answer["id"] == f"chatcmpl-{hit.request_id}" and hit.backend == "cache"
    assert cache.stats()["tiers"]["exact"]["hits"] == 1


async def test_semantic_hit_passes_the_gate_and_near_misses_do_not(make_cache):
    cache = await make_cache()
    t = await ask(cache, "Hur blir vädret i Göteborg imorgon?")
    await answer(cache, t, "Sol i Göteborg")
    para = await ask(cache, "Hej! Vädret i Göteborg imorgon?")
    assert para.cache == "semantic" and 0 < para.similarity < 1
    assert para.answer["choices"][0]["message"]["content"] == "Sol i Göteborg"
    other = await ask(cache, "Hur blir vädret i Malmö imorgon?")
    assert other.cache == "miss" and other.answer is None
    assert cache.stats()["gate_rejections"]["names"] >= 1


async def test_semantic_hit_is_remembered_as_an_exact_alias(make_cache):
    cache = await make_cache()
    await answer(cache, await ask(cache, "Vad är huvudstaden i Norge?"), "Oslo")
    assert (await ask(cache, "Vilken är huvudstaden i Norge?")).cache == "semantic"
    assert (await ask(cache, "Vilken är huvudstaden i Norge?")).cache == "exact"


async def test_openai_surface_is_exact_only_unless_enabled_per_model(make_cache):
    cache = await make_cache()
    await answer(cache, await ask(cache, "Vad är huvudstaden i Norge?", surface="openai"), "Oslo")
    t = await ask(cache, "Vilken är huvudstaden i Norge?", surface="openai")
    assert t.cache == "miss" and t.embedding is None  # no embedding computed at all
    on = await make_cache({"semantic": {"models": {"chat": True}}})
    await answer(on, await ask(on, "Vad är huvudstaden i Norge?", surface="openai"), "Oslo")
    assert (await ask(on, "Vilken är huvudstaden i Norge?", surface="openai")).cache == "semantic"
    assert (await ask(on, "Vilken är huvudstaden i Norge?", surface="openai", model="other")).cache == "miss"


async def test_tenants_are_isolated_unless_a_namespace_is_shared(make_cache):
    cache = await make_cache()
    await answer(cache, await ask(cache, "Vad är huvudstaden i Norge?", tenant="a"), "Oslo")
    assert (await ask(cache, "Vad är huvudstaden i Norge?", tenant="b")).cache == "miss"
    assert (await ask(cache, "Vilken är huvudstaden i Norge?", tenant="b")).cache == "miss"
    shared = await make_cache({"namespaces": {"a": "acme", "b": "acme"}})
    await answer(shared, await ask(shared, "Vad är huvudstaden i Norge?", tenant="a"), "Oslo")
    assert (await ask(shared, "Vad är huvudstaden i Norge?", tenant="b")).cache == "exact"
    assert (await ask(shared, "Vad är huvudstaden i Norge?", tenant="c")).cache == "miss"


async def test_purge_one_tenant(make_cache):
    cache = await make_cache()
    for tenant in ("a", "b"):
        await answer(cache, await ask(cache, "Vad är huvudstaden i Norge?", tenant=tenant), "Oslo")
    assert await cache.purge("a") == 1
    assert (await ask(cache, "Vad är huvudstaden i Norge?", tenant="a")).cache == "miss"
    assert (await ask(cache, "Vilken är huvudstaden i Norge?", tenant="a")).cache == "miss"  # index row gone
    assert (await ask(cache, "Vad är huvudstaden i Norge?", tenant="b")).cache == "exact"


async def test_promotion_climbs_the_ttl_ladder(make_cache):
    cache = await make_cache()  # fibonacci: 1, 2, 3, 5 … hours; promotion after 1, 2, 3, 5 … hits
    await answer(cache, await ask(cache, "Vem skrev Röda rummet?"), "Strindberg")
    rec = cache.hot.get_now("t1", make_key(cache, "Vem skrev Röda rummet?"))
    assert rec.level == 0 and rec.expires - time.time() == pytest.approx(3600, abs=5)
    for _ in range(1 + 2 + 3):
        assert (await ask(cache, "Vem skrev Röda rummet?")).cache == "exact"
    assert rec.level == 3 and cache.stats()["promotions"] == 3
    assert rec.expires - time.time() == pytest.approx(5 * 3600, abs=5)


def make_key(cache, text):
    from alice.cache.keys import build_key

    return build_key(make_turn(text).body, "t1", "chat", cache.settings.policy("assistant")).exact


async def test_volatile_intents_are_never_cached_and_weather_briefly(make_cache):
    cache = await make_cache()
    t = make_turn("Vad är klockan?")
    t.intent = "time.now"
    await cache.lookup(t)
    await answer(cache, t, "12:00")
    again = make_turn("Vad är klockan?")
    again.intent = "time.now"
    await cache.lookup(again)
    assert again.cache == "miss" and cache.stats()["bypassed"] == 2
    # intent unknown on the assistant surface: the words decide
    await answer(cache, await ask(cache, "Hur blir vädret i Lund?"), "Regn")
    rec = cache.hot.get_now("t1", make_key(cache, "Hur blir vädret i Lund?"))
    assert rec.expires - time.time() == pytest.approx(600, abs=5)


async def test_cache_control_no_cache_and_no_store(make_cache):
    cache = await make_cache()
    await answer(cache, await ask(cache, "Vem skrev Doktor Glas?"), "Söderberg")
    fresh = await ask(cache, "Vem skrev Doktor Glas?", headers={"cache-control": "no-cache"})
    assert fresh.cache == "miss"
    await answer(cache, fresh, "Hjalmar Söderberg")  # no-cache still stores the fresh answer
    assert (await ask(cache, "Vem skrev Doktor Glas?")).answer["choices"][0]["message"]["content"] == \
        "Hjalmar Söderberg"
    private = await ask(cache, "Vem skrev Mio min Mio?", headers={"cache-control": "no-store, max-age=0"})
    await answer(cache, private, "Lindgren")
    assert (await ask(cache, "Vem skrev Mio min Mio?")).cache == "miss"


async def test_incomplete_streams_tool_calls_and_errors_are_not_stored(make_cache):
    cache = await make_cache()
    cut = await ask(cache, "Berätta en saga", stream=True)
    cut.answer, cut.complete, cut.status = completion("Det var en gång"), False, 502
    await cache.write_back(cut)
    cut2 = await ask(cache, "Berätta en saga")
    cut2.answer, cut2.complete, cut2.status = completion("Det var en"), False, 200
    await cache.write_back(cut2)
    tool = await ask(cache, "Tänd lampan i köket", surface="openai")
    tool.answer = completion("", choices=[{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]}}])
    tool.complete, tool.status = True, 200
    await cache.write_back(tool)
    assert cache.stats()["stores"] == 0
    assert cache.stats()["not_stored"] == {"incomplete": 1, "tool call": 1}


def failed(turn, cause, status):
    """What the API layer leaves on a turn whose upstream failed."""
    try:
        try:
            raise cause
        except Exception:
            raise ApiError(cause.message, status=status, body=b'{"error": {"message": "nope"}}') from None
    except ApiError as exc:
        turn.status, turn.error, turn.meta["api_error"] = exc.status, exc.message, exc
    return turn


@pytest.mark.parametrize(("cause", "status", "cached"), [
    (ContextLength("too long", status=400), 400, True),
    (ContentFiltered("filtered", status=400), 400, True),
    (Throttled("slow down", status=429), 503, False),
    (ServerError("boom", status=500), 502, False),
])
async def test_only_deterministic_failures_are_cached_negatively(make_cache, cause, status, cached):
    cache = await make_cache()
    await cache.write_back(failed(await ask(cache, "En mycket lång fråga"), cause, status))
    t = make_turn("En mycket lång fråga")
    if cached:
        with pytest.raises(CachedFailure) as info:
            await cache.lookup(t)
        assert info.value.status == 400 and info.value.render() == b'{"error": {"message": "nope"}}'
        assert (b"x-alice-cache", b"negative") in info.value.headers() and t.cache == "negative"
        rec = next(iter(cache.hot._items.values()))
        assert rec.kind == "negative" and rec.level == 0 and rec.expires - time.time() <= 60  # hits never promote
    else:
        await cache.lookup(t)
        assert t.cache == "miss"


async def test_alices_own_refusals_are_not_cached(make_cache):
    cache = await make_cache()
    t = await ask(cache, "Hej")
    t.status, t.error = 429, "rate limited"
    t.meta["api_error"] = ApiError("rate limited", status=429)
    await cache.write_back(t)
    await cache.lookup(t2 := make_turn("Hej"))
    assert t2.cache == "miss" and cache.stats()["negative_stores"] == 0


async def test_multi_turn_semantic_only_with_the_same_context(make_cache):
    cache = await make_cache()
    ctx = [{"role": "user", "content": "Jag planerar en resa."}, {"role": "assistant", "content": "Trevligt!"}]
    await answer(cache, await ask(cache, messages=[*ctx, {"role": "user", "content": "Vad är huvudstaden i Norge?"}]),
                 "Oslo")
    same = await ask(cache, messages=[*ctx, {"role": "user", "content": "Vilken är huvudstaden i Norge?"}])
    assert same.cache == "semantic"
    other_ctx = [{"role": "user", "content": "Jag skriver en uppsats."}, ctx[1]]
    diff = await ask(cache, messages=[*other_ctx, {"role": "user", "content": "Vilken är huvudstaden i Norge?"}])
    assert diff.cache == "miss"


async def test_shared_embedding_is_reused_and_exposed(make_cache):
    emb = BagEmbedder()
    cache = await make_cache(embedder=emb)
    t = make_turn("Vad är huvudstaden i Norge?")
    t.embedding = emb.embed(["vad är huvudstaden i norge"])[0]
    t.meta["embedder"] = "static"
    await cache.lookup(t)
    assert cache.stats()["embeddings"] == {"computed": 0, "reused": 1, "mean_ms": None}
    fresh = await ask(cache, "Vem skrev Utvandrarna?")
    assert isinstance(fresh.embedding, np.ndarray) and fresh.meta["embedder"] == "static"


async def test_memory_is_bounded_by_bytes_with_lru_eviction(make_cache):
    cache = await make_cache({"memory_bytes": 20_000})
    for i in range(100):
        await answer(cache, await ask(cache, f"Fråga nummer {i}"), "x" * 300)
    stats = cache.stats()
    assert stats["memory"]["bytes"] <= 20_000 and stats["memory"]["evictions"] > 0
    assert (await ask(cache, "Fråga nummer 99")).cache == "exact"
    assert (await ask(cache, "Fråga nummer 0")).cache == "miss"


async def test_verify_band_needs_the_second_stage(make_cache):
    class Verifier(BagEmbedder):
        def __init__(self, agree):
            super().__init__("e5", 32)
            self.agree = agree

        def embed(self, texts):
            v = np.ones((len(texts), 32), dtype=np.float32) / np.sqrt(32)
            if not self.agree:
                v[:, :16] *= -1 if "blev" in texts[0] else 1
            return v

    section = {"semantic": {"verifier": "e5", "lexical_min": 1.01,
                            "bands": {"exact": 0.999, "golden_close": 0.998, "golden_medium": 0.9,
                                      "fibonacci_match": 0.5, "spiral_neighbor": 0.3}}}
    for agree, expected in ((True, "semantic"), (False, "miss")):
        cache = await make_cache(section, verifier=Verifier(agree))
        await answer(cache, await ask(cache, "Vem var Sveriges första kung?"), "Erik")
        await cache.settle()  # the verifier's vector is computed after the write
        t = await ask(cache, "Vem blev den första kungen i Sverige?")
        assert t.cache == expected, cache.stats()


async def test_the_gateway_starts_before_its_verifier_is_loaded(monkeypatch):
    """e5 takes seconds to load: the gateway starts without waiting, the verify bands miss until
    the verifier is in, and serve again from then on."""
    from alice.cache.engine import SmartCache
    from alice.cache.settings import load_settings
    from alice.nlu import embed
    from alice.profiles import get_profile

    loaded = threading.Event()

    class Agreeing(BagEmbedder):
        def embed(self, texts):
            return np.ones((len(texts), 32), dtype=np.float32) / np.sqrt(32)

    def slow_verifier():
        loaded.wait(10)
        return Agreeing("slow-e5", 32)

    monkeypatch.setitem(embed._FACTORIES, "slow-e5", slow_verifier)
    section = {"store": "memory", "semantic": {
        "verifier": "slow-e5", "lexical_min": 1.01,
        "bands": {"exact": 0.999, "golden_close": 0.998, "golden_medium": 0.9, "fibonacci_match": 0.5,
                  "spiral_neighbor": 0.3}}}
    cache = SmartCache(load_settings(section), get_profile("fibonacci"), embedder=BagEmbedder())
    await asyncio.wait_for(cache.start(verifier_in_background=True), 5)
    try:
        assert cache.stats()["verifier_ready"] is False
        await answer(cache, await ask(cache, "Vem var Sveriges första kung?"), "Erik")
        await cache.settle()
        assert (await ask(cache, "Vem blev den första kungen i Sverige?")).cache == "miss"
        loaded.set()
        for _ in range(100):
            if cache.stats()["verifier_ready"]:
                break
            await asyncio.sleep(0.05)
        assert cache.stats()["verifier_ready"] is True
        await cache.purge(None)  # the first entry was stored without the verifier's vector
        await answer(cache, await ask(cache, "Vem var Sveriges första kung?"), "Erik")
        await cache.settle()
        assert (await ask(cache, "Vem blev den första kungen i Sverige?")).cache == "semantic"
    finally:
        loaded.set()
        await cache.close()


async def test_a_verifier_lets_the_lowest_verify_band_reach_further(make_cache):
    def floors(cache):
        return {b["band"]: b["floor"] for b in cache.bands.describe()}

    alone = floors(await make_cache())
    verified = floors(await make_cache({"semantic": {"verifier": "e5"}}, verifier=BagEmbedder("e5", 32)))
    pinned = floors(await make_cache({"semantic": {"verifier": "e5", "bands": {"spiral_neighbor": 0.6}}},
                                     verifier=BagEmbedder("e5", 32)))
    assert alone["spiral_neighbor"] > 0.69 and verified["spiral_neighbor"] == 0.45
    assert pinned["spiral_neighbor"] == 0.6  # a configured floor wins
    assert {k: v for k, v in verified.items() if k != "spiral_neighbor"} == {
        k: v for k, v in alone.items() if k != "spiral_neighbor"}
