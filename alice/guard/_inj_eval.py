"""Recall and false-positive rate of the injection screen on labelled sets.

Formats (recognised from the content):
- JSON `[{"text", "label"}]` or JSONL of such rows: label 1/true/"injection" is an attack, 0 a
  benign text (deepset/prompt-injections style);
- CSV with a `text` or `prompt` column and a `label` column: 0/1, or XSTest's "safe"/"unsafe".
  XSTest's "unsafe" prompts are harmful requests, not injections: they are reported apart (how
  often the screen flags them) and are not counted in the false-positive rate;
- CSV or JSON without labels (a list of strings, or a CSV with only a text/prompt column):
  every row takes the file's role: attacks for --data, benign for --safe.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from alice.guard.injection import Screen

__all__ = ["Sample", "evaluate", "load_samples"]

INJECTION, BENIGN, HARMFUL = "injection", "benign", "harmful_not_injection"


@dataclass(slots=True)
class Sample:
    text: str
    kind: str  # INJECTION, BENIGN or HARMFUL


def _label(value: Any, default: str) -> str:
    v = str(value).strip().lower()
    if v in ("1", "true", "injection", "jailbreak", "attack", "malicious"):
        return INJECTION
    if v in ("0", "false", "benign", "safe", "legit"):
        return BENIGN
    if v == "unsafe":
        return HARMFUL
    return default


def load_samples(path: Path, *, default: str) -> list[Sample]:
    raw = path.read_bytes()
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        col = "text" if rows and "text" in rows[0] else "prompt"
        if not rows or col not in rows[0]:
            raise ValueError(f"{path}: a CSV needs a 'text' or 'prompt' column")
        return [Sample(r[col], _label(r["label"], default) if "label" in r else default) for r in rows]
    if path.suffix.lower() == ".jsonl":
        data: Any = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
    else:
        data = orjson.loads(raw)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list")
    out = []
    for row in data:
        if isinstance(row, str):
            out.append(Sample(row, default))
        else:
            text = row.get("text") or row.get("prompt") or ""
            out.append(Sample(text, _label(row["label"], default) if "label" in row else default))
    return out


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))], 3)


def evaluate(sets: dict[str, list[Sample]], screen: Screen) -> dict[str, Any]:
    """Check every sample one by one (as requests arrive) and report per set and overall."""
    if screen.use_classifier:
        screen.warm()  # loading the model is start-up cost, not request latency
    per_set: dict[str, Any] = {}
    all_ms: list[float] = []
    pattern_us: list[float] = []
    pattern_cpu_us: list[float] = []  # thread CPU time: not inflated by a busy machine
    given_ms: list[float] = []  # the whole check with the request's embedding already computed
    totals = {INJECTION: [0, 0], BENIGN: [0, 0], HARMFUL: [0, 0]}
    for name, samples in sets.items():
        counts = {INJECTION: [0, 0], BENIGN: [0, 0], HARMFUL: [0, 0]}
        layers = {"pattern": 0, "classifier": 0, "judge": 0}
        ms: list[float] = []
        for s in samples:
            c0, t0 = time.thread_time_ns(), time.perf_counter()
            screen.check_patterns(s.text)
            pattern_us.append((time.perf_counter() - t0) * 1e6)
            pattern_cpu_us.append((time.thread_time_ns() - c0) / 1e3)
            # The embedding is timed on its own so one run gives both costs: the screen's when the
            # request's embedding is shared with NLU, and the screen's when it must embed itself.
            vec, embed_ms = None, 0.0
            if screen.use_classifier and s.text.strip():
                t0 = time.perf_counter()
                vec = screen.classifier.embed([s.text])[0]
                embed_ms = (time.perf_counter() - t0) * 1e3
            t0 = time.perf_counter()
            v = screen.check(s.text, embedding=vec)
            shared_ms = (time.perf_counter() - t0) * 1e3
            given_ms.append(shared_ms)
            ms.append(shared_ms + (embed_ms if v.layer == "classifier" else 0.0))
            counts[s.kind][0] += v.flagged
            counts[s.kind][1] += 1
            if v.flagged:
                layers[v.layer] += 1
        all_ms += ms
        for k in totals:
            totals[k][0] += counts[k][0]
            totals[k][1] += counts[k][1]
        per_set[name] = {
            "n": len(samples),
            "injections": counts[INJECTION][1],
            "recall": _rate(*counts[INJECTION]),
            "benign": counts[BENIGN][1],
            "false_positive_rate": _rate(*counts[BENIGN]),
            **({"harmful_not_injection": counts[HARMFUL][1],
                "harmful_flagged_rate": _rate(*counts[HARMFUL])} if counts[HARMFUL][1] else {}),
            "flagged_by": layers,
            "latency_ms_p50": _pct(ms, 0.5),
        }
    shared_us = None
    if screen.use_classifier:
        # With the request's embedding already computed (the NLU stage's), the classifier is one
        # dot product: time that alone.
        vec = screen.classifier.embed(["Vad blir det för väder i morgon?"])[0]
        t0 = time.perf_counter()
        for _ in range(1000):
            screen.classifier.score_embedding(vec)
        shared_us = round((time.perf_counter() - t0) * 1e3, 2)  # µs per call: total s * 1e6 / 1000
    return {
        "n": sum(len(v) for v in sets.values()),
        "recall": _rate(*totals[INJECTION]),
        "false_positive_rate": _rate(*totals[BENIGN]),
        "injections": totals[INJECTION][1],
        "benign": totals[BENIGN][1],
        **({"harmful_not_injection_flagged_rate": _rate(*totals[HARMFUL])} if totals[HARMFUL][1] else {}),
        "latency_ms_p50": _pct(all_ms, 0.5),
        "latency_ms_p95": _pct(all_ms, 0.95),
        "latency_ms_mean": round(statistics.fmean(all_ms), 3) if all_ms else None,
        "latency_ms_p50_given_embedding": _pct(given_ms, 0.5),
        "latency_ms_p95_given_embedding": _pct(given_ms, 0.95),
        "pattern_layer_us_p50": _pct(pattern_us, 0.5),
        "pattern_layer_cpu_us_p50": _pct(pattern_cpu_us, 0.5),
        "classifier_given_embedding_us": shared_us,
        "classifier": screen.use_classifier,
        "threshold": round(screen.threshold, 4) if screen.use_classifier else None,
        "latency_note": "per request, one at a time; latency_ms_* with the classifier include computing the e5 "
                        "embedding, latency_ms_*_given_embedding are the whole check when the request's embedding is "
                        "already computed (shared with NLU)",
        "sets": per_set,
    }
