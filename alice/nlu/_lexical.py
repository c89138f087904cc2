"""Hashed word and character n-gram features: the lexical half of the intent classifier.

Sentence embeddings capture meaning but blur the few words that separate close intents
("flytta" vs "boka" a meeting, "klockan" vs "vädret"); character n-grams keep them, and also
survive typos and Swedish compounds ("pizzatimern"). Hashing keeps the vector a fixed size
without a vocabulary file.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

__all__ = ["LexicalFeaturizer", "SparseRows", "tokenize"]

_NON_WORD = re.compile(r"[^\w@.+]+")
_DIGITS = re.compile(r"\d+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words; digit runs collapse to one token so "14" and "09" look alike."""
    text = _DIGITS.sub("0", text.lower())
    return [w.strip(".") for w in _NON_WORD.sub(" ", text).split() if w.strip(".")]


class SparseRows:
    """Rows in CSR form: row r has `indices[indptr[r]:indptr[r+1]]` with `values` (every row non-empty)."""

    __slots__ = ("_grad_plan", "dim", "indices", "indptr", "values")

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, dim: int) -> None:
        self.indptr = indptr
        self.indices = indices
        self.values = values
        self.dim = dim
        self._grad_plan: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def scaled(self, factor: float) -> SparseRows:
        return SparseRows(self.indptr, self.indices, self.values * np.float32(factor), self.dim)

    def take(self, rows: np.ndarray) -> SparseRows:
        """The subset of rows (a boolean mask or index array), in order."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        idx = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
        indptr = np.concatenate([[0], np.cumsum(ends - starts)])
        return SparseRows(indptr, self.indices[idx], self.values[idx], self.dim)

    def matmul(self, w: np.ndarray) -> np.ndarray:
        """(rows, dim) @ (dim, k) without densifying."""
        prod = self.values[:, None] * w[self.indices]
        return np.add.reduceat(prod, self.indptr[:-1], axis=0)

    def rmatmul(self, g: np.ndarray) -> np.ndarray:
        """(rows, dim).T @ (rows, k): the weight gradient, summed per column (the plan is cached)."""
        if self._grad_plan is None:
            rows = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
            order = np.argsort(self.indices, kind="stable")
            cols = self.indices[order]
            starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
            self._grad_plan = (rows[order], self.values[order, None], starts, cols[starts])
        rows, vals, starts, cols = self._grad_plan
        out = np.zeros((self.dim, g.shape[1]), dtype=np.float32)
        out[cols] = np.add.reduceat(vals * g[rows], starts, axis=0)
        return out


class LexicalFeaturizer:
    """Maps texts to L2-normalised float32 rows of `dim` hashed, idf-weighted features."""

    def __init__(self, dim: int = 4096, ngrams: Sequence[int] = (3, 4, 5)) -> None:
        if dim & (dim - 1):
            raise ValueError("dim must be a power of two")
        self.dim = dim
        self.ngrams = tuple(ngrams)
        self.idf = np.ones(dim, dtype=np.float32)

    def _counts(self, text: str) -> dict[int, float]:
        counts: dict[int, float] = {}
        mask = self.dim - 1
        words = tokenize(text)
        grams: list[str] = ["w:" + w for w in words]
        grams += ["b:" + a + " " + b for a, b in pairwise(words)]
        for w in words:
            padded = f" {w} "
            for n in self.ngrams:
                grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
        for g in grams:
            h = zlib.crc32(g.encode()) & mask
            counts[h] = counts.get(h, 0.0) + 1.0
        return counts

    def fit(self, texts: Sequence[str]) -> LexicalFeaturizer:
        df = np.zeros(self.dim, dtype=np.float32)
        for t in texts:
            for h in self._counts(t):
                df[h] += 1
        n = len(texts)
        self.idf = (np.log((n + 1) / (df + 1)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> SparseRows:
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for t in texts:
            counts = self._counts(t) or {0: 0.0}  # keep every row non-empty (reduceat needs it)
            keys = list(counts)
            vals = [(1.0 + math.log(c)) * float(self.idf[h]) if c > 0 else 0.0 for h, c in counts.items()]
            norm = math.sqrt(sum(v * v for v in vals)) or 1.0
            indices += keys
            values += [v / norm for v in vals]
            indptr.append(len(indices))
        return SparseRows(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                          np.asarray(values, dtype=np.float32), self.dim)
