"""What the guard costs on the request path. Not a test (pytest does not collect it); run it as

    .venv/bin/python tests/guard/bench_guard.py [--redis redis://127.0.0.1:6379/0] [--requests 2000]

1. In-process: the Admit stage (auth → caps → limits → guardian) and the reconcile after-hook,
   per request, with the embedded store and (if --redis) the shared one.
2. End to end: `alice serve` in front of `alice sim` (model `ok`), sequential requests; the
   `x-alice-overhead-ms` header (ASGI receive → response minus upstream time) for: open mode (no
   key), a key with rpm + tpm + daily limits (embedded), and the same with Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from alice.guard.admission import Admit  # noqa: E402
from alice.guard.auth import Authenticator  # noqa: E402
from alice.guard.brownout import Guardian  # noqa: E402
from alice.guard.keys import KeyRing, hash_key, new_key  # noqa: E402
from alice.guard.limits import Limiter  # noqa: E402
from alice.guard.settings import parse_settings  # noqa: E402
from alice.guard.stores import redis_client  # noqa: E402
from alice.pipeline import Turn  # noqa: E402
from alice.profiles import get_profile  # noqa: E402
from alice.state.keys import KeyRecord, SqliteKeyStore  # noqa: E402
from alice.state.windows import MemoryWindows  # noqa: E402
from alice.state.windows_redis import RedisWindows  # noqa: E402
from tests.conftest import ALICE, Proc, free_port, wait_http  # noqa: E402

BIG = 10**9
BODY = {"model": "ok", "messages": [{"role": "user", "content": "Hur mycket är klockan i Stockholm?"}],
        "max_tokens": 64}


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


async def admit_cost(windows, n: int) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp())
    store = SqliteKeyStore(tmp / "keys.sqlite3")
    key_id, key = new_key()
    await store.create(KeyRecord(id=key_id, tenant="bench", hash=hash_key(key), rpm=BIG, tpm=BIG, daily_tokens=BIG))
    settings = parse_settings({})
    ring = KeyRing(store, admin_key_env=None, refresh_s=60)
    await ring.reload(force=True)
    admit = Admit(Authenticator(ring, host="127.0.0.1", open_on_loopback=True),
                  Limiter(windows, window_s=60, deployment_rpm={}), Guardian(settings.guardian, get_profile("fibonacci")),
                  settings)
    headers = {"authorization": f"Bearer {key}"}
    admit_us, after_us = [], []
    for i in range(n):
        turn = Turn(request_id=str(i), surface="openai", received=time.perf_counter(), body=BODY, headers=headers,
                    model="ok", route="ok")
        t0 = time.perf_counter()
        await admit(turn)
        t1 = time.perf_counter()
        turn.usage = {"total_tokens": 30}
        admit.guardian.observe(turn)
        await admit.limiter.after(turn)
        t2 = time.perf_counter()
        admit_us.append((t1 - t0) * 1e6)
        after_us.append((t2 - t1) * 1e6)
    return statistics.median(admit_us), statistics.median(after_us)


async def overhead(url: str, key: str | None, n: int) -> list[float]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    out = []
    async with aiohttp.ClientSession() as s:
        for _ in range(n):
            async with s.post(url + "/v1/chat/completions", json=BODY, headers=headers) as r:
                await r.read()
                assert r.status == 200, r.status
                out.append(float(r.headers["x-alice-overhead-ms"]))
    return out


def serve(cfg: dict, tmp: Path, name: str) -> Proc:
    port = free_port()
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**cfg, "server": {"host": "127.0.0.1", "port": port}}))
    p = Proc([*ALICE, "serve", "-c", str(path), "--log-level", "warning"], f"http://127.0.0.1:{port}",
             tmp / f"{name}.log", {"ALICE_ADMIN_KEY": ""})
    wait_http(p.url + "/health", proc=p.proc)
    return p


async def end_to_end(redis_url: str | None, n: int) -> dict[str, list[float]]:
    import subprocess

    tmp = Path(tempfile.mkdtemp())
    sim_port = free_port()
    sim = Proc([*ALICE, "sim", "--port", str(sim_port), "--no-log"], f"http://127.0.0.1:{sim_port}", tmp / "sim.log")
    procs = [sim]
    results: dict[str, list[float]] = {}
    try:
        wait_http(sim.url + "/health", proc=sim.proc)
        base = {"deployments": [{"name": "ok", "provider": "openai", "base_url": sim.url + "/v1", "model": "ok"}],
                "models": {"ok": ["ok"]}, "cache": {"enabled": False}}
        variants = [("open (no key)", {"state": {"dir": str(tmp / "open")}}, False),
                    ("key + rpm/tpm/daily, embedded", {"state": {"dir": str(tmp / "emb")}}, True)]
        if redis_url:
            variants.append(("key + rpm/tpm/daily, Redis", {"state": {"dir": str(tmp / "red"), "redis_url": redis_url},
                                                             "guard": {"redis_prefix": f"bench{os.getpid()}:"}}, True))
        for name, extra, with_key in variants:
            cfg = {**base, **extra}
            key = None
            if with_key:
                path = tmp / f"keys-{len(procs)}.yaml"
                path.write_text(yaml.safe_dump(cfg))
                created = await asyncio.to_thread(
                    subprocess.run, [*ALICE, "keys", "create", "--tenant", "bench", "--rpm", str(BIG), "--tpm",
                                     str(BIG), "--daily-tokens", str(BIG), "-c", str(path)],
                    capture_output=True, text=True, check=True, cwd=ROOT)
                key = created.stdout.strip()
            alice = serve(cfg, tmp, f"alice{len(procs)}")
            procs.append(alice)
            await overhead(alice.url, key, 200)  # warm up
            results[name] = await overhead(alice.url, key, n)
            alice.stop()
    finally:
        for p in procs:
            p.stop()
    return results


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis", default=None)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    print(f"## in-process, median of {args.requests} requests")
    a, b = await admit_cost(MemoryWindows(), args.requests)
    print(f"| embedded | Admit {a:.1f} µs | reconcile {b:.1f} µs |")
    if args.redis:
        client = redis_client(args.redis)
        a, b = await admit_cost(RedisWindows(client, f"bench{os.getpid()}:"), args.requests)
        print(f"| Redis    | Admit {a:.1f} µs | reconcile {b:.1f} µs |")
        await client.aclose()
    print(f"\n## end to end, x-alice-overhead-ms over {args.requests} sequential requests")
    for name, values in (await end_to_end(args.redis, args.requests)).items():
        print(f"| {name} | p50 {pct(values, 50):.3f} | p90 {pct(values, 90):.3f} | p99 {pct(values, 99):.3f} |")


if __name__ == "__main__":
    asyncio.run(main())
