"""`alice bench cache`: replay a generated Swedish assistant trace through the cache.

The trace (alice/cache/trace.py) has Zipf-popular questions, paraphrases and near-misses. Each
request is looked up as the gateway would (assistant surface, one tenant); a miss is answered
by a stand-in upstream whose answer names the request's meaning and written back before the
next request. A hit whose answer names another meaning is a false hit. Latency is the cache's
own lookup time per outcome (including embeddings), measured in-process.

It also measures what the cache adds to a request it cannot answer on the raw OpenAI surface:
the exact tier alone (always on) and with the semantic tier enabled for the model.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import numpy as np

from alice.cache.engine import SmartCache
from alice.cache.settings import CacheSettings
from alice.cache.trace import trace
from alice.pipeline import Turn
from alice.profiles import Profile

__all__ = ["bench_cache_trace", "miss_overhead"]


def _pcts(xs: list[float]) -> dict[str, float | int | None]:
    if not xs:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    a = np.array(xs)
    return {"n": len(xs), "p50_ms": round(float(np.percentile(a, 50)), 4),
            "p95_ms": round(float(np.percentile(a, 95)), 4)}


def _answer(meaning: str) -> dict[str, Any]:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "bench",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": meaning}}],
            "usage": {"prompt_tokens": 8, "completion_tokens": 8, "total_tokens": 16}}


async def _replay(cache: SmartCache, n: int, seed: int) -> dict[str, Any]:
    await cache.start()
    lat: dict[str, list[float]] = {"exact": [], "semantic": [], "miss": []}
    false_hits: Counter[str] = Counter()
    served: Counter[str] = Counter()
    try:
        for i, req in enumerate(trace(n, seed=seed)):
            turn = Turn(request_id=f"b{i}", surface="assistant", received=time.perf_counter(),
                        body={"model": "chat", "messages": [{"role": "user", "content": req.text}]},
                        tenant="bench", model="chat", route="chat")
            t = time.perf_counter()
            await cache.lookup(turn)
            ms = (time.perf_counter() - t) * 1000
            lat[turn.cache if turn.cache in lat else "miss"].append(ms)
            if turn.answer is not None:
                served[turn.cache] += 1
                if turn.answer["choices"][0]["message"]["content"] != req.meaning:
                    false_hits[turn.cache] += 1
                continue
            turn.answer, turn.complete, turn.status = _answer(req.meaning), True, 200
            await cache.write_back(turn)
            await cache.settle()  # as if the next request came after the background work
    finally:
        await cache.close()
    hits = sum(served.values())
    return {
        "requests": n, "hits": hits, "hit_rate": round(hits / n, 4), "served": dict(served),
        "false_hits": dict(false_hits), "false_hit_share_of_served": round(sum(false_hits.values()) / hits, 4)
        if hits else None,
        "latency": {k: _pcts(v) for k, v in lat.items()},
        "gate_rejections": dict(cache.counters.gate_rejections), "verified": cache.counters.verified,
        "verify_rejections": cache.counters.verify_rejections, "promotions": cache.counters.promotions,
        "memory_bytes": cache.hot.bytes, "index_bytes": cache.index.bytes if cache.index else 0,
    }


def bench_cache_trace(settings: CacheSettings, profile: Profile, *, n: int = 3000, seed: int = 1) -> dict[str, Any]:
    settings = settings.model_copy(update={"store": "memory", "enabled": True})
    cache = SmartCache(settings, profile)  # start() in _replay loads the models before the clock starts
    return asyncio.run(_replay(cache, n, seed))


async def _miss_costs(cache: SmartCache, n: int, semantic: bool) -> list[float]:
    await cache.start()
    out = []
    try:
        for i, req in enumerate(trace(n, seed=99)):
            body = {"model": "chat", "messages": [{"role": "system", "content": "Du är en hjälpsam assistent."},
                                                  {"role": "user", "content": f"{req.text} ({i})"}],
                    "temperature": 0.2}
            turn = Turn(request_id=f"m{i}", surface="openai", received=time.perf_counter(), body=body,
                        model="chat", route="chat")
            t = time.perf_counter()
            await cache.lookup(turn)
            out.append((time.perf_counter() - t) * 1000)
    finally:
        await cache.close()
    return out


def miss_overhead(settings: CacheSettings, profile: Profile, *, n: int = 300) -> dict[str, Any]:
    """Lookup cost of requests that miss on the OpenAI surface: exact only vs with semantic."""
    out = {}
    for label, on in (("exact_only", False), ("with_semantic", True)):
        sem = settings.semantic.model_copy(update={"openai": on})
        s = settings.model_copy(update={"store": "memory", "enabled": True, "semantic": sem})
        cache = SmartCache(s, profile)
        out[label] = _pcts(asyncio.run(_miss_costs(cache, n, on)))
    return out
