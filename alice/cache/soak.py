"""`alice bench cache --soak SECONDS`: is the cache's memory bounded by its byte budgets over time?

A real SmartCache (memory store, the configured embedders) is driven in-process with a stream of
distinct Swedish questions, far more than the budgets hold: each is looked up, then answered with
an answer of random length and written back, as the gateway does on a miss. Every `sample_s`
seconds a row records the hot tier's and the vector index's accounted bytes against their budgets
and the process RSS. At the end the hot tier's accounted bytes are checked against the sum of its
records' sizes, so an accounting drift (bytes counted on insert, not on eviction) cannot hide.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil

from alice.cache.engine import SmartCache
from alice.cache.trace import trace
from alice.pipeline import Turn

__all__ = ["SoakResult", "markdown", "soak"]

_FILLER = ("Svaret beror på sammanhanget, men i korthet gäller följande. ",
           "Det finns flera skäl till det, och de vanligaste är dessa. ",
           "Enligt de senaste uppgifterna ser det ut ungefär så här. ")


@dataclass
class SoakResult:
    seconds: float = 0.0
    requests: int = 0
    stores: int = 0
    hits: int = 0
    memory_budget: int = 0
    index_budget: int = 0
    peak_memory_bytes: int = 0  # the hot tier's accounted bytes, checked after every write-back
    peak_rss_mb: float = 0.0
    drift_bytes: int = 0  # accounted minus the sum of the held records' sizes, at the end
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def within_budget(self) -> bool:
        return (self.peak_memory_bytes <= self.memory_budget and self.drift_bytes == 0
                and all(r["index_bytes"] <= self.index_budget for r in self.rows))


def _questions(seed: int) -> Iterator[str]:
    """Trace questions in batches (a trace draws its whole sample up front); a counter makes each distinct."""
    i = 0
    for batch in itertools.count(seed):
        for req in trace(4096, seed=batch):
            yield f"{req.text} (ärende {i})"
            i += 1


def _answer(rng: random.Random, i: int) -> dict[str, Any]:
    text = f"Svar {i}. " + "".join(rng.choice(_FILLER) for _ in range(rng.randint(3, 60)))
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "soak",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 8, "completion_tokens": 8, "total_tokens": 16}}


def _row(cache: SmartCache, started: float, res: SoakResult, proc: psutil.Process) -> dict[str, Any]:
    rss = proc.memory_info().rss / 2**20
    res.peak_rss_mb = max(res.peak_rss_mb, rss)
    index = cache.index
    return {"t_s": round(time.monotonic() - started, 1), "requests": res.requests, "stores": res.stores,
            "entries": len(cache.hot), "memory_bytes": cache.hot.bytes, "evictions": cache.hot.evictions,
            "index_entries": len(index) if index is not None else 0,
            "index_bytes": index.bytes if index is not None else 0,
            "rss_mb": round(rss, 1)}


async def soak(cache: SmartCache, seconds: float, *, sample_s: float = 60.0, seed: int = 7) -> SoakResult:
    """Drive `cache` (started) for `seconds` with distinct prompts; sample bytes and RSS."""
    rng = random.Random(seed)
    proc = psutil.Process()
    res = SoakResult(memory_budget=cache.hot.max_bytes,
                     index_budget=cache.index.max_bytes if cache.index is not None else 0)
    started = time.monotonic()
    next_sample = started
    questions = _questions(seed)
    while True:
        now = time.monotonic()
        if now >= next_sample:
            res.rows.append(_row(cache, started, res, proc))
            next_sample = now + sample_s
        if now - started >= seconds:
            break
        i = res.requests
        text = next(questions)
        turn = Turn(request_id=f"s{i}", surface="assistant", received=time.perf_counter(),
                    body={"model": "chat", "messages": [{"role": "user", "content": text}]},
                    tenant=f"t{i % 3}", model="chat", route="chat")
        await cache.lookup(turn)
        res.requests += 1
        if turn.answer is not None:
            res.hits += 1
            continue
        turn.answer, turn.complete, turn.status = _answer(rng, i), True, 200
        await cache.write_back(turn)
        res.stores += 1
        res.peak_memory_bytes = max(res.peak_memory_bytes, cache.hot.bytes)
        if i % 64 == 0:
            await asyncio.sleep(0)  # let the verifier's background vectors land, as between requests
    await cache.settle()
    res.peak_memory_bytes = max(res.peak_memory_bytes, cache.hot.bytes)
    res.rows.append(_row(cache, started, res, proc))
    res.seconds = round(time.monotonic() - started, 1)
    res.drift_bytes = cache.hot.bytes - cache.hot.held_bytes()
    return res


def _mib(b: float) -> str:
    return f"{b / 2**20:.1f}"


def markdown(res: SoakResult, command: str, when: str) -> str:
    verdict = "**held**" if res.within_budget else "**exceeded**"
    lines = [
        f"`{command}` — {when}: {res.requests:,} distinct prompts in {res.seconds:,.0f} s "
        f"({res.stores:,} answers stored, {res.hits:,} served); budgets {_mib(res.memory_budget)} MiB hot tier, "
        f"{_mib(res.index_budget)} MiB vector index. Peak accounted hot-tier bytes {_mib(res.peak_memory_bytes)} MiB "
        f"(checked after every write-back); accounting drift at the end {res.drift_bytes} bytes; "
        f"peak RSS {res.peak_rss_mb:.0f} MiB (embedding models included). Budget {verdict}.",
        "",
        "| t (s) | requests | entries | hot tier MiB | evictions | index entries | index MiB | RSS MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = res.rows[:: max(1, len(res.rows) // 12)]
    if rows[-1] is not res.rows[-1]:
        rows.append(res.rows[-1])
    for r in rows:
        lines.append(f"| {r['t_s']:,.0f} | {r['requests']:,} | {r['entries']:,} | {_mib(r['memory_bytes'])} | "
                     f"{r['evictions']:,} | {r['index_entries']:,} | {_mib(r['index_bytes'])} | {r['rss_mb']:.0f} |")
    return "\n".join(lines)
