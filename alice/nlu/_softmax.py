"""Multinomial logistic regression in numpy, and temperature calibration.

Features come in two blocks: a dense one (the sentence embedding) and a sparse one (hashed
n-grams, `SparseRows`). A few hundred examples train in about a second with full-batch gradient
descent plus Nesterov momentum, so no ML framework is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alice.nlu._lexical import SparseRows

__all__ = ["LinearModel", "fit_temperature", "precise_from", "softmax", "train_softmax"]


def softmax(z: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = z / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(slots=True)
class LinearModel:
    dense: np.ndarray  # (dense_dim, classes)
    sparse: np.ndarray  # (sparse_dim, classes)
    bias: np.ndarray  # (classes,)

    def logits(self, x: np.ndarray, s: SparseRows) -> np.ndarray:
        return x @ self.dense + s.matmul(self.sparse) + self.bias


def train_softmax(
    x: np.ndarray, s: SparseRows, y: np.ndarray, n_classes: int, *, epochs: int = 200, lr: float = 4.0,
    l2: float = 1e-4, momentum: float = 0.9,
) -> LinearModel:
    """Minimise class-balanced cross-entropy + l2·|W|²/2 over the dense block `x` and sparse block `s`."""
    n = x.shape[0]
    # Balance classes so an intent with more examples does not win ties by count alone.
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    sample_w = ((n / (n_classes * np.maximum(counts, 1)))[y] / n)[:, None].astype(np.float32)
    onehot = np.zeros((n, n_classes), dtype=np.float32)
    onehot[np.arange(n), y] = 1.0
    params = [np.zeros((x.shape[1], n_classes), np.float32), np.zeros((s.dim, n_classes), np.float32),
              np.zeros(n_classes, np.float32)]
    velocity = [np.zeros_like(p) for p in params]
    for _ in range(epochs):
        ahead = [p + momentum * v for p, v in zip(params, velocity, strict=True)]  # Nesterov look-ahead
        g = (softmax(x @ ahead[0] + s.matmul(ahead[1]) + ahead[2]) - onehot) * sample_w
        grads = [x.T @ g + l2 * ahead[0], s.rmatmul(g) + l2 * ahead[1], g.sum(axis=0)]
        for i in range(3):
            velocity[i] = momentum * velocity[i] - lr * grads[i]
            params[i] += velocity[i]
    return LinearModel(*params)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of held-out logits (grid search)."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.05), np.log(10.0), 60)):
        p = softmax(logits, float(t))[np.arange(len(y)), y]
        nll = float(-np.log(np.maximum(p, 1e-12)).mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def precise_from(confidence: np.ndarray, correct: np.ndarray, precision: float, min_support: int = 20) -> float:
    """The lowest confidence such that the held-out answers at or above it are right at least
    `precision` of the time (over at least `min_support` of them); above 1 when none is."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    taken = np.arange(1, len(order) + 1)
    ok = np.flatnonzero((hits / taken >= precision) & (taken >= min_support))
    # Ties: a threshold admits every answer with that confidence, so only cut between distinct values.
    conf = confidence[order]
    ok = ok[(ok == len(order) - 1) | (conf[np.minimum(ok + 1, len(order) - 1)] < conf[ok])]
    return float(conf[ok[-1]]) if len(ok) else 1.01
