"""Similarity bands (the original design's "spiral" tiers), each mapped to an action.

The bands are geometric in cosine *distance* (1 − similarity): the `exact` band reaches
`base` distance, and each following band reaches `ratio` times further. With the fibonacci
profile the ratio is the golden ratio (profile.thresholds.high = 1.618), so the bands are the
original "golden" tiers; with the standard profile it is 1.5. `base` depends on the embedder
(calibrated with `alice eval cache`), or every floor can be set explicitly.

    band              reaches distance     default action
    exact             base                 serve   (still gated)
    golden_close      base·r               serve   (gated)
    golden_medium     base·r²              verify  (gated + second-stage embedder)
    fibonacci_match   base·r³              verify
    spiral_neighbor   base·r⁴ (a verifier: DEFAULT_VERIFY_FLOOR)  verify
    distant           beyond               miss
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

__all__ = [
    "ACTIONS", "BAND_NAMES", "DEFAULT_ACTIONS", "DEFAULT_BASE_DISTANCE", "DEFAULT_VERIFY_FLOOR", "Action", "Bands",
]

BAND_NAMES = ("exact", "golden_close", "golden_medium", "fibonacci_match", "spiral_neighbor", "distant")
Action = Literal["serve", "verify", "miss"]
ACTIONS: tuple[str, ...] = ("serve", "verify", "miss")
DEFAULT_ACTIONS: dict[str, Action] = {
    "exact": "serve", "golden_close": "serve", "golden_medium": "verify",
    "fibonacci_match": "verify", "spiral_neighbor": "verify", "distant": "miss",
}
# Calibrated with `alice eval cache` on SweParaphrase dev/train, PAWS and GPTCache pairs (see
# docs/benchmarks.md, "## Cache"). static: golden_close from 0.929, geometric spiral_neighbor
# from 0.70 (the verifier decides below 0.929); e5 as the first stage: golden_close from 0.95.
DEFAULT_BASE_DISTANCE: dict[str, float] = {"static": 0.0438, "e5": 0.0309}
# With a verifier, the first stage only proposes candidates and the verifier decides, so the
# `spiral_neighbor` band reaches further down than the geometry: 64-d static cosines of real
# paraphrases fall to ~0.5. SweParaphrase train: recall 0.452 → 0.501, false hits 0.61 % → 0.92 %
# at 0.45 (docs/benchmarks.md).
DEFAULT_VERIFY_FLOOR: dict[str, float] = {"static": 0.45}


@dataclass(frozen=True, slots=True)
class Bands:
    floors: tuple[float, ...]  # similarity floor of each band but `distant`, descending
    actions: tuple[Action, ...]  # one per band in BAND_NAMES

    @classmethod
    def build(
        cls, base: float, ratio: float, overrides: dict[str, float] | None = None,
        actions: dict[str, str] | None = None, verify_reach: float | None = None,
    ) -> Bands:
        """`verify_reach`: with a verifier, the lowest band reaches down to this similarity
        unless its floor is configured (see DEFAULT_VERIFY_FLOOR)."""
        overrides = overrides or {}
        floors = [1.0 - base * ratio**i for i in range(len(BAND_NAMES) - 1)]
        for name, floor in overrides.items():
            floors[BAND_NAMES.index(name)] = floor
        if verify_reach is not None and "spiral_neighbor" not in overrides:
            lowest = BAND_NAMES.index("spiral_neighbor")
            floors[lowest] = min(floors[lowest], verify_reach)
        if any(a < b for a, b in pairwise(floors)):
            raise ValueError(f"band floors must descend: {dict(zip(BAND_NAMES, floors, strict=False))}")
        acts = {**DEFAULT_ACTIONS, **(actions or {})}
        return cls(tuple(floors), tuple(acts[n] for n in BAND_NAMES))  # type: ignore[misc]

    def band(self, similarity: float) -> int:
        for i, floor in enumerate(self.floors):
            if similarity >= floor:
                return i
        return len(self.floors)

    def action(self, similarity: float) -> Action:
        return self.actions[self.band(similarity)]

    def lowest_useful(self) -> float:
        """Candidates below this floor can only be misses; the index search stops there."""
        useful = [f for f, a in zip(self.floors, self.actions, strict=False) if a != "miss"]
        return min(useful) if useful else 2.0

    def describe(self) -> list[dict[str, object]]:
        return [{"band": n, "floor": (round(self.floors[i], 4) if i < len(self.floors) else None),
                 "action": self.actions[i]} for i, n in enumerate(BAND_NAMES)]
