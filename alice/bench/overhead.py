"""`alice bench overhead`: the latency and CPU Alice adds over an instant upstream.

The same load goes, interleaved, directly to the sim upstream (model `ok`, instant) and through
Alice in front of it: sequentially over one keep-alive connection (paired per request, so machine
noise hits both sides alike), and at concurrency 64 with wrk (alternating rounds).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from alice.bench.procs import Service, cpu_seconds, rss_mb, run_alice, run_litellm, run_sim
from alice.bench.report import write_section

__all__ = ["OverheadResult", "run_overhead"]

PATH = "/v1/chat/completions"


def _body(model: str) -> bytes:
    return orjson.dumps({"model": model, "messages": [{"role": "user", "content": "Hej, hur mår du?"}]})


def alice_config(sim_url: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "deployments": [{"name": "sim", "provider": "openai", "base_url": sim_url + "/v1", "model": "ok"}],
        "models": {"bench": ["sim"]},
        # Identical benchmark requests must each reach the upstream: no sharing, no caching.
        "resilience": {"single_flight": False},
        "cache": {"enabled": False},
        **(extra or {}),
    }


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


@dataclass
class Seq:
    direct: list[float]
    alice: list[float]
    added: list[float]


def sequential(direct: Service, others: list[Service], n: int, warmup: int = 200) -> list[Seq]:
    """One Seq per service in `others`, each paired with the direct request of the same round; the
    order inside a round rotates so no side is always first."""

    def conn(url: str) -> http.client.HTTPConnection:
        u = urlsplit(url)
        return http.client.HTTPConnection(u.hostname, u.port, timeout=10)

    targets = [(conn(direct.url), _body("ok"))] + [(conn(o.url), _body("bench")) for o in others]
    headers = {"content-type": "application/json"}
    times: list[list[float]] = [[] for _ in targets]
    for i in range(warmup + n):
        shift = i % len(targets)
        for k in [*range(shift, len(targets)), *range(shift)]:
            c, body = targets[k]
            t0 = time.perf_counter()
            c.request("POST", PATH, body, headers)
            r = c.getresponse()
            r.read()
            dt = (time.perf_counter() - t0) * 1000
            if r.status != 200:
                raise RuntimeError(f"benchmark request failed with {r.status}")
            if i >= warmup:
                times[k].append(dt)
    return [Seq(times[0], t, [a - d for d, a in zip(times[0], t, strict=True)]) for t in times[1:]]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, model: str, concurrency: int, seconds: float) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = '{_body(model).decode()}'\n")
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "-s", script,
                              url + PATH], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": lat.get("50", 0.0), "p99": lat.get("99", 0.0), "requests": total,
            "errors": int(non2xx.group(1)) if non2xx else 0}


@dataclass
class OverheadResult:
    seq: Seq
    conc_direct: list[dict[str, float]]
    conc_alice: list[dict[str, float]]
    cpu_us_per_request: float
    idle_rss_mb: float
    ready_s: float
    markdown: str
    peer: dict[str, Any] | None = None
    telemetry: dict[str, Any] | None = None


def run_overhead(
    *, n: int = 2000, concurrency: int = 64, seconds: float = 5.0, rounds: int = 2,
    out: Path | None = Path("docs/benchmarks.md"), command: str = "alice bench overhead", peer: str | None = None,
    telemetry_cost: bool = False,
) -> OverheadResult:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk; `make bench` does it)")
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(run_sim("--no-log"))
        alice = stack.enter_context(run_alice(alice_config(sim.url)))
        # Telemetry's cost: the same Alice with `telemetry.enabled: false`, measured in the same rounds.
        quiet = stack.enter_context(run_alice(alice_config(sim.url, {"telemetry": {"enabled": False}}))) \
            if telemetry_cost else None
        time.sleep(0.5)
        idle = rss_mb(alice.pid)
        seqs = sequential(sim, [alice] if quiet is None else [alice, quiet], n)
        conc_d, conc_a, conc_q = [], [], []
        cpu = {alice.pid: 0.0, **({quiet.pid: 0.0} if quiet else {})}
        for _ in range(rounds):
            conc_d.append(_wrk(sim.url, "ok", concurrency, seconds))
            for svc, results in ((alice, conc_a), (quiet, conc_q)):
                if svc is None:
                    continue
                before = cpu_seconds(svc.pid)
                results.append(_wrk(svc.url, "bench", concurrency, seconds))
                cpu[svc.pid] += cpu_seconds(svc.pid) - before

        def per_request(svc: Service, results: list[dict[str, float]]) -> float:
            return cpu[svc.pid] / max(1, sum(int(r["requests"]) for r in results)) * 1e6

        res = OverheadResult(seqs[0], conc_d, conc_a, per_request(alice, conc_a), idle, alice.ready_s, "")
        if quiet is not None:
            res.telemetry = {"seq": seqs[1], "on_minus_off": [a - q for a, q in zip(seqs[0].alice, seqs[1].alice,
                                                                                       strict=True)],
                             "cpu_us": per_request(quiet, conc_q), "conc": conc_q}
        if peer == "litellm":
            with run_litellm(sim.url) as lite:
                pseq = sequential(sim, [lite], max(100, n // 10), warmup=20)[0]
                pconc = _wrk(lite.url, "bench", concurrency, seconds)
            res.peer = {"name": "LiteLLM proxy", "seq": pseq, "conc": pconc}
    res.markdown = _markdown(res, command, n, concurrency, seconds)
    if out is not None:
        write_section(out, "overhead", res.markdown)
    return res


def _mark(cond: bool) -> str:
    return "✅" if cond else "❌"


def _markdown(r: OverheadResult, command: str, n: int, c: int, seconds: float) -> str:
    med = statistics.median
    s = r.seq
    add50, add99 = _pct(s.added, 0.5), _pct(s.added, 0.99)
    a_rps = med([x["rps"] for x in r.conc_alice])
    d_rps = med([x["rps"] for x in r.conc_direct])
    d50, d99 = med([x["p50"] for x in r.conc_direct]), med([x["p99"] for x in r.conc_direct])
    a50, a99 = med([x["p50"] for x in r.conc_alice]), med([x["p99"] for x in r.conc_alice])
    errors = sum(int(x["errors"]) for x in r.conc_alice)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""## Gateway overhead (non-cached path)

Command: `{command}` — {when}, {platform.machine()}, {os.cpu_count()} cores (shared, noisy machine),
1 Alice worker, upstream = `alice sim` model `ok` (instant).

Sequential, one keep-alive connection, {n} interleaved pairs (direct vs through Alice):

| | p50 ms | p99 ms |
|---|---|---|
| direct to upstream | {_pct(s.direct, .5):.3f} | {_pct(s.direct, .99):.3f} |
| through Alice | {_pct(s.alice, .5):.3f} | {_pct(s.alice, .99):.3f} |
| **added by Alice** (paired difference) | **{add50:.3f}** {_mark(add50 <= 0.5)} (≤ 0.5) | **{add99:.3f}** \
{_mark(add99 <= 2)} (≤ 2) |

Concurrency {c} (wrk, {seconds:g} s per round, {len(r.conc_alice)} alternating rounds, medians):

| | req/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
| direct to upstream | {d_rps:,.0f} | {d50:.2f} | {d99:.2f} | - |
| through Alice (1 worker) | **{a_rps:,.0f}** {_mark(a_rps >= 3000)} (≥ 3,000) | {a50:.2f} | {a99:.2f} | {errors} |

Alice CPU per request at concurrency {c}: {r.cpu_us_per_request:.0f} µs. Idle RSS: {r.idle_rss_mb:.0f} MB
{_mark(r.idle_rss_mb <= 150)} (≤ 150). `alice serve` ready (process start → /health answers): {r.ready_s:.2f} s
{_mark(r.ready_s <= 2)} (≤ 2).
{_telemetry(r)}{_peer(r)}"""


