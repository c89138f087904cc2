"""The correctness gate: a semantic candidate is served only if the facts of both questions agree.

Embeddings place "vädret i Göteborg" right next to "vädret i Malmö" and "X är större än Y" next
to "Y är större än X"; peers' semantic caches serve those as hits. The gate compares what an
embedding blurs:

    numbers      digits and number words, canonicalised ("två" == "2", "3" != "3,5")
    time         days, months, relative days, "nästa"/"förra" …
    negation     how many negations each text has
    names        capitalised names and known places: each one's names must appear in the other
    opposites    exclusive word groups (större/mindre, jag/du, man/kvinna, köpa/sälja, …)
    word order   near-permutations must keep their order ("X slog Y" vs "Y slog X"); rewordings
                 fail on two shared words trading places across a third ("från A till B")
    substitution the same sentence with one word exchanged ("hund" → "katt" på engelska)
    near-identity long texts sharing ≥ 85 % of their content words may not differ in any other
                 content word (added, dropped or exchanged): the embedding cannot see that change
    intent/slots from the NLU when both sides have them

`Facts` are extracted once per text (at write time for cached entries); `check` is pure and
cheap (tens of microseconds).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from alice.cache.lexicon import (
    EXCLUSIVE_GROUPS,
    FUNCTION_WORDS,
    NEGATIONS,
    NUMBER_WORDS,
    PLACES,
    TIME_WORDS,
)
from alice.cache.text import tokens

__all__ = ["Facts", "check", "extract", "overlap"]

_NUM = re.compile(r"^\d+(?:[.,:]\d+)*$")
_RAW_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;\n]")
# Articles and conjunctions move freely in paraphrases; they take no part in the word-order check.
_ORDER_SKIP = frozenset("the a an and or och eller en ett den det de is are was were är som that s".split())
# "No, it doesn't …": a leading "no"/"nej" answers, it does not negate a second time.
_NEAR_PERMUTATION = 0.75
# Texts sharing this share of their content words are "the same text": whatever else differs is
# a change of meaning the embedding blurs (a one-word change in a 20-word text moves a
# bag-of-words cosine by ~0.02). Needs at least _NEAR_IDENTICAL_MIN shared words to apply.
_NEAR_IDENTICAL = 0.85
_NEAR_IDENTICAL_MIN = 3
# Words a paraphrase changes freely; a changed word outside these may be a changed slot.
_FREE = _ORDER_SKIP | frozenset(
    "vad vilken vilket vilka hur vem när var varför vart what which how who when where why "
    "man du jag ni kan ska skulle får the a an of to in on at for is are do does".split())
_INTERJECTION = re.compile(r"^\s*(?:no|nej|nope|nä)\s*[,!.]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Facts:
    numbers: frozenset[str]
    time: frozenset[str]
    negations: int
    names: frozenset[str]
    groups: tuple[tuple[str, frozenset[str]], ...]
    words: tuple[str, ...]  # all tokens, in order
    intent: str | None = None
    slots: tuple[tuple[str, str], ...] = ()


def _canonical_number(tok: str) -> str:
    t = tok.replace(",", ".")
    if ":" in t:
        return t
    try:
        v = float(t)
    except ValueError:
        return t
    return str(int(v)) if v.is_integer() else repr(v)


def _names(text: str) -> set[str]:
    """Capitalised words (not a sentence's ordinary first word) and known places."""
    out: set[str] = set()
    start = True
    pos = 0
    for m in _RAW_WORD.finditer(text):
        if _SENTENCE_END.search(text, pos, m.start()):
            start = True
        pos = m.end()
        w = m.group()
        low = w.casefold()
        if low in PLACES:
            out.add(low)
        elif w[0].isupper() and not w.isdigit() and not (start and low in FUNCTION_WORDS):
            out.add(low)
        start = False
    return out


def extract(text: str, intent: str | None = None, slots: dict[str, Any] | None = None) -> Facts:
    text = unicodedata.normalize("NFKC", text)
    words = tokens(text)
    numbers = {_canonical_number(w) for w in words if _NUM.match(w)}
    numbers.update(NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS)
    groups = []
    for name, table in EXCLUSIVE_GROUPS:
        found = frozenset(table[w] for w in words if w in table)
        if found:
            groups.append((name, found))
    return Facts(
        numbers=frozenset(numbers),
        time=frozenset(w for w in words if w in TIME_WORDS),
        negations=sum(1 for w in words if w in NEGATIONS) - (1 if _INTERJECTION.match(text) else 0),
        names=frozenset(_names(text)),
        groups=tuple(groups),
        words=tuple(words),
        intent=intent,
        slots=tuple(sorted((str(k), str(v)) for k, v in (slots or {}).items())),
    )


def _mentions(name: str, words: frozenset[str]) -> bool:
    """A name counts as mentioned if a word equals it or differs only by an inflection
    ("Göteborgs", "Mannen"/"man"): one is a prefix of the other, within four letters."""
    if name in words:
        return True
    for w in words:
        short, long_ = (w, name) if len(w) <= len(name) else (name, w)
        if len(short) >= 3 and len(long_) - len(short) <= 4 and long_.startswith(short):
            return True
    return False


def _occurrences(words: tuple[str, ...]) -> list[tuple[str, int]]:
    """Each word tagged with its occurrence number, so the second "with" pairs with the second."""
    seen: dict[str, int] = {}
    out = []
    for w in words:
        if w in _ORDER_SKIP:
            continue
        seen[w] = seen.get(w, 0) + 1
        out.append((w, seen[w]))
    return out


def _order_changed(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Word-order test on the words both texts share (articles and conjunctions left out).

    Near-permutations (≥ 80 % of the words shared, the PAWS case: "X köpte Y" / "Y köpte X") must
    keep every shared word in the same order. Real rewordings fail only on a 3-2-1 pattern: two
    shared words that traded places across a third ("från A till B" / "från B till A"); a clause
    moved whole (a rotation) passes.
    """
    occ_a, occ_b = _occurrences(a), _occurrences(b)
    pos_b = {t: i for i, t in enumerate(occ_b)}
    perm = [pos_b[t] for t in occ_a if t in pos_b]
    n = len(perm)
    if n < 2:
        return False
    if n >= _NEAR_PERMUTATION * max(len(occ_a), len(occ_b)):
        return any(x > y for x, y in pairwise(perm)) or sorted(perm) != perm
    suffix_min = [0] * n
    low = 1 << 30
    for i in range(n - 1, -1, -1):
        suffix_min[i] = low
        low = min(low, perm[i])
    high = -1
    for i in range(n):
        if high > perm[i] > suffix_min[i]:
            return True
        high = max(high, perm[i])
    return False


def _content(words: tuple[str, ...]) -> Counter[str]:
    """Content words with their counts (a repeated word replacing another is still a change)."""
    return Counter(NUMBER_WORDS.get(w, w) for w in words if w not in _FREE)


def _substituted(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True if the texts are the same sentence with one word exchanged for another that is not
    an inflection of it ("vad heter hund på engelska" / "… katt …"): the slot changed, whatever
    the embedding says. Question words may change freely."""
    ca, cb = _content(a), _content(b)
    only_a, only_b = ca - cb, cb - ca
    if only_a.total() != 1 or only_b.total() != 1:
        return False
    if (ca & cb).total() < 2:
        return False  # a real rewording, not the same sentence with a slot changed
    return not all(any(_inflected(x, y) for y in only_b) for x in only_a)


def _near_identical_changed(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True if the texts share nearly all content words yet differ in one that is not an
    inflection of a word on the other side ("likes knitting and dislikes sports" / "likes
    knitting and sports", "designed by A and built by B" / "designed by A and designed by B")."""
    ca, cb = _content(a), _content(b)
    shared = (ca & cb).total()
    if shared < _NEAR_IDENTICAL_MIN:
        return False
    only_a, only_b = list((ca - cb).elements()), list((cb - ca).elements())
    for x in list(only_a):  # an inflected pair ("chairman" / "chair") is the same word
        y = next((y for y in only_b if _inflected(x, y)), None)
        if y is not None:
            only_a.remove(x)
            only_b.remove(y)
    changed = max(len(only_a), len(only_b))
    return changed > 0 and shared >= _NEAR_IDENTICAL * (shared + changed)


def _inflected(x: str, y: str) -> bool:
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    return len(short) >= 3 and len(long_) - len(short) <= 4 and long_.startswith(short)


def overlap(q: Facts, c: Facts) -> float:
    """Share of content words (question words and articles aside) one text has in the other,
    inflections matching; the smaller share of the two directions."""
    wa = {w for w in q.words if w not in _FREE}
    wb = {w for w in c.words if w not in _FREE}
    if not wa or not wb:
        return 0.0
    hits = sum(1 for x in wa if x in wb or any(_inflected(x, y) for y in wb))
    return hits / max(len(wa), len(wb))


def check(q: Facts, c: Facts) -> str | None:
    """None if candidate `c` may answer question `q`; otherwise the first reason it may not."""
    if q.intent and c.intent and q.intent != c.intent:
        return "intent"
    if (q.slots or c.slots) and q.slots != c.slots:
        return "slots"
    if q.numbers != c.numbers:
        return "numbers"
    if q.time != c.time:
        return "time"
    if q.negations != c.negations:
        return "negation"
    if q.names or c.names:
        qw, cw = frozenset(q.words), frozenset(c.words)
        if not all(_mentions(n, cw) for n in q.names) or not all(_mentions(n, qw) for n in c.names):
            return "names"
    if q.groups and c.groups:
        cg = dict(c.groups)
        for name, found in q.groups:
            other = cg.get(name)
            if other is not None and other != found:
                return "opposites"
    if _order_changed(q.words, c.words):
        return "word order"
    if _substituted(q.words, c.words):
        return "substitution"
    if _near_identical_changed(q.words, c.words):
        return "near-identical"
    return None
