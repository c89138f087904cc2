"""Through the real thing: `alice serve` in front of `alice sim`, cache headers on the wire,
streams served from the cache, negative caching, restart persistence, replicas on Redis."""

from __future__ import annotations

import urllib.request

import aiohttp
import orjson
import pytest

from tests.conftest import sim_deployments

pytestmark = pytest.mark.integration

FAST = {"semantic": {"models": {"chat": True}, "verifier": None}}  # no e5 load: starts in a second


def config(sim_url: str, cache: dict | None = None, **extra) -> dict:
    return {"deployments": sim_deployments(sim_url, "echo", "context-length"),
            "models": {"chat": ["echo"], "long": ["context-length"]}, "cache": cache or FAST, **extra}


async def chat(url: str, content: str, *, model: str = "chat", stream: bool = False, headers=None):
    body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream}
    async with aiohttp.ClientSession() as s, s.post(url + "/v1/chat/completions", json=body,
                                                      headers=headers or {}) as r:
        return r.status, r.headers, await r.read()


def sim_calls(sim_url: str) -> int:
    with urllib.request.urlopen(sim_url + "/control/log") as r:
        return len(orjson.loads(r.read()))


async def cache_stats(url: str) -> dict:
    async with aiohttp.ClientSession() as s, s.get(url + "/api/monitoring/cache") as r:
        return await r.json()


async def test_exact_semantic_and_stream_hits_on_the_wire(sim, start_alice):
    alice = start_alice(config(sim.url))
    status, h, body = await chat(alice.url, "Vad är huvudstaden i Norge?")
    assert status == 200 and h["x-alice-cache"] == "miss"
    first = orjson.loads(body)["choices"][0]["message"]["content"]
    calls = sim_calls(sim.url)
    import asyncio

    for _ in range(200):  # the write-back runs after the response
        status, h, body = await chat(alice.url, "Vad är huvudstaden i Norge?")
        if h["x-alice-cache"] != "miss":
            break
        await asyncio.sleep(0.05)
    assert h["x-alice-cache"] == "exact" and h["x-alice-similarity"] == "1.0000"
    assert orjson.loads(body)["choices"][0]["message"]["content"] == first
    status, h, raw = await chat(alice.url, "Vad är huvudstaden i Norge?", stream=True)
    assert h["content-type"] == "text/event-stream" and h["x-alice-cache"] == "exact"
    assert first in raw.decode() and raw.rstrip().endswith(b"data: [DONE]")
    status, h, body = await chat(alice.url, "hej, vad är huvudstaden i norge")
    assert h["x-alice-cache"] == "semantic" and float(h["x-alice-similarity"]) > 0.9
    status, h, _ = await chat(alice.url, "Vad är huvudstaden i Sverige?")
    assert h["x-alice-cache"] == "miss"
    assert sim_calls(sim.url) == calls + 1  # only the last question reached the upstream
    _, h, _ = await chat(alice.url, "Vad är huvudstaden i Norge?", headers={"cache-control": "no-cache"})
    assert h["x-alice-cache"] == "miss"
    stats = await cache_stats(alice.url)
    assert stats["tiers"]["exact"]["hits"] >= 2 and stats["tiers"]["semantic"]["hits"] == 1


async def test_context_length_is_cached_negatively(sim, start_alice):
    import asyncio

    alice = start_alice(config(sim.url))
    status, h, body = await chat(alice.url, "en lång fråga", model="long")
    assert status == 400
    calls = sim_calls(sim.url)
    for _ in range(200):
        status, h, again = await chat(alice.url, "en lång fråga", model="long")
        if h.get("x-alice-cache") == "negative":
            break
        await asyncio.sleep(0.05)
    assert status == 400 and h["x-alice-cache"] == "negative" and again == body
    assert sim_calls(sim.url) <= calls + 1


async def test_sqlite_cache_survives_a_restart(sim, start_alice, tmp_path):
    import asyncio

    cfg = config(sim.url, state={"dir": str(tmp_path / "state")})
    alice = start_alice(cfg)
    await chat(alice.url, "Vem skrev Röda rummet?")
    for _ in range(200):  # the write-back runs after the response; shutdown flushes the batch
        if (await cache_stats(alice.url))["stores"] >= 1:
            break
        await asyncio.sleep(0.05)
    alice.stop()
    again = start_alice(cfg)
    _, h, _ = await chat(again.url, "Vem skrev Röda rummet?")
    assert h["x-alice-cache"] == "exact"


async def test_two_replicas_share_redis(sim, start_alice, redis_server):
    import asyncio

    cache = {**FAST, "store": "redis", "redis_url": redis_server, "redis_prefix": "itest"}
    a = start_alice(config(sim.url, cache))
    b = start_alice(config(sim.url, cache))
    await chat(a.url, "Hur många bor i Umeå?")
    for _ in range(200):  # a's write-back, then b follows the Redis stream into its index
        if (await cache_stats(b.url))["index"]["entries"] >= 1:
            break
        await asyncio.sleep(0.05)
    _, h, _ = await chat(b.url, "hur många bor i umeå")
    assert h["x-alice-cache"] == "semantic"
    _, h, _ = await chat(b.url, "Hur många bor i Umeå?")
    assert h["x-alice-cache"] == "exact"


def test_cli_warm_stats_and_purge(sim, start_alice, tmp_path):
    import time

    from typer.testing import CliRunner

    from alice.cli import app

    alice = start_alice(config(sim.url))
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Vem skrev Röda rummet?\n# a comment\n{\"prompt\": \"Vem skrev Doktor Glas?\"}\n")
    runner = CliRunner()
    warmed = runner.invoke(app, ["cache", "warm", str(prompts), "--url", alice.url, "--budget-tokens", "1000"])
    assert warmed.exit_code == 0, warmed.output
    assert orjson.loads(warmed.output)["sent"] == 2
    for _ in range(200):  # write-backs run after the responses (slowly on a loaded machine)
        stats = orjson.loads(runner.invoke(app, ["cache", "stats", "--url", alice.url]).output)
        if stats["stores"] == 2:
            break
        time.sleep(0.05)
    assert stats["stores"] == 2
    purged = runner.invoke(app, ["cache", "purge", "--tenant", "default", "--url", alice.url])
    assert orjson.loads(purged.output)["purged"] == 2
