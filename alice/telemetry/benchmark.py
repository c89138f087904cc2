"""Micro-benchmark of the telemetry hot path: `python -m alice.telemetry.benchmark [-n 50000]`,
with `--e2e` an on/off comparison through real `alice serve` + `alice sim` processes, and with
`--windows` the cost of reading 6 h of rolling windows on the event loop.

Times, per finished request, the in-flight stage plus `observe(turn)` (metrics, rolling windows,
request-log row, feedback memory) inside a real Gateway whose SQLite writer thread is running
and flushing every 0.5 s, so the cost of the writer competing for the GIL is included. Prints
p50 / p99 / mean in microseconds for: telemetry off (an empty observer call), metrics only,
and metrics + log + windows (the full observer).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from alice.app import Gateway
from alice.backends.deployment import Attempt
from alice.config import Config
from alice.pipeline import Turn

__all__ = ["e2e", "main", "measure", "windows_read_cost"]


def _config(state_dir: str, log: bool, metrics: bool) -> Config:
    return Config.model_validate({
        "deployments": [{"name": "d1", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                         "price_in_per_1k": 0.5, "price_out_per_1k": 1.5}],
        "models": {"chat": ["d1"]},
        "state": {"dir": state_dir},
        "telemetry": {"log": {"enabled": log}, "metrics": {"enabled": metrics}},
        "nlu": {"enabled": False},  # the assistant's model warm-up would compete for the CPU measured here
    })


def _turn(i: int) -> Turn:
    return Turn(request_id=f"bench-{i}", surface="openai", received=0.0, model="chat", route="chat", backend="d1",
                status=200, total_ms=12.0 + i % 50, overhead_ms=0.3, upstream_ms=11.5, complete=True,
                headers={"x-alice-agent": "bench"}, body={"model": "chat"},
                usage={"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52},
                attempts=[Attempt("d1", "ok", 11.4, 200)])


async def measure(n: int, *, log: bool, metrics: bool, enabled: bool = True) -> list[float]:
    """Per-request cost in µs of the in-flight stage + observe, over n turns (after a warm-up)."""
    with tempfile.TemporaryDirectory() as d:
        cfg = _config(d, log, metrics)
        cfg.telemetry["enabled"] = enabled
        gw = Gateway(cfg)
        gw.pipeline.stages = [s for s in gw.pipeline.stages if s is getattr(gw, "telemetry", None)]
        gw.pipeline.observers = [o for o in gw.pipeline.observers if o is getattr(gw, "telemetry", None)]
        await gw.start()
        tel: Any = getattr(gw, "telemetry", None)
        stage = tel if tel is not None else None
        observe = gw.pipeline.observe
        samples: list[float] = []
        try:
            turns = [_turn(i) for i in range(n + 2000)]
            for k, turn in enumerate(turns):
                t0 = time.perf_counter_ns()
                if stage is not None:
                    await stage(turn)
                observe(turn)
                dt = time.perf_counter_ns() - t0
                if k >= 2000:
                    samples.append(dt / 1000)
                if k % 200 == 0:
                    await asyncio.sleep(0)  # let the writer task hand batches to its thread
        finally:
            await gw.close()
    return samples


def _fmt(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]  # noqa: E731
    return f"{name:<34} p50 {p(0.5):7.2f} µs   p99 {p(0.99):7.2f} µs   mean {statistics.fmean(xs):7.2f} µs"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(600):
            try:
                async with s.get(url):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def _serve_and_time(enabled: bool, sim_url: str, n: int, warmup: int, work: Path) -> list[float]:
    import aiohttp

    port = _port()
    cfg = {"server": {"host": "127.0.0.1", "port": port}, "models": {"chat": ["ok"]},
           "deployments": [{"name": "ok", "provider": "openai", "base_url": sim_url + "/v1", "model": "ok"}],
           "state": {"dir": str(work / f"state-{port}")}, "telemetry": {"enabled": enabled},
           "nlu": {"enabled": False}}  # no assistant model warm-up competing for the CPU measured here
    path = work / f"alice-{port}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "alice", "serve", "-c", str(path), "--log-level", "warning"],  # noqa: ASYNC220
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    times: list[float] = []
    try:
        await _wait(url + "/health")
        async with aiohttp.ClientSession() as s:
            for i in range(n + warmup):
                body = {"model": "chat", "messages": [{"role": "user", "content": f"fråga {i}"}]}
                t0 = time.perf_counter()
                async with s.post(url + "/v1/chat/completions", json=body) as r:
                    await r.read()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1000)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return times


async def e2e(n: int, rounds: int = 2, warmup: int = 300) -> None:
    """Sequential requests through `alice serve` → sim `ok`, telemetry off then on, per round."""
    with tempfile.TemporaryDirectory() as d:
        sim_port = _port()
        sim = subprocess.Popen([sys.executable, "-m", "alice", "sim", "--port", str(sim_port), "--no-log"],  # noqa: ASYNC220
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await _wait(f"http://127.0.0.1:{sim_port}/health")
            for r in range(rounds):
                for enabled in (False, True):
                    xs = sorted(await _serve_and_time(enabled, f"http://127.0.0.1:{sim_port}", n, warmup, Path(d)))
                    print(f"round {r} telemetry {'on ' if enabled else 'off'}: client p50 {xs[len(xs) // 2]:.3f} ms"
                          f"  p95 {xs[int(0.95 * len(xs))]:.3f} ms", flush=True)
        finally:
            sim.terminate()
            sim.wait(10)


def windows_read_cost(per_slot: int = 100) -> None:
    """Fill 6 h of 10-s slots (5 routes, 50 tenants, 20 agents, 10 intents) and time the reads."""
    import random

    from alice.profiles import FIBONACCI_PROFILE
    from alice.telemetry.settings import SloSettings
    from alice.telemetry.slo import SloEvaluator
    from alice.telemetry.windows import Live

    clock = [1_000_000.0]
    live = Live(slot_s=10, horizon_s=21600, clock=lambda: clock[0])
    live.MEMO_S = 0
    cfg = SloSettings()
    ev = SloEvaluator(cfg, cfg.alerts_for(FIBONACCI_PROFILE))
    for _ in range(2160):
        for i in range(per_slot):
            live.add(route=f"r{i % 5}", backend=f"b{i % 3}", intent=f"i{i % 10}", tenant=f"t{i % 50}",
                     agent=f"a{i % 20}", status=200 if i % 20 else 502, total_ms=random.uniform(5, 900), slo_ms=100,
                     overhead_ms=random.uniform(0.1, 2), ttft_ms=None, upstream_ms=random.uniform(5, 800),
                     cache="miss" if i % 3 else "exact", tokens_in=10, tokens_out=20, cost=0.001)
        clock[0] += 10
        ev.report(live)  # the evaluator reads after every slot, as in production
    for name, read in [("SLO report", lambda: ev.report(live)), ("merged 5 min", lambda: live.merged(300)),
                       ("merged 1 h", lambda: live.merged(3600)), ("merged 6 h", lambda: live.merged(21600)),
                       ("timeline 6 h", lambda: live.timeline(21600))]:
        t0 = time.perf_counter()
        read()
        print(f"{name:<14} {(time.perf_counter() - t0) * 1000:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--e2e", action="store_true", help="on/off through real processes (n sequential requests)")
    ap.add_argument("--windows", action="store_true", help="cost of reading 6 h of rolling windows")
    args = ap.parse_args()
    n = args.n
    if args.windows:
        windows_read_cost()
        return
    if args.e2e:
        asyncio.run(e2e(n))
        return
    print(f"{n} finished requests each (after 2000 warm-up)")
    print(_fmt("telemetry off (pipeline.observe)", asyncio.run(measure(n, log=False, metrics=False, enabled=False))))
    print(_fmt("windows only", asyncio.run(measure(n, log=False, metrics=False))))
    print(_fmt("metrics + windows", asyncio.run(measure(n, log=False, metrics=True))))
    print(_fmt("metrics + log + windows (default)", asyncio.run(measure(n, log=True, metrics=True))))


if __name__ == "__main__":
    main()
