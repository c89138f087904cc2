"""What the sim remembers between attempts: the attempt log and the state of stateful behaviours.

All of it is cleared by `POST /control/reset`. Every operation is O(1), so recording an attempt
costs the `ok` hot path one dict and one deque append.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from collections import deque
from typing import Any

import orjson

__all__ = ["SimState", "body_hash"]

_ONCE_MAX = 100_000  # distinct request bodies remembered by `500-once`; the oldest are forgotten first


def body_hash(body: Any) -> str:
    """A short hash of the request body, insensitive to JSON key order and whitespace."""
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


class SimState:
    def __init__(self, *, log_attempts: bool, log_max: int, log_messages: bool = False) -> None:
        self.log_attempts = log_attempts
        self.log_messages = log_messages
        self.attempts: deque[dict[str, Any]] = deque(maxlen=log_max)
        self._failed_once: dict[str, None] = {}  # insertion-ordered set of body hashes
        self._flap_started: dict[str, float] = {}  # model name -> monotonic time of its first request
        self._ids = itertools.count(1)
        self._id_prefix = secrets.token_hex(3)  # ids stay distinct across sim restarts

    def next_id(self) -> bytes:
        return f"chatcmpl-sim{self._id_prefix}{next(self._ids)}".encode()

    def record(self, *, model: str | None, behaviour: str | None, stream: bool, status: int | None,
               request_id: str | None, body_hash: str | None, messages: Any = None) -> None:
        if self.log_attempts:
            entry = {"t": time.time(), "model": model, "behaviour": behaviour, "stream": stream,
                     "status": status, "request_id": request_id, "body_hash": body_hash}
            if self.log_messages:
                entry["messages"] = messages
            self.attempts.append(entry)

    def fail_once(self, key: str) -> bool:
        """True the first time `key` is seen since start or reset (that attempt must fail)."""
        if key in self._failed_once:
            return False
        self._failed_once[key] = None
        if len(self._failed_once) > _ONCE_MAX:
            del self._failed_once[next(iter(self._failed_once))]
        return True

    def flapping(self, model: str, window_s: float) -> bool:
        """True while `model` is inside its failure window, which opens at its first request."""
        now = time.monotonic()
        started = self._flap_started.setdefault(model, now)
        return now - started < window_s

    def reset(self) -> None:
        self.attempts.clear()
        self._failed_once.clear()
        self._flap_started.clear()
