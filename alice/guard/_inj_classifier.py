"""Layer 2 of the injection screen: logistic regression on e5 sentence embeddings.

The model is 384 weights and a bias, trained (Newton/IRLS, L2, class-balanced) on the texts in
`injection_examples.yaml` plus composites built from them ("benign question + injection", the
shape of most indirect injections). The decision threshold is calibrated by 5-fold
cross-validation: the score that keeps the out-of-fold false-positive rate on our own benign
examples (many of them deliberately tricky) at `target_fpr`.

Scoring costs one embedding, which the pipeline computes once per request anyway; given that
embedding, scoring is a 384-long dot product.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import yaml

__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_WEIGHTS",
    "InjectionClassifier",
    "TrainReport",
    "clip",
    "load_examples",
    "train",
]

_HERE = Path(__file__).parent
DEFAULT_EXAMPLES = _HERE / "injection_examples.yaml"
DEFAULT_WEIGHTS = _HERE / "injection_weights.json"
_HEAD, _TAIL = 600, 400


def clip(text: str) -> str:
    """Head and tail of a long text: injections sit at the start or are appended at the end,
    and embedding cost grows with length."""
    return text if len(text) <= _HEAD + _TAIL else f"{text[:_HEAD]} … {text[-_TAIL:]}"


def load_examples(path: Path = DEFAULT_EXAMPLES) -> tuple[list[str], list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    inj, ben = data.get("injection") or [], data.get("benign") or []
    if not all(isinstance(t, str) for t in [*inj, *ben]):
        raise ValueError(f"{path}: every example must be a plain string (quote texts containing ': ')")
    return inj, ben


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _fit(x: np.ndarray, y: np.ndarray, lam: float, iters: int = 30) -> np.ndarray:
    """Class-balanced L2 logistic regression by Newton's method; returns [w..., b]."""
    n, d = x.shape
    xb = np.hstack([x.astype(np.float64), np.ones((n, 1))])
    pos = float(y.mean())
    sample_w = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))
    reg = lam * np.eye(d + 1)
    reg[-1, -1] = 0.0  # the bias is not shrunk
    w = np.zeros(d + 1)
    for _ in range(iters):
        p = _sigmoid(xb @ w)
        grad = xb.T @ (sample_w * (p - y)) + reg @ w
        hess = (xb * (sample_w * p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w


@dataclass(slots=True)
class TrainReport:
    n_injection: int
    n_benign: int
    n_composite: int
    threshold: float
    cv_recall: float
    cv_false_positive_rate: float
    path: Path

    def summary(self) -> str:
        return (f"trained on {self.n_injection} injection + {self.n_benign} benign examples "
                f"(+{self.n_composite} composites); threshold {self.threshold:.3f}; 5-fold CV recall "
                f"{self.cv_recall:.3f} at false-positive rate {self.cv_false_positive_rate:.3f}; wrote {self.path}")


def _composites(inj: list[str], ben: list[str], seed: int) -> list[tuple[str, int, int, int]]:
    """(text, label, first index, second index): benign+injection (label 1) and benign+benign (0).

    Indices point into inj+ben so cross-validation can drop composites that share a part with
    the held-out fold."""
    rng = random.Random(seed)
    short = [i for i, t in enumerate(ben) if len(t) < 90]
    out = []
    for sep in (" ", ". ", "\n"):
        for _ in range(50):
            b, i = rng.choice(short), rng.randrange(len(inj))
            out.append((ben[b] + sep + inj[i], 1, len(inj) + b, i))
    for _ in range(60):
        b1, b2 = rng.choice(short), rng.choice(short)
        out.append((ben[b1] + " " + ben[b2], 0, len(inj) + b1, len(inj) + b2))
    return out


def train(*, examples: Path = DEFAULT_EXAMPLES, out: Path = DEFAULT_WEIGHTS, embedder: Any = None,
          lam: float = 0.01, target_fpr: float = 0.03, seed: int = 7) -> TrainReport:
    """Embed the examples, fit, calibrate the threshold by CV and write the weights file."""
    if embedder is None:
        from alice.nlu.embed import get_embedder

        embedder = get_embedder("e5")
    inj, ben = load_examples(examples)
    comps = _composites(inj, ben, seed)
    texts = [*inj, *ben, *(c[0] for c in comps)]
    x = np.vstack([embedder.embed([clip(t) for t in texts[i:i + 16]]) for i in range(0, len(texts), 16)])
    n_base = len(inj) + len(ben)
    y = np.r_[np.ones(len(inj)), np.zeros(len(ben)), [c[1] for c in comps]]
    parts = np.array([[c[2], c[3]] for c in comps])

    # Out-of-fold scores for the original examples; a composite trains a fold only if neither
    # of its parts is held out, so no held-out text is seen through a composite.
    order = np.random.default_rng(seed).permutation(n_base)
    oof = np.zeros(n_base)
    for fold in np.array_split(order, 5):
        held = np.zeros(n_base, dtype=bool)
        held[fold] = True
        keep = np.r_[~held, ~(held[parts[:, 0]] | held[parts[:, 1]])]
        w = _fit(x[keep], y[keep], lam)
        oof[fold] = _sigmoid(x[fold] @ w[:-1] + w[-1])
    neg = np.sort(oof[len(inj):n_base])
    threshold = float(neg[int(np.ceil((1 - target_fpr) * len(neg))) - 1]) + 1e-4
    cv_recall = float(np.mean(oof[:len(inj)] >= threshold))
    cv_fpr = float(np.mean(neg >= threshold))

    w = _fit(x, y, lam)
    payload = {
        "version": 1,
        "embedder": getattr(embedder, "name", "e5"),
        "dim": int(x.shape[1]),
        "weights": [round(float(v), 6) for v in w[:-1]],
        "bias": round(float(w[-1]), 6),
        "threshold": round(threshold, 4),
        "lambda": lam,
        "target_fpr": target_fpr,
        "cv": {"recall": round(cv_recall, 4), "false_positive_rate": round(cv_fpr, 4)},
        "n": {"injection": len(inj), "benign": len(ben), "composite": len(comps)},
        "examples_sha256": hashlib.sha256(examples.read_bytes()).hexdigest(),
    }
    out.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    return TrainReport(len(inj), len(ben), len(comps), threshold, cv_recall, cv_fpr, out)


class InjectionClassifier:
    """Loads the shipped weights; scores a text (or its precomputed embedding) in [0, 1]."""

    def __init__(self, path: Path = DEFAULT_WEIGHTS, *, embedder: Any = None) -> None:
        data = orjson.loads(path.read_bytes())
        self.embedder_name: str = data["embedder"]
        self.threshold: float = float(data["threshold"])
        self._w = np.asarray(data["weights"], dtype=np.float32)
        self._b = float(data["bias"])
        if self._w.shape != (data["dim"],):
            raise ValueError(f"{path}: expected {data['dim']} weights, found {self._w.shape}")
        self._embedder = embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._embedder is None:
            from alice.nlu.embed import get_embedder

            self._embedder = get_embedder(self.embedder_name)
        return self._embedder.embed([clip(t) for t in texts])

    def score_embedding(self, embedding: np.ndarray) -> float:
        z = float(np.dot(np.asarray(embedding, dtype=np.float32).ravel(), self._w)) + self._b
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def score(self, text: str) -> float:
        return self.score_embedding(self.embed([text])[0])
