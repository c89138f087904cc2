"""Intent evaluation: accuracy, per-intent precision/recall, confusion, out-of-scope recall, speed.

Data: JSON lines `{"text": …, "intent": …}` with the registry's ids, or the CLINC150 JSON
(`data_full.json`: splits of `[text, intent]`, out-of-scope labelled `oos`). With a training
file (CLINC150) the classifier is trained few-shot on `shots` examples per intent from its
`train` split (plus `oos_shots` of `oos_train` as the `none` class) and tested on `test` +
`oos_test`. Without one, the default registry is evaluated; CLINC labels that mean one of its
intents are mapped to it, `oos` is `none`, and the other CLINC intents are skipped.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from alice.nlu.classifier import ClassifierSettings, IntentClassifier
from alice.nlu.embed import Embedder
from alice.nlu.registry import OUT_OF_SCOPE, IntentRegistry, load_registry, registry_from_examples

__all__ = ["CLINC_TO_DEFAULT", "evaluate", "load_labelled", "run_eval"]

# CLINC150 intents that are one of the default registry's intents.
CLINC_TO_DEFAULT = {
    "time": "time.now", "date": "date.today", "weather": "weather.lookup", "timer": "timer.start",
    "calculator": "math.calculate", "greeting": "greeting.hello", "oos": OUT_OF_SCOPE, "tell_joke": "smalltalk",
    "what_is_your_name": "smalltalk", "how_old_are_you": "smalltalk", "are_you_a_bot": "smalltalk",
    "thank_you": "smalltalk", "goodbye": "smalltalk", "who_made_you": "smalltalk",
    "calendar_update": "calendar.create_draft", "calendar": "calendar.list",
}


def _is_clinc(data: Any) -> bool:
    return isinstance(data, dict) and "train" in data and "test" in data


def load_labelled(path: Path, *, split: Sequence[str] = ("test", "oos_test")) -> tuple[list[tuple[str, str]], bool]:
    """(text, intent) rows and whether the file is CLINC150 (labels not yet mapped)."""
    raw = path.read_bytes()
    if path.suffix == ".json":
        data = orjson.loads(raw)
        if _is_clinc(data):
            return [(t, i) for s in split for t, i in data[s]], True
        if isinstance(data, list):
            return [(r["text"], r["intent"]) if isinstance(r, dict) else (r[0], r[1]) for r in data], False
        raise ValueError(f"{path}: unrecognised JSON layout")
    rows = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if line.strip():
            rec = orjson.loads(line)
            if "text" not in rec or "intent" not in rec:
                raise ValueError(f"{path}:{n}: each line needs `text` and `intent`")
            rows.append((rec["text"], rec["intent"]))
    return rows, False


def few_shot_registry(path: Path, *, shots: int, oos_shots: int) -> IntentRegistry:
    data = orjson.loads(path.read_bytes())
    if not _is_clinc(data):
        raise ValueError(f"{path}: --train expects the CLINC150 JSON (train/test splits)")
    per: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        if len(per[intent]) < shots:
            per[intent].append(text)
    rows = [(t, i) for i, texts in per.items() for t in texts]
    rows += [(t, OUT_OF_SCOPE) for t, _ in data.get("oos_train", [])[:oos_shots]]
    return registry_from_examples(rows)


def evaluate(classifier: IntentClassifier, rows: Sequence[tuple[str, str]], *, batch: int = 64) -> dict[str, Any]:
    classifier.prepare()
    texts = [t for t, _ in rows]
    t0 = time.perf_counter()
    emb = _embed_all(classifier.embedder, texts, batch)
    embed_ms = (time.perf_counter() - t0) * 1000 / max(1, len(texts))
    fast = _embed_all(classifier.fast.embedder, texts, batch) if classifier.fast is not None else [None] * len(texts)
    preds: list[str] = []
    timings: list[float] = []
    kept = 0
    for text, e, f in zip(texts, emb, fast, strict=True):
        t = time.perf_counter()
        result = classifier.quick(text, f) if f is not None else None
        kept += result is not None
        preds.append((result or classifier.classify(text, e)).intent)
        timings.append((time.perf_counter() - t) * 1000)
    gold = [i for _, i in rows]
    return metrics(gold, preds) | {
        "cascade": classifier.fast.embedder.name if classifier.fast is not None else None,
        "cascade_kept": round(kept / max(1, len(texts)), 4),
        "classify_ms_p50": round(float(np.percentile(timings, 50)), 4),
        "classify_ms_p95": round(float(np.percentile(timings, 95)), 4),
        "embed_ms_per_text_batched": round(embed_ms, 3),
        "embedder": classifier.embedder.name,
        "errors": [{"text": t, "gold": g, "pred": p} for (t, g), p in zip(rows, preds, strict=True) if g != p][:50],
    }


def _embed_all(embedder: Embedder, texts: Sequence[str], batch: int) -> np.ndarray:
    return np.vstack([embedder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)])


def metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    n = len(gold)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    labels = sorted(set(gold) | set(pred))
    per_intent = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[g][label] for g in confusion)
        actual = sum(confusion[label].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                             "support": actual}
    correct = sum(g == p for g, p in zip(gold, pred, strict=True))
    in_scope = [(g, p) for g, p in zip(gold, pred, strict=True) if g != OUT_OF_SCOPE]
    oos = [(g, p) for g, p in zip(gold, pred, strict=True) if g == OUT_OF_SCOPE]
    # "tool precision": of the turns predicted as a tool-backed intent, how many were that intent
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "in_scope_accuracy": round(sum(g == p for g, p in in_scope) / len(in_scope), 4) if in_scope else None,
        "oos_recall": round(sum(p == OUT_OF_SCOPE for _, p in oos) / len(oos), 4) if oos else None,
        "oos_precision": per_intent.get(OUT_OF_SCOPE, {}).get("precision"),
        "per_intent": per_intent,
        "confusion": {g: dict(c) for g, c in sorted(confusion.items())},
    }


def tool_precision(result: dict[str, Any], registry: IntentRegistry) -> float | None:
    """Micro-averaged precision over the intents that run a tool."""
    tp = fp = 0
    for label in result["per_intent"]:
        if label in registry and registry[label].tool is not None:
            predicted_as = sum(c.get(label, 0) for c in result["confusion"].values())
            correct = result["confusion"].get(label, {}).get(label, 0)
            tp += correct
            fp += predicted_as - correct
    return round(tp / (tp + fp), 4) if tp + fp else None


def run_eval(data: Path, *, train: Path | None = None, embedder: str = "e5", fast: str | None = "static",
             state_dir: Path | None = None, shots: int = 10, oos_shots: int = 100,
             registry_files: Sequence[Path] = ()) -> dict[str, Any]:
    rows, is_clinc = load_labelled(data)
    if train is not None:
        registry = few_shot_registry(train, shots=shots, oos_shots=oos_shots)
        rows = [(t, OUT_OF_SCOPE if i == "oos" else i) for t, i in rows] if is_clinc else rows
        settings = ClassifierSettings(folds=3)
    else:
        registry = load_registry(registry_files)
        if is_clinc:
            rows = [(t, CLINC_TO_DEFAULT[i]) for t, i in rows if i in CLINC_TO_DEFAULT]
        unknown = sorted({i for _, i in rows} - set(registry.ids))
        if unknown:
            raise ValueError(f"labels not in the registry: {unknown}")
        settings = ClassifierSettings()
    classifier = IntentClassifier(registry, embedder, state_dir=state_dir, settings=settings, fast=fast)
    t0 = time.perf_counter()
    classifier.prepare()
    prepare_s = time.perf_counter() - t0
    result = evaluate(classifier, rows)
    result["tool_precision"] = tool_precision(result, registry)
    result["prepare_s"] = round(prepare_s, 2)
    result["data"] = str(data)
    result["train"] = str(train) if train else None
    result["intents"] = len(registry)
    result["oos_similarity_floor"] = round(classifier.similarity_floor, 4)
    result["cascade_accepts_from"] = round(classifier.fast.accept_from, 4) if classifier.fast is not None else None
    return result
