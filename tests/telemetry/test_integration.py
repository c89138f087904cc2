"""End to end: `alice serve` in front of `alice sim`, with real load, SIGTERM and SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from tests.conftest import Proc, sim_deployments

from .conftest import PG_DSN, drop_pg, reachable
from .test_metrics import parse, value

pytestmark = pytest.mark.integration

CHAT = {"model": "chat", "messages": [{"role": "user", "content": "Hej Alice"}]}


def alice_config(sim: Proc, state: Path, **telemetry: Any) -> dict[str, Any]:
    return {"deployments": sim_deployments(sim.url, "ok"), "models": {"chat": ["ok"]},
            "state": {"dir": str(state)}, "telemetry": telemetry}


async def load(url: str, ids: list[str], concurrency: int = 16,
               done: dict[str, float] | None = None, stop_on_error: bool = False) -> dict[int, int]:
    """Send one chat request per id; returns responses by status (-1: connection failed);
    `done` gets id → completion time. With `stop_on_error` a worker stops at its first failure."""
    statuses: dict[int, int] = {}
    queue = list(reversed(ids))

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            rid = queue.pop()
            try:
                async with session.post(url + "/v1/chat/completions", json=CHAT,
                                        headers={"x-request-id": rid}) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if done is not None:
                        done[rid] = time.monotonic()
            except (aiohttp.ClientError, OSError):
                statuses[-1] = statuses.get(-1, 0) + 1
                if stop_on_error:
                    return

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        await asyncio.gather(*(worker(s) for _ in range(concurrency)))
    return statuses


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return await r.json()


async def get_text(url: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return await r.text()


def log_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM alice_requests")]


async def test_load_one_row_per_request_and_counts_agree_with_metrics(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    sim = start_sim("--no-log")
    state = tmp_path / "state"
    alice = start_alice(alice_config(sim, state))
    ids = [f"load-{i}" for i in range(2000)]
    t0 = time.perf_counter()
    statuses = await load(alice.url, ids)
    elapsed = time.perf_counter() - t0
    assert statuses == {200: 2000}, statuses
    metrics = parse((await get_text(alice.url + "/metrics")).encode())
    assert value(metrics, "alice_requests_total") == 2000
    assert value(metrics, "alice_requests_total", status="200", route="chat") == 2000
    assert value(metrics, "alice_request_duration_milliseconds_count") == 2000
    # While running: once the buffer is empty the log holds every request, exactly once.
    for _ in range(50):
        perf = await get_json(alice.url + "/api/monitoring/performance")
        if perf["request_log"]["buffered"] == 0 and perf["request_log"]["written"] == 2000:
            break
        await asyncio.sleep(0.1)
    assert perf["requests"] == 2000
    rows = log_ids(state / "requests.sqlite3")
    assert len(rows) == 2000 and set(rows) == set(ids)
    # The same breakdown on both sides: by cache tier and by backend (identical prompts may be
    # answered from the cache, when the cache area is installed).
    with sqlite3.connect(state / "requests.sqlite3") as conn:
        by_tier = dict(conn.execute("SELECT cache, COUNT(*) FROM alice_requests GROUP BY cache").fetchall())
        by_backend = dict(conn.execute("SELECT COALESCE(backend, 'cache'), COUNT(*) FROM alice_requests "
                                       "WHERE cache = 'miss' OR backend IS NULL GROUP BY 1").fetchall())
    assert {t: value(metrics, "alice_cache_requests_total", tier=t) for t in by_tier} == by_tier
    assert {b: value(metrics, "alice_requests_total", backend=b) for b in by_backend} == by_backend
    written = value(parse((await get_text(alice.url + "/metrics")).encode()), "alice_requestlog_rows_total",
                    result="written")
    assert written == 2000
    assert alice.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a graceful shutdown
    assert len(log_ids(state / "requests.sqlite3")) == 2000
    print(f"\n2000 requests in {elapsed:.2f} s ({2000 / elapsed:.0f} rps) through alice serve + sim")


async def test_clean_shutdown_during_load_loses_nothing(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    sim = start_sim("--no-log")
    state = tmp_path / "state"
    # A long flush interval, so that rows are still only in memory when SIGTERM arrives.
    alice = start_alice(alice_config(sim, state, log={"flush_interval_s": 5}))
    ids: list[str] = []
    for batch in range(5):
        more = [f"term-{batch}-{i}" for i in range(60)]
        assert await load(alice.url, more, concurrency=8) == {200: 60}
        ids += more
        perf = await get_json(alice.url + "/api/monitoring/performance")
        if perf["request_log"]["buffered"] > 0:
            break
    buffered = perf["request_log"]["buffered"]
    assert buffered > 0, "every row was already flushed: nothing left to test"
    assert alice.stop(signal.SIGTERM) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after shutdown
    assert sorted(log_ids(state / "requests.sqlite3")) == sorted(ids)
    print(f"\nSIGTERM with {buffered} rows buffered: all {len(ids)} requests in the log")


async def test_sigkill_loses_at_most_the_last_second(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    sim = start_sim("--no-log")
    state = tmp_path / "state"
    alice = start_alice(alice_config(sim, state))  # default flush interval: 0.5 s
    done: dict[str, float] = {}
    ids = [f"kill-{i}" for i in range(100_000)]
    loader = asyncio.ensure_future(load(alice.url, ids, concurrency=4, done=done, stop_on_error=True))
    await asyncio.sleep(3.0)
    killed_at = time.monotonic()
    os.kill(alice.pid, signal.SIGKILL)
    await asyncio.wait_for(loader, 30)
    assert alice.stop() == -signal.SIGKILL
    answered = {rid for rid, t in done.items() if t <= killed_at}
    assert len(answered) > 200, "the load did not get going"
    logged = set(log_ids(state / "requests.sqlite3"))
    assert logged <= set(done), "a logged request was never answered"
    missing = answered - logged
    late = [killed_at - done[rid] for rid in missing]
    assert all(age <= 1.0 for age in late), f"lost requests answered up to {max(late):.2f} s before the kill"
    older = {rid for rid in answered if done[rid] < killed_at - 1.0}
    assert older <= logged
    print(f"\nSIGKILL: {len(answered)} answered, {len(missing)} lost, oldest lost "
          f"{max(late, default=0) * 1000:.0f} ms before the kill")


async def test_two_processes_one_metrics_view(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    """Two `alice serve` processes sharing PROMETHEUS_MULTIPROC_DIR and a state dir behave like
    the workers of one server: either one's /metrics shows the sum, and the log holds both."""
    sim = start_sim("--no-log")
    state = tmp_path / "state"
    prom = tmp_path / "prom"
    prom.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(prom)}
    a = start_alice(alice_config(sim, state), env=env)
    b = start_alice(alice_config(sim, state), env=env)
    assert await load(a.url, [f"a-{i}" for i in range(30)]) == {200: 30}
    assert await load(b.url, [f"b-{i}" for i in range(20)]) == {200: 20}
    for url in (a.url, b.url):
        m = parse((await get_text(url + "/metrics")).encode())
        assert value(m, "alice_requests_total") == 50
        assert value(m, "alice_request_duration_milliseconds_count", route="chat") == 50
        assert value(m, "alice_inflight_requests") == 0
        breakers = [s for s in m["alice_breaker_state"] if s.labels["state"] == "closed"]
        assert len(breakers) == 2 and all(s.value == 1 for s in breakers)  # one per worker (pid label)
    a.stop()
    b.stop()
    assert len(log_ids(state / "requests.sqlite3")) == 50


