"""Counters per tier, kept in plain ints (the telemetry area exports them as Prometheus metrics)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CacheStats", "TierStats"]


@dataclass(slots=True)
class TierStats:
    hits: int = 0
    misses: int = 0
    lookup_ms: float = 0.0  # summed over lookups that reached this tier

    def as_dict(self) -> dict[str, Any]:
        n = self.hits + self.misses
        return {"hits": self.hits, "misses": self.misses, "hit_rate": round(self.hits / n, 4) if n else None,
                "mean_lookup_ms": round(self.lookup_ms / n, 4) if n else None}


@dataclass(slots=True)
class CacheStats:
    exact: TierStats = field(default_factory=TierStats)
    semantic: TierStats = field(default_factory=TierStats)
    negative: TierStats = field(default_factory=TierStats)
    lookups: int = 0
    bypassed: int = 0  # Cache-Control: no-cache / no-store, or a never-cached intent
    stores: int = 0
    negative_stores: int = 0
    not_stored: Counter[str] = field(default_factory=Counter)  # reason → count
    promotions: int = 0
    gate_rejections: Counter[str] = field(default_factory=Counter)  # reason → count
    bands: Counter[str] = field(default_factory=Counter)  # band of the best candidate
    verified: int = 0
    lexical_verified: int = 0
    verify_rejections: int = 0
    embed_ms: float = 0.0
    embeds: int = 0
    embeds_reused: int = 0
    followed_events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lookups": self.lookups, "bypassed": self.bypassed,
            "tiers": {"exact": self.exact.as_dict(), "semantic": self.semantic.as_dict(),
                      "negative": self.negative.as_dict()},
            "stores": self.stores, "negative_stores": self.negative_stores, "not_stored": dict(self.not_stored),
            "promotions": self.promotions, "gate_rejections": dict(self.gate_rejections),
            "best_candidate_bands": dict(self.bands), "verified": self.verified,
            "lexical_verified": self.lexical_verified,
            "verify_rejections": self.verify_rejections,
            "embeddings": {"computed": self.embeds, "reused": self.embeds_reused,
                           "mean_ms": round(self.embed_ms / self.embeds, 4) if self.embeds else None},
            "followed_events": self.followed_events,
        }
