"""Span-level precision/recall of the PII detector on labelled data.

Accepted files (the format is recognised from the content):
- Presidio's synthetic format: `[{"full_text", "spans": [{"entity_type", "start_position", "end_position"}]}]`;
- personnummer lists: `["199001011234", …]` (all positives), rows `{"type": "ssn"|"con"|"org", "valid",
  "long_format", "short_format", "separated_format", "separated_long"}` (invalid and org rows are
  negatives: flagging them is a false positive), or `{"ssn"|"con": {"string": {"valid": […], "invalid": […]}}}`.

A prediction matches a gold span of the same entity when they overlap (one-to-one); "strict"
counts only exact boundaries. Gold labels we have no counterpart for (addresses, dates, US SSN…)
are ignored, but predictions on them still count as false positives.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from alice.guard.pii import ENTITIES, PERSON, PiiDetector, Span

__all__ = ["LABEL_MAP", "Example", "PiiReport", "evaluate", "load_examples"]

LABEL_MAP = {
    "PERSON": PERSON, "PER": PERSON, "NAME": PERSON,
    "PHONE_NUMBER": "PHONE_NUMBER", "PHONE": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS", "EMAIL": "EMAIL_ADDRESS",
    "IBAN_CODE": "IBAN_CODE", "IBAN": "IBAN_CODE",
    "CREDIT_CARD": "CREDIT_CARD", "CREDIT_CARD_NUMBER": "CREDIT_CARD",
    "IP_ADDRESS": "IP_ADDRESS", "IP": "IP_ADDRESS",
    "SE_PERSONNUMMER": "SE_PERSONNUMMER", "PERSONNUMMER": "SE_PERSONNUMMER", "SE_PERSONAL_NUMBER": "SE_PERSONNUMMER",
}
_PNR_TEMPLATE = "Mitt personnummer är {}."
_PNR_FORMATS = ("long_format", "short_format", "separated_format", "separated_long")


@dataclass(slots=True)
class Example:
    text: str
    gold: list[tuple[int, int, str]]  # mapped entities only
    ignored: Counter[str] = field(default_factory=Counter)  # gold labels without a counterpart


def _pnr_example(value: str, positive: bool) -> Example:
    start = _PNR_TEMPLATE.index("{}")
    gold = [(start, start + len(value), "SE_PERSONNUMMER")] if positive else []
    return Example(_PNR_TEMPLATE.format(value), gold)


def load_examples(path: Path) -> list[Example]:
    data: Any = orjson.loads(path.read_bytes())
    if isinstance(data, dict):  # personnummer/meta "structured": {kind: {"string": {"valid", "invalid"}}}
        out = []
        for kind, forms in data.items():
            for validity, values in forms.get("string", {}).items():
                out += [_pnr_example(v, validity == "valid" and kind in ("ssn", "con")) for v in values]
        return out
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a non-empty JSON list or a personnummer structured object")
    if isinstance(data[0], str):
        return [_pnr_example(v, True) for v in data]
    if "full_text" in data[0]:
        out = []
        for row in data:
            ex = Example(row["full_text"], [])
            for s in row.get("spans", []):
                ours = LABEL_MAP.get(s["entity_type"])
                if ours is None:
                    ex.ignored[s["entity_type"]] += 1
                else:
                    ex.gold.append((s["start_position"], s["end_position"], ours))
            out.append(ex)
        return out
    if "type" in data[0]:
        return [_pnr_example(row[f], bool(row.get("valid")) and row["type"] in ("ssn", "con"))
                for row in data for f in _PNR_FORMATS if f in row]
    raise ValueError(f"{path}: unrecognised PII data format")


@dataclass(slots=True)
class _Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    strict_tp: int = 0


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _match(gold: list[tuple[int, int, str]], pred: list[Span]) -> tuple[list[tuple[int, Span | None]], list[Span]]:
    """Pair each gold span (by index) with an overlapping prediction of the same entity, greedily."""
    used: set[int] = set()
    pairs: list[tuple[int, Span | None]] = []
    for gi, (gs, ge, gent) in enumerate(gold):
        best, best_overlap = None, 0
        for pi, p in enumerate(pred):
            overlap = min(ge, p.end) - max(gs, p.start)
            if pi not in used and p.entity == gent and overlap > best_overlap:
                best, best_overlap = pi, overlap
        if best is not None:
            used.add(best)
        pairs.append((gi, pred[best] if best is not None else None))
    return pairs, [p for pi, p in enumerate(pred) if pi not in used]


@dataclass(slots=True)
class PiiReport:
    n: int
    counts: dict[str, _Counts]
    ignored: Counter[str]
    latencies_us: list[float]
    cpu_us: list[float]  # thread CPU time: unlike wall time, not inflated by a busy machine
    person_detector: bool
    errors: list[dict[str, str]]
    negatives: int  # texts without any gold span of ours
    negatives_flagged: int  # … of which the detector flagged something

    def _overall(self, entities: list[str]) -> dict[str, Any]:
        tp = sum(self.counts[e].tp for e in entities)
        fp = sum(self.counts[e].fp for e in entities)
        fn = sum(self.counts[e].fn for e in entities)
        stp = sum(self.counts[e].strict_tp for e in entities)
        return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                "strict_precision": _ratio(stp, tp + fp), "strict_recall": _ratio(stp, tp + fn),
                "entities": entities}

    def as_dict(self) -> dict[str, Any]:
        seen = [e for e in ENTITIES if e in self.counts]
        detectable = [e for e in seen if e != PERSON or self.person_detector]
        overall = self._overall(seen)
        lat = sorted(self.latencies_us)
        return {
            "n": self.n,
            "precision": overall["precision"],
            "recall": overall["recall"],
            "overall": overall,
            "overall_excluding_undetected": {
                **self._overall(detectable),
                "note": "only entities this detector can produce"
                        + ("" if self.person_detector else "; PERSON excluded: no name detector is configured"),
            },
            "person_detector": "configured" if self.person_detector else "none (PERSON recall is 0 by design)",
            "per_entity": {
                e: {"precision": _ratio(c.tp, c.tp + c.fp), "recall": _ratio(c.tp, c.tp + c.fn),
                    "support": c.tp + c.fn, "tp": c.tp, "fp": c.fp, "fn": c.fn}
                for e, c in ((e, self.counts[e]) for e in seen)
            },
            "texts_without_pii": {"n": self.negatives, "flagged": self.negatives_flagged},
            "ignored_gold_labels": dict(self.ignored.most_common()),
            "matching": "overlap, same entity, one-to-one (strict_*: exact boundaries)",
            "latency_us": {"p50": round(statistics.median(lat), 1) if lat else None,
                           "p95": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
                           "mean": round(statistics.fmean(lat), 1) if lat else None,
                           "cpu_p50": round(statistics.median(self.cpu_us), 1) if self.cpu_us else None},
        }


def evaluate(examples: list[Example], detector: PiiDetector | None = None, *, max_errors: int = 0) -> PiiReport:
    detector = detector or PiiDetector()
    counts: dict[str, _Counts] = {}
    ignored: Counter[str] = Counter()
    latencies: list[float] = []
    cpu: list[float] = []
    errors: list[dict[str, str]] = []
    negatives = negatives_flagged = 0
    for ex in examples:
        c0, t0 = time.thread_time_ns(), time.perf_counter()
        pred = detector.detect(ex.text)
        latencies.append((time.perf_counter() - t0) * 1e6)
        cpu.append((time.thread_time_ns() - c0) / 1e3)
        ignored.update(ex.ignored)
        if not ex.gold:
            negatives += 1
            negatives_flagged += bool(pred)
        pairs, unmatched = _match(ex.gold, pred)
        for gi, p in pairs:
            gs, ge, gent = ex.gold[gi]
            c = counts.setdefault(gent, _Counts())
            if p is None:
                c.fn += 1
                if len(errors) < max_errors:
                    errors.append({"kind": "missed", "entity": gent, "value": ex.text[gs:ge], "text": ex.text})
            else:
                c.tp += 1
                c.strict_tp += (p.start, p.end) == (gs, ge)
        for p in unmatched:
            counts.setdefault(p.entity, _Counts()).fp += 1
            if len(errors) < max_errors:
                errors.append({"kind": "false_positive", "entity": p.entity, "value": p.text, "text": ex.text})
    return PiiReport(len(examples), counts, ignored, latencies, cpu, PERSON in detector.entities, errors, negatives,
                     negatives_flagged)