def _telemetry(r: OverheadResult) -> str:
    if not r.telemetry:
        return ""
    t = r.telemetry
    cost = _pct(t["on_minus_off"], 0.5)
    q_rps = statistics.median(x["rps"] for x in t["conc"])
    return f"""
Telemetry (metrics + request log) on vs off, same run: a second Alice with `telemetry: {{enabled: false}}`
in the same sequential rounds and alternating wrk rounds:

| | added p50 ms | added p99 ms | req/s at concurrency | CPU µs/request |
|---|---|---|---|---|
| telemetry on (default) | {_pct(r.seq.added, .5):.3f} | {_pct(r.seq.added, .99):.3f} | \
{statistics.median(x["rps"] for x in r.conc_alice):,.0f} | {r.cpu_us_per_request:.0f} |
| telemetry off | {_pct(t["seq"].added, .5):.3f} | {_pct(t["seq"].added, .99):.3f} | {q_rps:,.0f} | {t["cpu_us"]:.0f} |

Telemetry's cost, paired per round (on − off), p50: **{cost:.3f} ms** {_mark(cost <= 0.1)} (≤ 0.1).
"""


def _peer(r: OverheadResult) -> str:
    if not r.peer:
        return ""
    s, c = r.peer["seq"], r.peer["conc"]
    a_rps = statistics.median(x["rps"] for x in r.conc_alice)
    a_err = sum(int(x["errors"]) for x in r.conc_alice)
    return f"""
Peer, same run, same sim upstream ({r.peer["name"]}, 1 worker, {len(s.added)} sequential pairs, one wrk round):

| | added p50 ms | added p99 ms | req/s at concurrency | errors |
|---|---|---|---|---|
| Alice | {_pct(r.seq.added, .5):.3f} | {_pct(r.seq.added, .99):.3f} | {a_rps:,.0f} | {a_err} |
| {r.peer["name"]} | {_pct(s.added, .5):.3f} | {_pct(s.added, .99):.3f} | {c["rps"]:,.0f} | {int(c["errors"])} |
"""
