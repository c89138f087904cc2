"""Numbers written in words, Swedish and English ("tjugotre", "etthundrafemtio", "twenty-three").

`words_to_digits` rewrites a text with each run of number words replaced by its digits, so the
time, duration and calculator parsers only deal with digits. The articles "en"/"ett"/"a"/"an"
are left alone unless they are part of a larger number ("etthundra", "en miljon"), because
"en halvtimme" and "ett möte" must keep their meaning.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

__all__ = ["parse_number", "parse_number_word", "words_to_digits"]

_SV_UNITS = {
    "noll": 0, "en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8,
    "nio": 9, "tio": 10, "elva": 11, "tolv": 12, "tretton": 13, "fjorton": 14, "femton": 15, "sexton": 16,
    "sjutton": 17, "arton": 18, "aderton": 18, "nitton": 19,
}
_SV_TENS = {
    "tjugo": 20, "tjugu": 20, "tjugi": 20, "trettio": 30, "tretti": 30, "fyrtio": 40, "förtio": 40, "förti": 40,
    "femtio": 50, "femti": 50, "sextio": 60, "sexti": 60, "sjuttio": 70, "sjutti": 70, "åttio": 80, "åtti": 80,
    "nittio": 90, "nitti": 90,
}
_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_SCALES = {"hundra": 100, "hundred": 100, "tusen": 1000, "thousand": 1000, "miljon": 1_000_000,
           "miljoner": 1_000_000, "million": 1_000_000}
_PIECES = {**_SV_UNITS, **_SV_TENS, **_EN_UNITS, **_EN_TENS, **_SCALES}
# Longest first, so "fjorton" is tried before "fyra" would wrongly match a prefix.
_PIECE_RE = re.compile("|".join(sorted(map(re.escape, _PIECES), key=len, reverse=True)))
_ARTICLES = {"en", "ett", "a", "an"}
_WORD = re.compile(r"[a-zåäöé]+(?:-[a-zåäöé]+)*", re.I)


def _split(word: str) -> list[str] | None:
    """Split a compound number word into known pieces, or None if it is not one."""
    pieces: list[str] = []
    pos = 0
    while pos < len(word):
        if word[pos] == "-":
            pos += 1
            continue
        m = _PIECE_RE.match(word, pos)
        if m is None:
            return None
        pieces.append(m.group())
        pos = m.end()
    return pieces or None


@lru_cache(maxsize=4096)
def parse_number_word(word: str) -> int | None:
    """The value of one (possibly compound) number word: "tjugotre" -> 23, "femton" -> 15."""
    w = word.lower()
    pieces = _split(w)
    if pieces is None:
        return None
    # Reject words that only look numeric by accident ("entre" = en+tre): a scale may follow
    # anything and anything smaller may follow a scale, but units only follow tens.
    values = [_PIECES[p] for p in pieces]
    for a, b in pairwise(values):
        if not _joinable(a, b):
            return None
    return _combine(values)


def parse_number(token: str) -> float | None:
    """A digit string ("3,5", "1 000" is not handled here) or a number word."""
    t = token.strip().replace(",", ".")
    try:
        return float(t)
    except ValueError:
        v = parse_number_word(t)
        return None if v is None else float(v)


def _joinable(prev: int, nxt: int) -> bool:
    """May two adjacent number pieces form one number ("tjugo tre", "två hundra", "hundra fem")?"""
    if nxt >= 100:
        return prev < nxt
    if prev >= 100:
        return nxt < prev
    return 20 <= prev < 100 and prev % 10 == 0 and 0 < nxt < 10


def words_to_digits(text: str) -> str:
    """Replace runs of number words with digits, keeping everything else (case and spacing) as is."""
    out: list[str] = []
    pos = 0
    matches = list(_WORD.finditer(text))
    i = 0
    while i < len(matches):
        m = matches[i]
        value = parse_number_word(m.group())
        if value is None:
            i += 1
            continue
        start, end, j = m.start(), m.end(), i
        parts = [value]
        # extend over following number words separated only by spaces ("tjugo tre", "två hundra")
        while j + 1 < len(matches):
            gap = text[matches[j].end() : matches[j + 1].start()]
            nv = parse_number_word(matches[j + 1].group())
            if nv is None or gap.strip() or not _joinable(parts[-1], nv):
                break
            j += 1
            parts.append(nv)
            end = matches[j].end()
        if len(parts) == 1 and m.group().lower() in _ARTICLES:
            i += 1
            continue
        out.append(text[pos:start])
        out.append(str(_combine(parts)))
        pos = end
        i = j + 1
    out.append(text[pos:])
    return "".join(out)


def _combine(parts: list[int]) -> int:
    total, current = 0, 0
    for v in parts:
        if v == 100:
            current = max(current, 1) * 100
        elif v >= 1000:
            total += max(current, 1) * v
            current = 0
        else:
            current += v
    return total + current
