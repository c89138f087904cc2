"""`alice bench soak`: a long steady load through one `alice serve`, then an audit that the request
log, /metrics and what the clients saw agree exactly, and that memory stayed flat.

Every request carries its own `x-request-id`, so the audit can say which request is missing or
doubled rather than only that the counts differ.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from alice.bench.procs import rss_mb, run_alice, run_sim
from alice.bench.report import write_section

__all__ = ["SoakResult", "run_soak"]

BODY = {"model": "chat", "messages": [{"role": "user", "content": "Hej Alice, hur mår du?"}]}


@dataclass
class SoakResult:
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (elapsed s, MB)
    metrics_total: float = 0.0
    log_rows: int = 0
    log_distinct: int = 0
    missing: int = 0
    unknown: int = 0
    markdown: str = ""

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())


def _metric_total(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _load(url: str, seconds: float, concurrency: int, res: SoakResult, ids: list[str], pid: int) -> None:
    stop = time.monotonic() + seconds
    started = time.monotonic()

    async def client(n: int, s: aiohttp.ClientSession) -> None:
        i = 0
        while time.monotonic() < stop:
            rid = f"soak-{n}-{i}"
            i += 1
            t0 = time.perf_counter()
            try:
                async with s.post(url + "/v1/chat/completions", json=BODY, headers={"x-request-id": rid}) as r:
                    await r.read()
                    res.statuses[r.status] += 1
            except (aiohttp.ClientError, OSError):
                res.statuses[-1] += 1
            ids.append(rid)
            res.latencies_ms.append((time.perf_counter() - t0) * 1000)

    async def sample_rss() -> None:
        while time.monotonic() < stop:
            res.rss_mb.append((time.monotonic() - started, rss_mb(pid)))
            await asyncio.sleep(10)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        await asyncio.gather(sample_rss(), *(client(n, s) for n in range(concurrency)))


async def _audit(url: str, db: Path, ids: list[str], res: SoakResult) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(100):  # the log writes in batches; wait until the buffer is empty
            async with s.get(url + "/api/monitoring/performance") as r:
                perf = await r.json()
            if perf["request_log"]["buffered"] == 0:
                break
            await asyncio.sleep(0.1)
        async with s.get(url + "/metrics") as r:
            res.metrics_total = _metric_total(await r.text(), "alice_requests_total")
    with sqlite3.connect(db) as conn:
        logged = [row[0] for row in conn.execute("SELECT id FROM alice_requests")]
    res.log_rows, res.log_distinct = len(logged), len(set(logged))
    res.missing = len(set(ids) - set(logged))
    res.unknown = len(set(logged) - set(ids))


def run_soak(*, seconds: float = 600, concurrency: int = 16, out: Path | None = Path("docs/benchmarks.md"),
             command: str = "alice bench soak") -> SoakResult:
    res = SoakResult(seconds)
    ids: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, run_sim("--no-log") as sim:
        state = Path(tmp) / "state"
        config = {"deployments": [{"name": "sim", "provider": "openai", "base_url": sim.url + "/v1", "model": "ok"}],
                  "models": {"chat": ["sim"]}, "resilience": {"single_flight": False}, "cache": {"enabled": False},
                  "state": {"dir": str(state)}}
        with run_alice(config) as alice:
            asyncio.run(_load(alice.url, seconds, concurrency, res, ids, alice.pid))
            res.rss_mb.append((seconds, rss_mb(alice.pid)))
            asyncio.run(_audit(alice.url, state / "requests.sqlite3", ids, res))
    res.markdown = _markdown(res, command, concurrency)
    if out is not None:
        write_section(out, "soak", res.markdown)
    return res


def _markdown(r: SoakResult, command: str, concurrency: int) -> str:
    lat = sorted(r.latencies_ms)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0  # noqa: E731
    exact = r.sent == r.metrics_total == r.log_rows == r.log_distinct and r.missing == r.unknown == 0
    first = statistics.median(mb for t, mb in r.rss_mb[:3]) if r.rss_mb else 0.0
    last = statistics.median(mb for t, mb in r.rss_mb[-3:]) if r.rss_mb else 0.0
    quarters = " → ".join(f"{r.rss_mb[min(len(r.rss_mb) - 1, int(q * (len(r.rss_mb) - 1)))][1]:.0f}"
                          for q in (0, .25, .5, .75, 1)) + " MB" if r.rss_mb else "-"
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(r.statuses.items()))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""## Soak: request log = /metrics = what clients saw

Command: `{command}` — {when}; `alice serve` (1 worker, default telemetry: SQLite request log, metrics)
in front of `alice sim` model `ok`, {concurrency} aiohttp clients for {r.seconds:g} s, each request with its own
`x-request-id`; audited after the log's buffer drained.

| | value |
|---|---|
| requests sent (by status) | {r.sent:,} ({statuses}) |
| `alice_requests_total` on /metrics | {r.metrics_total:,.0f} |
| request-log rows / distinct ids | {r.log_rows:,} / {r.log_distinct:,} |
| ids sent but not logged / logged but never sent | {r.missing} / {r.unknown} |
| **exactly one record per request, counts agree** | **{"yes ✅" if exact else "no ❌"}** |
| client latency p50 / p99 | {p(.5):.2f} / {p(.99):.2f} ms |
| Alice RSS first → last (medians of 3 samples, every 10 s) | {first:.0f} → {last:.0f} MB |
| Alice RSS at 0, ¼, ½, ¾ and all of the run | {quarters} |
"""
