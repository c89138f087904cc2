"""TTL tiers L1…L10 with promotion by repeated hits ("pattern maturity"), and what may be cached.

An answer enters at level 0 (1 hour in the fibonacci profile: `profile.cache_ttl_hours`) and
moves up one level each time it collects `profile.cache_promotion_hits[level]` hits at its
level; promotion renews its expiry at the new level's TTL. Intent caps the TTL: time, timers,
calendar listings and actions are never cached; weather lives minutes; facts may climb to the
top tier. On the assistant surface, when the intent is unknown, a few words that make a
question time-bound ("klockan", "idag", "vädret", …) apply the same caps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TtlLadder", "intent_cap_s", "text_cap_s"]

_VOLATILE_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(vad är klockan|vad klockan är|hur mycket är klockan|vilken tid är det|what time is it|"
                r"what's the time|vad är det för dag|vilket datum är det|vilken dag är det|today's date)\b"), "time"),
    (re.compile(r"\b(timer|timern|alarm|väckarklocka|påminn|påminnelse|remind)\w*"), "timer"),
    (re.compile(r"\b(kalender|kalendern|möten|mötet|calendar|meetings?|agenda)\b"), "calendar"),
    (re.compile(r"\b(väder|vädret|väderprognos|regnar|snöar|weather|forecast|temperaturen ute)\b"), "weather"),
    (re.compile(r"\b(tänd|släck|sätt på|stäng av|turn on|turn off|dimma)\b"), "home"),
    (re.compile(r"\b(nyheter|nyheterna|senaste nytt|news|headlines)\b"), "news"),
)


def intent_cap_s(intent: str | None, caps: dict[str, float]) -> float | None:
    """The longest an answer to `intent` may live (seconds), or None for no cap."""
    if not intent:
        return None
    low = intent.lower()
    best: tuple[int, float] | None = None
    for prefix, cap in caps.items():
        if low.startswith(prefix) or f".{prefix}" in low or f"_{prefix}" in low:
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), cap)
    return None if best is None else best[1]


def text_cap_s(query: str, caps: dict[str, float]) -> float | None:
    for pattern, kind in _VOLATILE_TEXT:
        if pattern.search(query):
            return caps.get(kind, 0.0)
    return None


@dataclass(frozen=True, slots=True)
class TtlLadder:
    ttl_s: tuple[float, ...]
    promotion_hits: tuple[int, ...]

    @classmethod
    def from_profile(cls, ttl_hours: tuple[float, ...], promotion_hits: tuple[int, ...]) -> TtlLadder:
        if not ttl_hours:
            raise ValueError("the profile has no cache TTL tiers")
        return cls(tuple(h * 3600.0 for h in ttl_hours), tuple(promotion_hits))

    @property
    def top(self) -> int:
        return len(self.ttl_s) - 1

    def ttl(self, level: int, cap_s: float | None) -> float:
        t = self.ttl_s[min(level, self.top)]
        return t if cap_s is None else min(t, cap_s)

    def promote(self, level: int, level_hits: int) -> bool:
        """True if `level_hits` hits at `level` earn the next level."""
        if level >= self.top or level >= len(self.promotion_hits):
            return False
        return level_hits >= self.promotion_hits[level]