async def test_serve_with_two_workers_one_view_and_one_log(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path, redis_server: str
) -> None:
    """`server.workers: 2`: both workers answer, /metrics from either shows the sum, and the
    shared request log holds exactly one row per request after a clean stop."""
    sim = start_sim("--no-log")
    state = tmp_path / "state"
    config = alice_config(sim, state)
    alice = start_alice({**config, "server": {"workers": 2}, "state": {**config["state"], "redis_url": redis_server}})
    ids = [f"w-{i}" for i in range(300)]
    assert await load(alice.url, ids, concurrency=32) == {200: 300}
    # uvicorn spawns the workers (and multiprocessing's resource tracker, which is not one)
    workers = {str(c.pid) for c in psutil.Process(alice.pid).children() if "spawn_main" in " ".join(c.cmdline())}
    assert len(workers) == 2
    m = parse((await get_text(alice.url + "/metrics")).encode())
    assert value(m, "alice_requests_total") == 300
    # Each worker writes its live gauges every second: one breaker series per worker (pid label).
    for _ in range(30):
        m = parse((await get_text(alice.url + "/metrics")).encode())
        pids = {s.labels["pid"] for s in m["alice_breaker_state"] if s.labels["state"] == "closed"}
        if len(pids) == 2:
            break
        await asyncio.sleep(0.1)
    assert pids == workers
    assert alice.stop() in (0, -signal.SIGTERM)
    assert sorted(log_ids(state / "requests.sqlite3")) == sorted(ids)


async def test_request_log_in_postgres(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    if not reachable("127.0.0.1", 5432):
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    import asyncpg

    table = f"alice_it_{uuid.uuid4().hex[:10]}"
    sim = start_sim("--no-log")
    alice = start_alice(alice_config(sim, tmp_path / "state",
                                     log={"store": "postgres", "postgres_dsn": PG_DSN, "table": table}))
    try:
        assert await load(alice.url, [f"pg-{i}" for i in range(200)]) == {200: 200}
        assert alice.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a graceful shutdown
        conn = await asyncpg.connect(PG_DSN)
        try:
            n = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
            distinct = await conn.fetchval(f"SELECT COUNT(DISTINCT id) FROM {table}")
        finally:
            await conn.close()
        assert (n, distinct) == (200, 200)
    finally:
        await drop_pg(table)


async def test_streams_are_counted_with_time_to_first_token(
    start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    sim = start_sim("--no-log")
    state = tmp_path / "state"
    alice = start_alice(alice_config(sim, state))
    async with aiohttp.ClientSession() as s:
        for i in range(20):
            body = {**CHAT, "stream": True, "messages": [{"role": "user", "content": f"ström {i}"}]}
            async with s.post(alice.url + "/v1/chat/completions", json=body) as r:
                assert r.status == 200
                assert (await r.read()).endswith(b"data: [DONE]\n\n")
    # A stream is counted once its last byte has gone out, so a scrape may briefly trail the client.
    for _ in range(40):
        m = parse((await get_text(alice.url + "/metrics")).encode())
        if value(m, "alice_requests_total", status="200") == 20:
            break
        await asyncio.sleep(0.05)
    assert value(m, "alice_requests_total", status="200") == 20
    assert value(m, "alice_time_to_first_token_milliseconds_count") == 20
    alice.stop()
    with sqlite3.connect(state / "requests.sqlite3") as conn:
        rows = conn.execute("SELECT stream, complete, status, ttft_ms FROM alice_requests").fetchall()
    assert len(rows) == 20 and all(r[:3] == (1, 1, 200) and r[3] > 0 for r in rows)
