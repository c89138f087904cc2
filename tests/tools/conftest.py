from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

NOW = datetime(2026, 11, 28, 14, 5, tzinfo=ZoneInfo("Europe/Stockholm"))  # Saturday


class WordEmbedder:
    """Deterministic stand-in for a sentence embedder: hashed word stems (first 5 letters)."""

    name = "words"
    dim = 256

    def embed(self, texts):
        import zlib

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace("?", " ").split():
                out[i, zlib.crc32(w[:5].encode()) % self.dim] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out


@pytest.fixture
def now() -> datetime:
    return NOW
