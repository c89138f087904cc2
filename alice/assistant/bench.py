"""`alice bench assistant`: latency of tool-answered `/api/chat` turns (handle_chat end to end,
embedding included) and of the classifier alone after the embedding, per embedder; with `--url`,
of POST /api/chat against a running Alice (HTTP and authentication included)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from alice.assistant.chat import handle_chat
from alice.assistant.context import AssistantContext
from alice.assistant.session import MemorySessionStore
from alice.nlu.classifier import IntentClassifier
from alice.nlu.registry import load_registry
from alice.route.router import Router
from alice.tools.factory import build_toolbox

__all__ = ["TOOL_TURNS", "bench_assistant", "bench_http"]

# Tool-answered turns (no LLM): clock, date, calculator, timers, memory, calendar list.
TOOL_TURNS = [
    "Vad är klockan?", "Vilket datum är det idag?", "Vad är 15 procent av 340?", "Sätt en timer på fem minuter",
    "Hur lång tid är det kvar på timern?", "Stoppa timern", "tre gånger sju", "Vad har jag i kalendern imorgon?",
    "What time is it?", "roten ur 2", "Kom ihåg att jag parkerade på plan tre", "Var parkerade jag?",
]


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 3)


async def _run(embedder: str, turns: int, state_dir: Path) -> dict[str, Any]:
    clf = IntentClassifier(load_registry(), embedder, state_dir=state_dir / "cache")
    box = build_toolbox({}, state_dir / embedder, clf.embedder)

    async def no_llm(messages: list[dict[str, Any]], tier: str) -> str:
        raise AssertionError(f"tool turn called the {tier} tier")

    fixed = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    ctx = AssistantContext(classifier=clf, tools=box.registry, router=Router(), sessions=MemorySessionStore(),
                           complete=no_llm, clock=lambda: fixed, toolbox=box)
    t0 = time.perf_counter()
    await ctx.start()
    start_s = time.perf_counter() - t0
    for text in TOOL_TURNS:  # warm-up
        await handle_chat({"message": text, "session_id": "warm"}, tenant="bench", ctx=ctx)
    chat_ms: list[float] = []
    for i in range(turns):
        t = time.perf_counter()
        out = await handle_chat({"message": TOOL_TURNS[i % len(TOOL_TURNS)], "session_id": f"s{i}"}, tenant="bench",
                                ctx=ctx)
        chat_ms.append((time.perf_counter() - t) * 1000)
        assert out["route"] == "tool", out
    emb_ms, cls_ms = [], []
    for i in range(turns):
        text = TOOL_TURNS[i % len(TOOL_TURNS)] + f" {i}"
        t = time.perf_counter()
        e = clf.embed(text)
        t1 = time.perf_counter()
        clf.classify(text, e)
        emb_ms.append((t1 - t) * 1000)
        cls_ms.append((time.perf_counter() - t1) * 1000)
    await ctx.close()
    return {"embedder": embedder, "turns": turns, "start_s": round(start_s, 2),
            "chat_p50_ms": _pct(chat_ms, 50), "chat_p95_ms": _pct(chat_ms, 95),
            "embed_p50_ms": _pct(emb_ms, 50), "embed_p95_ms": _pct(emb_ms, 95),
            "classify_p50_ms": _pct(cls_ms, 50), "classify_p95_ms": _pct(cls_ms, 95)}


def bench_assistant(embedders: list[str], turns: int = 200, state_dir: Path | None = None) -> list[dict[str, Any]]:
    if state_dir is not None:
        return [asyncio.run(_run(e, turns, state_dir)) for e in embedders]
    with tempfile.TemporaryDirectory(prefix="alice-bench-") as tmp:
        return [asyncio.run(_run(e, turns, Path(tmp))) for e in embedders]


async def _http(urls: list[str], turns: int, key: str | None) -> list[dict[str, Any]]:
    import aiohttp

    headers = {"authorization": f"Bearer {key}"} if key else {}
    client_ms: dict[str, list[float]] = {u: [] for u in urls}
    server_ms: dict[str, list[float]] = {u: [] for u in urls}
    async with aiohttp.ClientSession(headers=headers) as s:
        for i in range(-len(TOOL_TURNS), turns):  # the first round warms up
            body = {"message": TOOL_TURNS[i % len(TOOL_TURNS)], "session_id": f"bench-{i}"}
            for url in urls:  # interleaved, so every server sees the same machine load
                t = time.perf_counter()
                async with s.post(url.rstrip("/") + "/api/chat", json=body) as r:
                    out = await r.json()
                if r.status != 200 or out.get("route") != "tool":
                    raise RuntimeError(f"POST {url}/api/chat {body['message']!r}: {r.status} {out}")
                if i >= 0:
                    client_ms[url].append((time.perf_counter() - t) * 1000)
                    server_ms[url].append(float(out["latency_ms"]))
    return [{"url": u, "turns": turns, "client_p50_ms": _pct(client_ms[u], 50),
             "client_p95_ms": _pct(client_ms[u], 95), "chat_p50_ms": _pct(server_ms[u], 50),
             "chat_p95_ms": _pct(server_ms[u], 95)} for u in urls]


def bench_http(urls: list[str], turns: int = 200, key: str | None = None) -> list[dict[str, Any]]:
    """Sequential tool-answered POST /api/chat turns against running Alices (turn by turn in turn),
    timed by the client."""
    return asyncio.run(_http(urls, turns, key))
