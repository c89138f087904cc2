"""Cache test helpers: a deterministic bag-of-words embedder (no model), turns and answers."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from alice.cache.engine import SmartCache
from alice.cache.text import tokens
from alice.pipeline import Turn


class BagEmbedder:
    """Hashes words into 64 dimensions: texts sharing words are close, like a static embedder."""

    def __init__(self, name: str = "static", dim: int = 64) -> None:
        self.name, self.dim = name, dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in tokens(t):
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return out / norms


def make_turn(text: str | None = None, *, tenant: str = "t1", model: str = "chat", surface: str = "assistant",
              messages: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
              stream: bool = False, **body: Any) -> Turn:
    msgs = messages if messages is not None else [{"role": "user", "content": text}]
    return Turn(request_id=f"r{time.perf_counter_ns()}", surface=surface, received=time.perf_counter(),
                body={"model": model, "messages": msgs, **body}, headers=headers or {}, tenant=tenant,
                model=model, route=model, stream=stream)


def completion(content: str, **extra: Any) -> dict[str, Any]:
    return {"id": "up-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, **extra}


async def answer(cache: SmartCache, turn: Turn, content: str) -> None:
    """What the gateway does on a miss: the upstream answers, then the write-back runs."""
    turn.answer, turn.complete, turn.status = completion(content), True, 200
    await cache.write_back(turn)


async def ask(cache: SmartCache, text: str | None = None, **kw: Any) -> Turn:
    turn = make_turn(text, **kw)
    await cache.lookup(turn)
    return turn
