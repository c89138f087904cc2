"""Cheap text normalisation that undoes common obfuscation before the injection patterns run.

`variants(text)` returns the forms worth matching: always the case-folded text with invisible
characters removed and whitespace collapsed; and, only where the text shows the obfuscation,
leetspeak-decoded and de-spaced ("i g n o r e" -> "ignore") windows around it, and the decoded
contents of base64 or hex blobs; and a copy with misspelt override verbs corrected ("igmre what
I said before" -> "ignore what I said before"), since typos slip past exact patterns as easily as
leetspeak does. Ordinary ASCII text costs a lower() and four regex scans.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

__all__ = ["squash", "variants"]

# Zero-width and bidi-control characters used to split trigger words invisibly.
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u202a-\u202e]")
# Cyrillic and Greek letters that look like Latin ones (NFKC leaves them alone).
_GREEK_CYRILLIC_RE = re.compile("[\u0370-\u052f]")
_HOMOGLYPHS = str.maketrans("аеорсхуіјԁѕкмнтвαεοιρτυνκχ", "aeopcxyijdskmhtbaeoiptuvkx")
_LEET = str.maketrans("013457@$!|€8", "oieastasileb")
_SPACE_RE = re.compile(r"\s+")
_LEET_HINT_RE = re.compile(r"[a-zåäö][0-9@$!|€]|[0-9@$|€][a-zåäö]")
# Three or more single characters joined by one repeated separator ("i g n o r e", "a.l.l").
_SPACED_RE = re.compile(r"(?<!\w)\w([ .\-_*|/])(?:\w\1)+\w(?!\w)")
_B64_RE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9_-]{24,}")
_HEX_RE = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
_SPACED_SEP_RE = re.compile(r"[ .\-_*|/]")
_NON_LETTER_RE = re.compile(r"[^a-zåäöüß]+")
# Verbs that open an override ("ignore …", "vergiss …"). A word within a small edit distance of one,
# sharing its first two letters, is read as a typo of it; the patterns still need the structure around.
_OVERRIDE_VERBS = ("ignore", "disregard", "forget", "ignorera", "ignoriere", "vergiss")
# Real words near a verb that are not typos of it ("I forgot what I said before" is no attack).
_NOT_TYPOS = frozenset({"forgot", "forgotten", "forgo", "forge", "forged", "ignite", "ignites", "ignited", "vergass",
                        "vergas"})
_TYPO_RE = re.compile(r"\b(?:ig|di|fo|ve)[a-zåäöüß]{3,8}\b")


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, cut short once every path is over `limit`."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _corrected(word: str) -> str | None:
    if word in _NOT_TYPOS or any(word.startswith(v) for v in _OVERRIDE_VERBS):
        return None  # a verb itself or an inflection of one: the patterns see those as they are
    for verb in _OVERRIDE_VERBS:
        if word[:2] != verb[:2] or abs(len(word) - len(verb)) > 2:
            continue
        if _distance(word, verb, 2) <= 2:
            return verb
    return None


def _decoded_blobs(text: str) -> list[str]:
    out = []
    tokens = [t for t in text.split() if len(t) >= 16]
    for m in (m for t in tokens for m in _B64_RE.finditer(t)):
        blob = m.group()
        try:
            altchars = b"-_" if "-" in blob or "_" in blob else None  # the URL-safe alphabet
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), altchars=altchars)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        # Random words that happen to be valid base64 decode to binary noise; keep only text.
        if decoded and sum(c.isprintable() or c.isspace() for c in decoded) >= 0.9 * len(decoded):
            out.append(decoded)
    for m in (m for t in tokens for m in _HEX_RE.finditer(t)):
        try:
            decoded = bytes.fromhex(m.group()).decode("utf-8")
        except ValueError:
            continue
        if sum(c.isprintable() or c.isspace() for c in decoded) >= 0.9 * len(decoded):
            out.append(decoded)
    return out


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()  # ASCII is already NFKC and has no invisible characters or homoglyphs
    t = _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    # str.translate walks every character in Python-level lookups: only when there is something to map.
    return t.translate(_HOMOGLYPHS) if _GREEK_CYRILLIC_RE.search(t) else t


def squash(text: str) -> str:
    """Letters only: "I-g.n o r e  all" -> "ignoreall" (for the few phrases matched squashed)."""
    return _NON_LETTER_RE.sub("", text)


def _around(text: str, spans: list[tuple[int, int]], before: int = 80, after: int = 160) -> list[tuple[int, int]]:
    """Merged windows around spans: long texts re-scan only the neighbourhood of an obfuscation."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        s, e = max(0, s - before), min(len(text), e + after)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def variants(text: str, *, decode: bool = True) -> list[str]:
    folded = _fold(text)
    base = _SPACE_RE.sub(" ", folded).strip()
    out = [base]
    mixed = [m.span() for m in _LEET_HINT_RE.finditer(base)]
    if mixed:
        out += [base[s:e].translate(_LEET) for s, e in _around(base, mixed)]
    # De-spacing runs on the uncollapsed text: a wider gap between letter runs marks a word break.
    spaced = [m.span() for m in _SPACED_RE.finditer(folded)]
    if spaced:
        for s, e in _around(folded, spaced):
            despaced = _SPACED_RE.sub(lambda m: _SPACED_SEP_RE.sub("", m.group()), folded[s:e])
            out.append(_SPACE_RE.sub(" ", despaced).strip())
    typos = [(m.span(), v) for m in _TYPO_RE.finditer(base) if (v := _corrected(m.group())) is not None]
    if typos:
        fixed, pos = [], 0
        for (s, e), verb in typos:
            fixed += [base[pos:s], verb]
            pos = e
        out.append("".join(fixed) + base[pos:])
    # Only a whitespace-free run of 16+ characters can be an encoded blob: split() is cheaper than a scan.
    if decode and len(text) >= 16 and max(map(len, text.split()), default=0) >= 16:
        out += [_SPACE_RE.sub(" ", _fold(d)).strip() for d in _decoded_blobs(text)]
    return out
