"""One compiled regex per PII family, and the validator that turns its candidates into spans.

Each finder yields `Candidate`s: a span with an entity name and a priority (lower wins an
overlap). A candidate whose entity is None is a *blocker*: it claims its characters so that a
weaker family cannot report them, and is itself never reported. Blockers are how organisation
numbers and identity numbers with a wrong check digit stay unflagged instead of resurfacing as
"phone numbers".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from alice.guard._checksums import SwedishId, classify_swedish_id, iban_ok, ip_ok, luhn_ok

__all__ = ["FAMILIES", "Candidate", "find_all"]

EMAIL, SE_ID, IBAN, CARD, IP, PHONE = "EMAIL_ADDRESS", "SE_PERSONNUMMER", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS", \
    "PHONE_NUMBER"
FAMILIES = (EMAIL, SE_ID, IBAN, CARD, IP, PHONE)
# Overlap priority: an e-mail whose local part is a personnummer is redacted whole as an e-mail;
# a personnummer is never also a phone or a card.
_PRIORITY = {EMAIL: 0, SE_ID: 1, IBAN: 2, CARD: 3, IP: 4, PHONE: 5}


class Candidate(NamedTuple):
    start: int
    end: int
    entity: str | None  # None: a blocker (claims the characters, never reported)
    priority: int


# --- e-mail -------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[A-Za-z]{2,24}(?![\w-])")


def _emails(text: str) -> Iterator[Candidate]:
    for m in _EMAIL_RE.finditer(text):
        yield Candidate(m.start(), m.end(), EMAIL, _PRIORITY[EMAIL])


# --- Swedish personnummer / samordningsnummer ---------------------------------------------

_SE_ID_RE = re.compile(r"(?<!\d)(\d{2})?(\d{6})([-+– ])?(\d{4})(?!\d)")


def _swedish_ids(text: str) -> Iterator[Candidate]:
    prio = _PRIORITY[SE_ID]
    for m in _SE_ID_RE.finditer(text):
        century, date, sep, serial = m.groups()
        kind = classify_swedish_id((century or "") + date + serial)
        if kind is SwedishId.PERSON and sep != " ":
            yield Candidate(m.start(), m.end(), SE_ID, prio)
        elif kind is SwedishId.PERSON or kind is SwedishId.ORGANISATION or (sep and sep != " "):
            # Organisation numbers, a personnummer split by a space (not a valid way to write
            # one, so not reported) and any NNNNNN-NNNN shape are identity-number shaped, never
            # phone numbers: claim them so no weaker family reports them.
            yield Candidate(m.start(), m.end(), None, prio)
        elif kind is SwedishId.BAD_CHECKSUM and not (century is None and date[0] == "0"):
            # A valid date with a wrong check digit is a mistyped personnummer, not a phone.
            # Bare ten digits starting with 0 stay open: that is how Swedish phones are written.
            yield Candidate(m.start(), m.end(), None, prio)


# --- IBAN ---------------------------------------------------------------------------------

_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])")
# Lengths from the SWIFT IBAN registry; a code not listed is accepted on mod-97 alone.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def _iban_valid(compact: str) -> bool:
    want = _IBAN_LENGTHS.get(compact[:2].upper())
    if want is not None and len(compact) != want:
        return False
    bban = compact[4:]
    # Real BBANs are mostly digits; this stops "se12 with some more text" from ever passing.
    return sum(c.isdigit() for c in bban) * 2 >= len(bban) and iban_ok(compact)


def _ibans(text: str) -> Iterator[Candidate]:
    for m in _IBAN_RE.finditer(text):
        s = m.group()
        # The greedy match may have swallowed a following word; drop trailing groups until valid.
        while len(s.replace(" ", "")) >= 15:
            if _iban_valid(s.replace(" ", "")):
                yield Candidate(m.start(), m.start() + len(s), IBAN, _PRIORITY[IBAN])
                break
            cut = s.rfind(" ")
            if cut <= 4:
                s = s[:-1]  # unspaced form: shorten one character at a time
            else:
                s = s[:cut]


# --- payment cards ------------------------------------------------------------------------

_CARD_RE = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){11,22}(?!\d)")
_SEP_RE = re.compile(r"[ -]")
_MAESTRO_12 = ("50", "56", "57", "58", "6304", "6390", "6759", "676", "0604")


def _card_groups_ok(groups: list[str]) -> bool:
    digits = "".join(groups)
    if not 12 <= len(digits) <= 19 or digits == digits[0] * len(digits):
        return False
    if len(digits) == 12 and not digits.startswith(_MAESTRO_12):
        return False  # twelve digits is Maestro only
    if len(groups) > 1:
        # 4-4-4-4(-3), 4-6-5 and 4-6-4: a first group of four, inner groups of four to six.
        if len(groups[0]) != 4 or any(not 4 <= len(g) <= 6 for g in groups[1:-1]) or len(groups[-1]) > 6:
            return False
    return luhn_ok(digits)


def _cards(text: str) -> Iterator[Candidate]:
    for m in _CARD_RE.finditer(text):
        s = m.group()
        seps = set(_SEP_RE.findall(s))
        if len(seps) > 1:
            continue
        sep = seps.pop() if seps else None
        groups = s.split(sep) if sep else [s]
        # Try the longest run of whole groups first: a card may sit next to another number.
        found = None
        for size in range(min(len(groups), 5), 0, -1):  # a card has at most five groups (4-4-4-4-3)
            for i in range(len(groups) - size + 1):
                if _card_groups_ok(groups[i:i + size]):
                    found = (i, size)
                    break
            if found:
                break
        if found:
            i, size = found
            start = m.start() + sum(len(g) + 1 for g in groups[:i])
            end = start + sum(len(g) for g in groups[i:i + size]) + size - 1
            yield Candidate(start, end, CARD, _PRIORITY[CARD])


# --- IP addresses -------------------------------------------------------------------------

_IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_VERSION_BEFORE_RE = re.compile(r"(?i)\b(?:version|ver\.?|v)\s?$")  # "version 1.2.3.4" is not an address
_IPV6_RE = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?![\w:])")


def _ips(text: str) -> Iterator[Candidate]:
    prio = _PRIORITY[IP]
    for m in _IPV4_RE.finditer(text):
        if ip_ok(m.group()) and not _VERSION_BEFORE_RE.search(text, max(0, m.start() - 10), m.start()):
            yield Candidate(m.start(), m.end(), IP, prio)
    if ":" in text:
        for m in _IPV6_RE.finditer(text):
            s = m.group()
            # Needs a digit and two filled groups, so "::" or a C++ "a::b" is not an address.
            if any(c.isdigit() for c in s) and sum(1 for g in s.split(":") if g) >= 2 and ip_ok(s):
                yield Candidate(m.start(), m.end(), IP, prio)


# --- phone numbers ------------------------------------------------------------------------

_PHONE_RE = re.compile(
    r"(?<![\w+@/.:-])(?:\+ ?|00)?\(?\d[\d(). /-]{5,24}\d(?: ?(?:x|ext\.?) ?\d{1,5})?(?![\w@/:]|[.,]\d)")
_EXT_RE = re.compile(r" ?(?:x|ext\.?) ?\d{1,5}$")
_BAD_SEPS_RE = re.compile(r"[./-]{2}|  |[./-] | [./-]|\(\(|\)\)")
_DATE_RE = re.compile(r"\b(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})\b")
_THOUSANDS_RE = re.compile(r"^[1-9]\d{0,2}(?:[ .,]\d{3})+$")
_YEAR_RANGE_RE = re.compile(r"^\d{4} ?[-/] ?\d{4}$")
_NANP_RE = re.compile(r"^1?[2-9]\d{2}[2-9]\d{6}$")
_NANP_SHAPE_RE = re.compile(r"^(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}$")
_SSN_SHAPE_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_PHONE_WORDS = (r"tel|phone|fon|mobil|mob\b|cell|fax|desk|office|call|ring|sms|text|whatsapp|reach|contact|kontakt|"
                r"messages?|answering|registered|växel|jobb")
# Words that say a digit string is some other identifier.
_OTHER_ID_WORDS = (r"licen[cs]e|ssn|social security|account|konto|order|invoice|faktura|kundnummer|postnummer|"
                   r"zip|passport|pass\b|\bid\b")
_CONTEXT_RE = re.compile(rf"(?i)(?P<phone>{_PHONE_WORDS})|(?P<other>{_OTHER_ID_WORDS})")
_PHONE_AFTER_RE = re.compile(rf"(?i)^[\W_]{{0,3}}(?:{_PHONE_WORDS})")
_WORD_AFTER_RE = re.compile(r"^ +[^\W\d]")
_GROUP_SPLIT_RE = re.compile(r"[ ./-]+")


def _context(before: str, after: str) -> int:
    """+1: the nearest keyword says phone; -1: it names another identifier; 0: no evidence."""
    if _PHONE_AFTER_RE.match(after):
        return 1
    last = None
    for last in _CONTEXT_RE.finditer(before):  # noqa: B007 - only the keyword nearest the number counts
        pass
    if last is not None and last.group("other"):
        return -1
    # A word directly after the digits reads as an address ("6556 106 Rue Ettatawer").
    if last is None or _WORD_AFTER_RE.match(after):
        return 0
    return 1


def _phone_ok(s: str, before: str, after: str) -> bool:
    core = _EXT_RE.sub("", s) if "x" in s or "e" in s else s
    if _BAD_SEPS_RE.search(core) or core.count("(") != core.count(")") or core.count("(") > 1:
        return False
    digits = "".join(filter(str.isdigit, core))
    if core[0] == "+" or core.startswith("00"):
        n = len(digits) - (2 if core[0] == "0" else 0)
        return 8 <= n <= 15 and digits.lstrip("0")[:1] != ""
    n = len(digits)
    if not 7 <= n <= 12 or _DATE_RE.search(core) or _YEAR_RANGE_RE.match(core) or _SSN_SHAPE_RE.match(core):
        return False
    groups = _GROUP_SPLIT_RE.split(core.replace("(", " ").replace(")", " ").strip())
    if any(len(g) == 1 for g in groups[1:]):
        return False  # "1 2 3 4 5 6 7": counting, not dialling
    context = _context(before, after)
    if context < 0:
        return False  # "license number 2270-66-1551"
    if _THOUSANDS_RE.match(core) or (max(map(len, groups)) <= 2 < len(groups) and digits[0] != "0"):
        # "1 250 000 kr" is an amount and "4 15 16 23 42" lottery numbers, unless the text
        # talks about a phone ("Phone: 60-56-85-91").
        return context > 0
    if digits[0] == "0" or "(" in core:
        return True  # a trunk prefix or an area code in brackets: the shape of a phone number
    if len(groups) == 1:
        return context > 0 or bool(_NANP_RE.match(digits))
    if len(groups) >= 3 or _NANP_SHAPE_RE.match(core):
        return True
    return context > 0


def _phones(text: str, claimed: list[Candidate]) -> Iterator[Candidate]:
    prio = _PRIORITY[PHONE]
    for m in _PHONE_RE.finditer(text):
        start, end = m.span()
        # Inside an e-mail or identity number it would lose the overlap anyway: skip validating.
        if any(c.start <= start and end <= c.end for c in claimed):
            continue
        if _phone_ok(m.group(), text[max(0, start - 40):start], text[end:end + 12]):
            yield Candidate(start, end, PHONE, prio)


_HAS_DIGIT = re.compile(r"\d")


def find_all(text: str) -> list[Candidate]:
    """Every candidate of every family (overlapping; the caller resolves by priority)."""
    out: list[Candidate] = []
    if "@" in text:
        out.extend(_emails(text))
    if _HAS_DIGIT.search(text):
        out.extend(_swedish_ids(text))
        claimed = out.copy()
        out.extend(_ibans(text))
        out.extend(_cards(text))
        out.extend(_ips(text))
        out.extend(_phones(text, claimed))
    return out
