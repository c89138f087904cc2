"""Prompt-injection screening in layers, cheapest first.

1. Patterns (always on, ~tens of µs): English, Swedish and German attack phrasings, run on
   normalised text and on de-obfuscated variants (leetspeak, spaced-out letters, homoglyphs,
   zero-width characters, base64/hex blobs). See `_inj_patterns`.
2. Classifier (`use_classifier=True`): logistic regression on the e5 embedding, trained on our
   own examples (`injection_examples.yaml`, weights in `injection_weights.json`; regenerate with
   `alice guard train-injection`). Costs one embedding, or nothing extra when the caller passes
   the request's embedding (the NLU stage computes it anyway).
3. LLM judge: OFF by default and none ships. `InjectionJudge` is only the hook; when one is
   given, `acheck` asks it about texts whose classifier score falls in the grey band below
   the threshold.

`mode="flag"` only marks the verdict; `mode="block"` also sets `Verdict.blocked`, which the
gateway stage turns into a refusal. The screen never raises on odd input.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from alice.guard._inj_classifier import DEFAULT_WEIGHTS, InjectionClassifier
from alice.guard._inj_patterns import match_rules

__all__ = ["InjectionJudge", "Screen", "Verdict"]

Mode = Literal["flag", "block"]
Layer = Literal["pattern", "classifier", "judge"]


@dataclass(frozen=True, slots=True)
class Verdict:
    flagged: bool
    score: float  # 1.0 for a pattern hit, else the classifier's (or judge's) probability
    reasons: list[str] = field(default_factory=list)  # rule names, "classifier" or "judge"
    layer: Layer = "pattern"  # the last layer that ran
    blocked: bool = False  # flagged and the screen is in block mode


@runtime_checkable
class InjectionJudge(Protocol):
    """An optional micro-tier LLM asked about borderline texts: returns P(injection) in [0, 1]."""

    async def judge(self, text: str) -> float: ...


class Screen:
    """Checks one text. Cheap to build; the classifier and embedder load on first use."""

    def __init__(self, mode: Mode = "flag", use_classifier: bool = True, *, threshold: float | None = None,
                 weights: Path = DEFAULT_WEIGHTS, embedder: Any = None, judge: InjectionJudge | None = None,
                 judge_floor: float = 0.25) -> None:
        if mode not in ("flag", "block"):
            raise ValueError(f"mode must be 'flag' or 'block', not {mode!r}")
        self.mode: Mode = mode
        self.use_classifier = use_classifier
        self._threshold = threshold
        self._weights = weights
        self._embedder = embedder
        self._classifier: InjectionClassifier | None = None
        self._judge = judge
        self._judge_floor = judge_floor

    @property
    def classifier(self) -> InjectionClassifier:
        if self._classifier is None:
            self._classifier = InjectionClassifier(self._weights, embedder=self._embedder)
        return self._classifier

    @property
    def threshold(self) -> float:
        return self._threshold if self._threshold is not None else self.classifier.threshold

    def warm(self) -> None:
        """Load the weights and the embedder now (e.g. at start-up), not on the first request."""
        if self.use_classifier:
            self.classifier.embed(["warm up"])

    def _verdict(self, flagged: bool, score: float, reasons: list[str], layer: Layer) -> Verdict:
        return Verdict(flagged, round(score, 4), reasons, layer, flagged and self.mode == "block")

    def check_patterns(self, text: str) -> Verdict:
        reasons = match_rules(text)
        return self._verdict(bool(reasons), 1.0 if reasons else 0.0, reasons, "pattern")

    def _classify(self, score: float) -> Verdict:
        flagged = score >= self.threshold
        return self._verdict(flagged, score, ["classifier"] if flagged else [], "classifier")

    def check(self, text: str, *, embedding: Any = None) -> Verdict:
        """Patterns, then (if enabled and they did not fire) the classifier.

        `embedding`: the e5 embedding of exactly this text, if the caller has it already.
        Without it the classifier embeds the text here, which blocks for one embedding: from
        async code use `acheck`."""
        verdict = self.check_patterns(text)
        if verdict.flagged or not self.use_classifier or not text.strip():
            return verdict
        c = self.classifier
        score = c.score_embedding(embedding) if embedding is not None else c.score(text)
        return self._classify(score)

    async def acheck(self, text: str, *, embedding: Any = None) -> Verdict:
        """`check` for the event loop: the embedding runs in a worker thread, and a configured
        judge is consulted for grey-band scores."""
        verdict = self.check_patterns(text)
        if verdict.flagged or not self.use_classifier or not text.strip():
            return verdict
        c = self.classifier
        if embedding is not None:
            score = c.score_embedding(embedding)
        else:
            score = await asyncio.to_thread(c.score, text)
        verdict = self._classify(score)
        if self._judge is not None and not verdict.flagged and score >= self._judge_floor:
            p = float(await self._judge.judge(text))
            return self._verdict(p >= 0.5, p, ["judge"] if p >= 0.5 else [], "judge")
        return verdict
