"""The micro share quota: of the last `window` model-tier decisions, at most `max_share × window`
may go to the micro tier; past that, micro-worthy requests go one tier up.

Counting against the full window (not the share of the decisions seen so far) keeps the first
requests after start-up from being refused micro because 1 of 1 is 100 %.
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["MicroQuota"]


class MicroQuota:
    def __init__(self, max_share: float, window: int = 100) -> None:
        if not 0.0 <= max_share <= 1.0:
            raise ValueError("max_share must be between 0 and 1")
        if window < 1:
            raise ValueError("window must be at least 1")
        self.max_share = max_share
        self.window = window
        self._recent: deque[bool] = deque(maxlen=window)  # True = micro
        self._micro = 0
        self._lock = threading.Lock()

    def share(self) -> float:
        with self._lock:
            return self._micro / len(self._recent) if self._recent else 0.0

    @property
    def limit(self) -> int:
        """Micro decisions allowed among the last `window` decisions."""
        return int(self.max_share * self.window + 1e-9)

    def allows_micro(self) -> bool:
        """Would one more micro decision stay within the quota for the window?"""
        with self._lock:
            micro = self._micro
            if len(self._recent) == self.window and self._recent[0]:
                micro -= 1  # the oldest decision falls out when this one comes in
            return micro + 1 <= self.limit

    def record(self, tier: str) -> None:
        is_micro = tier == "micro"
        with self._lock:
            if len(self._recent) == self.window and self._recent[0]:
                self._micro -= 1
            self._recent.append(is_micro)
            self._micro += is_micro
