"""PII detection and reversible redaction.

Detected without any model: Swedish personnummer and samordningsnummer (date + Luhn checked;
organisation numbers are never flagged), phone numbers (Swedish, E.164, common US and European
shapes), e-mail addresses, IBAN (mod-97), payment cards (Luhn) and IP addresses (v4/v6).

PERSON names need a model and none ships: PERSON is OFF unless a `NameDetector` is passed in.
Entity names follow Presidio's so that results compare with Presidio-labelled data.

    >>> r = redact("Ring mig på 070-123 45 67")
    >>> r.text, r.mapping
    ('Ring mig på <PHONE_NUMBER_1>', {'<PHONE_NUMBER_1>': '070-123 45 67'})
    >>> restore("Jag ringer <PHONE_NUMBER_1>", r.mapping)
    'Jag ringer 070-123 45 67'
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from alice.guard._pii_rules import FAMILIES, Candidate, find_all
from alice.guard._restore import StreamRestorer, restore

__all__ = [
    "ENTITIES",
    "PERSON",
    "NameDetector",
    "PiiDetector",
    "Redaction",
    "Redactor",
    "Span",
    "StreamRestorer",
    "detect",
    "redact",
    "restore",
]

PERSON = "PERSON"
ENTITIES: tuple[str, ...] = (*FAMILIES, PERSON)
_PERSON_PRIORITY = 9  # names lose every overlap with a pattern entity


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    entity: str
    text: str


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original (empty if not reversible)


@runtime_checkable
class NameDetector(Protocol):
    """A pluggable PERSON finder (e.g. an NER model). Returns (start, end) character offsets."""

    def find_names(self, text: str) -> Iterable[tuple[int, int]]: ...


class PiiDetector:
    """Finds non-overlapping PII spans; where candidates overlap, the stronger family wins."""

    def __init__(self, *, entities: Iterable[str] | None = None, name_detector: NameDetector | None = None) -> None:
        wanted = set(entities) if entities is not None else set(FAMILIES) | ({PERSON} if name_detector else set())
        unknown = wanted - set(ENTITIES)
        if unknown:
            raise ValueError(f"unknown PII entities {sorted(unknown)}; known: {list(ENTITIES)}")
        if PERSON in wanted and name_detector is None:
            raise ValueError("PERSON needs a NameDetector (no name model ships with Alice)")
        self.entities = frozenset(wanted)
        self._names = name_detector if PERSON in wanted else None

    def detect(self, text: str) -> list[Span]:
        cands = find_all(text)
        if self._names is not None:
            cands.extend(Candidate(s, e, PERSON, _PERSON_PRIORITY) for s, e in self._names.find_names(text))
        if not cands:
            return []
        # Strongest first; `taken` stays sorted by start, so one bisect finds the neighbours.
        taken: list[Candidate] = []
        for c in sorted(cands, key=lambda c: (c.priority, c.start - c.end, c.start)):
            i = bisect.bisect_left(taken, c.start, key=lambda t: t.start)
            if (i == 0 or taken[i - 1].end <= c.start) and (i == len(taken) or c.end <= taken[i].start):
                taken.insert(i, c)
        # Blockers (entity None) and families not asked for are dropped only now, after they
        # have claimed their characters.
        return [Span(c.start, c.end, c.entity, text[c.start:c.end])
                for c in taken if c.entity is not None and c.entity in self.entities]


class Redactor:
    """Redacts one request's texts; the same value gets the same placeholder across all of them."""

    def __init__(self, detector: PiiDetector | None = None, *, reversible: bool = True) -> None:
        self._detector = detector or _DEFAULT
        self._reversible = reversible
        self._by_value: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self.mapping: dict[str, str] = {}

    def _placeholder(self, span: Span) -> str:
        key = (span.entity, span.text)
        ph = self._by_value.get(key)
        if ph is None:
            n = self._counts.get(span.entity, 0) + 1
            self._counts[span.entity] = n
            ph = self._by_value[key] = f"<{span.entity}_{n}>"
            if self._reversible:
                self.mapping[ph] = span.text
        return ph

    @property
    def counts(self) -> dict[str, int]:
        """How many distinct values were redacted so far, per entity."""
        return dict(self._counts)

    def redact(self, text: str) -> str:
        spans = self._detector.detect(text)
        if not spans:
            return text
        parts, pos = [], 0
        for s in spans:
            parts += [text[pos:s.start], self._placeholder(s)]
            pos = s.end
        parts.append(text[pos:])
        return "".join(parts)


# Stateless and cheap to build (compiled regexes only), so one shared default is safe.
_DEFAULT = PiiDetector()


def detect(text: str) -> list[Span]:
    """PII spans in `text` with the default detector (every pattern entity; PERSON off)."""
    return _DEFAULT.detect(text)


def redact(text: str, *, reversible: bool = True) -> Redaction:
    """Replace PII by placeholders like `<PHONE_NUMBER_1>`; the mapping restores them."""
    r = Redactor(reversible=reversible)
    return Redaction(r.redact(text), r.mapping)
