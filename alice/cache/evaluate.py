"""`alice eval cache`: precision, recall and false-hit rate of the cache on labelled pairs.

Each pair runs through a real `SmartCache` (its own tenant, so its own partition): the first
text's answer is stored, the second text is looked up; "served" means an exact or semantic hit.
Embeddings are computed in batches up front (the same embedders the cache uses), so the run
is fast; nothing else differs from serving.

Pair files (the format is picked from the content):

    SweParaphrase jsonl  {"sentence_1", "sentence_2", "label": 0–5}: ≥ 4 same, ≤ 2 different,
                         the rest left out
    PAWS tsv             id, sentence1, sentence2, label (1 same, 0 different)
    GPTCache json        [{"origin", "similar"}]: all same
    pairs jsonl          {"a", "b", "same": 0|1} (Alice's own, e.g. tests/cache/fixtures)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from alice.cache.bands import Bands
from alice.cache.engine import SmartCache
from alice.cache.gate import check, extract, overlap
from alice.cache.settings import CacheSettings
from alice.cache.text import normalize
from alice.pipeline import Turn
from alice.profiles import Profile

__all__ = ["MemoEmbedder", "Pair", "evaluate_pairs", "load_pairs"]


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    same: bool


def load_pairs(path: Path) -> list[Pair]:
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        return [Pair(r["origin"], r["similar"], True) for r in orjson.loads(raw)]
    if stripped.startswith("{"):
        out = []
        for line in text.splitlines():
            if not line.strip():
                continue
            r = orjson.loads(line)
            if "sentence_1" in r:
                score = float(r["label"])
                if score >= 4:
                    out.append(Pair(r["sentence_1"], r["sentence_2"], True))
                elif score <= 2:
                    out.append(Pair(r["sentence_1"], r["sentence_2"], False))
            else:
                out.append(Pair(r["a"], r["b"], bool(r["same"])))
        return out
    out = []
    for line in text.splitlines():
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 4 or not cols[3].strip().isdigit():
            continue  # header or malformed
        out.append(Pair(cols[1], cols[2], cols[3].strip() == "1"))
    return out


class MemoEmbedder:
    """Wraps an embedder with precomputed rows (batched), falling back to computing."""

    def __init__(self, inner: Any, texts: Sequence[str], batch: int = 64) -> None:
        self.name, self.dim, self._inner = inner.name, inner.dim, inner
        unique = list(dict.fromkeys(texts))
        self._rows: dict[str, np.ndarray] = {}
        for i in range(0, len(unique), batch):
            chunk = unique[i : i + batch]
            for t, v in zip(chunk, inner.embed(chunk), strict=True):
                self._rows[t] = v

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._rows]
        if missing:
            for t, v in zip(missing, self._inner.embed(missing), strict=True):
                self._rows[t] = v
        return np.stack([self._rows[t] for t in texts])

    def one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _metrics(served: np.ndarray, same: np.ndarray) -> dict[str, Any]:
    tp = int((served & same).sum())
    fp = int((served & ~same).sum())
    pos, neg = int(same.sum()), int((~same).sum())
    return {"served": int(served.sum()), "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / pos, 4) if pos else None, "false_hit_rate": round(fp / neg, 4) if neg else None}


async def _run_engine(cache: SmartCache, pairs: list[Pair]) -> np.ndarray:
    served = np.zeros(len(pairs), dtype=bool)
    completion = {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                                                           "message": {"role": "assistant", "content": "x"}}]}
    for i, p in enumerate(pairs):
        tenant = f"eval-{i}"
        await cache.prime(tenant=tenant, model="eval", messages=[{"role": "user", "content": p.a}],
                          completion=completion, surface="assistant")
        await cache.settle()
        turn = Turn(request_id=f"eval-{i}", surface="assistant", received=time.perf_counter(),
                    body={"model": "eval", "messages": [{"role": "user", "content": p.b}]}, tenant=tenant,
                    model="eval", route="eval")
        await cache.lookup(turn)
        served[i] = turn.cache in ("exact", "semantic")
    return served


def _curve(cache: SmartCache, pairs: list[Pair], first: MemoEmbedder, verify: MemoEmbedder | None,
           profile: Profile, same: np.ndarray) -> list[dict[str, Any]]:
    """Precision / recall / false hits as the bands move: the golden_close floor from 0.80 to 0.99,
    every other floor following at the profile's ratio (the configured actions, lexical shortcut
    and verifier, as the engine decides a single candidate)."""
    qa = [normalize(p.a, "full") for p in pairs]
    qb = [normalize(p.b, "full") for p in pairs]
    s = np.einsum("ij,ij->i", first.embed(qa), first.embed(qb))
    e = np.einsum("ij,ij->i", verify.embed(qa), verify.embed(qb)) if verify is not None else None
    facts = [(extract(x), extract(y)) for x, y in zip(qa, qb, strict=True)]
    gate_ok = np.array([check(fb, fa) is None for fa, fb in facts])
    lexical = np.array([overlap(fb, fa) for fa, fb in facts]) >= cache.settings.semantic.lexical_min
    exact = np.array([qa_ == qb_ for qa_, qb_ in zip(qa, qb, strict=True)])
    sem = cache.settings.semantic
    ratio = profile.thresholds.high
    rows = []
    for floor in (0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99):
        bands = Bands.build((1 - floor) / ratio, ratio, None, sem.actions, verify_reach=cache.verify_reach)
        act = np.array([bands.action(float(x)) for x in s])
        verified = (lexical & (s >= sem.lexical_floor)) | (e >= sem.verifier_min if e is not None else False)
        ok = (act == "serve") | ((act == "verify") & verified)
        rows.append({"golden_close_floor": floor, **_metrics(exact | (ok & gate_ok), same)})
    return rows


def evaluate_pairs(pairs: list[Pair], settings: CacheSettings, profile: Profile, *,
                   curve: bool = True) -> dict[str, Any]:
    from alice.nlu.embed import get_embedder

    settings = settings.model_copy(update={"store": "memory", "enabled": True})
    texts = [normalize(t, "full") for p in pairs for t in (p.a, p.b)]
    started = time.perf_counter()
    first = MemoEmbedder(get_embedder(settings.semantic.embedder), texts)
    verify = MemoEmbedder(get_embedder(settings.semantic.verifier), texts) if settings.semantic.verifier else None
    embed_s = time.perf_counter() - started
    cache = SmartCache(settings, profile, embedder=first, verifier=verify)
    served = asyncio.run(_run_engine(cache, pairs))
    same = np.array([p.same for p in pairs], dtype=bool)
    out: dict[str, Any] = {"n_pairs": len(pairs), "positives": int(same.sum()), "negatives": int((~same).sum()),
                           **_metrics(served, same), "embedder": settings.semantic.embedder,
                           "verifier": settings.semantic.verifier, "bands": cache.bands.describe(),
                           "verifier_min": settings.semantic.verifier_min,
                           "gate_rejections": dict(cache.counters.gate_rejections), "embed_s": round(embed_s, 2)}
    if curve:
        out["curve"] = _curve(cache, pairs, first, verify, profile, same)
    return out
