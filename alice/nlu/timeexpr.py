"""Swedish and English time expressions: dates, clock times, durations, relative times, ranges.

Deterministic given a reference `now` (an aware datetime). Number words are turned into digits
first ("halv tre" -> "halv 3"), then durations and relative times ("om fem minuter") are taken
out, so their numbers are not read as clock times.

Ambiguous 12-hour clock times ("halv tre", "kl 3") follow the part of day when one is said
("på natten" -> 02:30, "ikväll" -> 20:00); otherwise daytime is assumed: 1-6 o'clock is
afternoon (13-18), 7-12 is morning/noon. A time-only expression that has already passed today
means tomorrow. "på fredag" is the next Friday after today; "nästa fredag" is Friday next week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from alice.nlu.numbers import words_to_digits

__all__ = ["TimeInfo", "parse_duration", "parse_time_expressions"]

WEEKDAYS = {
    "måndag": 0, "tisdag": 1, "onsdag": 2, "torsdag": 3, "fredag": 4, "lördag": 5, "söndag": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
MONTHS = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "february": 2, "mars": 3, "mar": 3,
    "march": 3, "april": 4, "apr": 4, "maj": 5, "may": 5, "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7,
    "july": 7, "augusti": 8, "aug": 8, "august": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10,
    "okt": 10, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MO = "|".join(sorted(MONTHS, key=len, reverse=True))
_UNITS = {
    "sekunder": 1, "sekund": 1, "sek": 1, "seconds": 1, "second": 1, "secs": 1, "sec": 1,
    "minuter": 60, "minut": 60, "min": 60, "minutes": 60, "minute": 60, "mins": 60,
    "timmar": 3600, "timme": 3600, "tim": 3600, "hours": 3600, "hour": 3600, "hrs": 3600, "hr": 3600,
    "dagar": 86400, "dag": 86400, "dygn": 86400, "days": 86400, "day": 86400,
    "veckor": 604800, "vecka": 604800, "weeks": 604800, "week": 604800,
}
_UNIT_RE = "|".join(sorted(_UNITS, key=len, reverse=True))
_AMOUNT = r"(?:\d+(?:[.,]\d+)?|en|ett|a|an)"
_HALF = r"(?:\s+(?:och|and)\s+(?:en|a)\s+halv(?:f)?)?"
# One component of a duration: "5 min", "en och en halv timme", "en halvtimme", "en kvart".
_COMPONENT = (
    rf"\b(?:{_AMOUNT}{_HALF}\s*(?:{_UNIT_RE})\b(?:\s+(?:och|and)\s+a\s+half)?"
    r"|(?:en\s+)?halv\s*timme|halvannan\s+timme|(?:en\s+)?kvart(?!\s+(?:över|i)\s+\d)"
    r"|half\s+an\s+hour|(?:a\s+)?quarter\s+of\s+an\s+hour|\d+\s*[hs]\b)"
)
DURATION = re.compile(rf"{_COMPONENT}(?:\s*(?:,|och|and)\s*{_COMPONENT})*", re.I)
RELATIVE = re.compile(rf"\b(?:om|in|efter|after)\s+({_COMPONENT}(?:\s*(?:,|och|and)\s*{_COMPONENT})*)", re.I)

PART_OF_DAY = [
    ("night", re.compile(r"\b(i\s*natt|på\s+natten|mitt\s+i\s+natten|tonight\s+at\s+night|at\s+night|"
                         r"in\s+the\s+night)\b", re.I)),
    ("morning", re.compile(r"\b(på\s+morgonen|imorse|i\s+morse|bitti|på\s+förmiddagen|förmiddag\w*|morgon\w*(?=\s*$)|"
                           r"in\s+the\s+morning|morning|a\.?m\.?)\b", re.I)),
    ("afternoon", re.compile(r"\b(på\s+eftermiddagen|i\s*eftermiddag|eftermiddag\w*|in\s+the\s+afternoon|afternoon|"
                             r"p\.?m\.?)\b", re.I)),
    ("evening", re.compile(r"\b(i\s*kväll|på\s+kvällen|kväll\w*|tonight|in\s+the\s+evening|evening)\b", re.I)),
]


@dataclass(slots=True)
class TimeInfo:
    date: date | None = None
    time: time | None = None
    end_time: time | None = None
    date_range: tuple[date, date] | None = None
    duration_s: int | None = None
    relative_s: int | None = None
    part_of_day: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)  # in `normalised`
    normalised: str = ""

    def when(self, now: datetime) -> datetime | None:
        """The aware datetime meant, if a clock time, a date or a relative time was said."""
        if self.relative_s is not None and self.time is None and self.relative_s < 86400:
            return now + timedelta(seconds=self.relative_s)
        d = self.date or (self.date_range[0] if self.date_range else None)
        if self.time is None:
            return None if d is None else datetime.combine(d, time(0, 0), now.tzinfo)
        if d is None:
            candidate = datetime.combine(now.date(), self.time, now.tzinfo)
            return candidate if candidate >= now - timedelta(minutes=1) else candidate + timedelta(days=1)
        return datetime.combine(d, self.time, now.tzinfo)


def _amount(token: str) -> float:
    token = token.lower()
    if token in ("en", "ett", "a", "an"):
        return 1.0
    return float(token.replace(",", "."))


def _component_seconds(text: str) -> int:
    t = text.lower().strip()
    if re.fullmatch(r"(?:en\s+)?halv\s*timme|half\s+an\s+hour", t):
        return 1800
    if re.fullmatch(r"halvannan\s+timme", t):
        return 5400
    if re.fullmatch(r"(?:en\s+)?kvart|(?:a\s+)?quarter\s+of\s+an\s+hour", t):
        return 900
    m = re.fullmatch(r"(\d+)\s*([hs])", t)
    if m:
        return int(m.group(1)) * (3600 if m.group(2) == "h" else 1)
    m = re.match(rf"({_AMOUNT})({_HALF})\s*({_UNIT_RE})\b(\s+(?:och|and)\s+a\s+half)?", t)
    if not m:
        return 0
    unit = _UNITS[m.group(3)]
    value = _amount(m.group(1)) + (0.5 if (m.group(2) or m.group(4)) else 0.0)
    return round(value * unit)


def parse_duration(text: str) -> int | None:
    """Total seconds of the first duration phrase in `text` ("en och en halv timme" -> 5400)."""
    m = DURATION.search(words_to_digits(text.lower()))
    if not m:
        return None
    return sum(_component_seconds(c.group()) for c in re.finditer(_COMPONENT, m.group(), re.I)) or None


def _ambiguous_hour(h: int, part: str | None) -> int:
    """24-hour value of a 12-hour clock hour, by part of day (or the daytime default)."""
    if h == 0 or h > 12:
        return h % 24
    if part == "morning":
        return 0 if h == 12 else h
    if part in ("afternoon", "evening"):
        return h if h == 12 else h + 12
    if part == "night":
        return h if h <= 5 else (0 if h == 12 else h + 12)
    return h + 12 if 1 <= h <= 6 else h


class _Text:
    """The normalised text with the spans already consumed by a parser (so nothing reads them twice)."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.used: list[tuple[int, int]] = []

    def free(self, a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in self.used)

    def find(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        for m in pattern.finditer(self.s):
            if self.free(*m.span()):
                return m
        return None

    def take(self, m: re.Match[str]) -> None:
        self.used.append(m.span())


def _next_weekday(today: date, wd: int, *, strictly_after: bool = True) -> date:
    delta = (wd - today.weekday()) % 7
    if delta == 0 and strictly_after:
        delta = 7
    return today + timedelta(days=delta)


_CLOCK_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("range", re.compile(r"\b(?:kl(?:ockan)?\.?\s*|från\s+|mellan\s+|from\s+|between\s+|tiden\s+)"
                         r"(\d{1,2})(?:[:.](\d{2}))?"
                         r"\s*(?:-|–|till|to|och|and)\s*(\d{1,2})(?:[:.](\d{2}))?\b", re.I)),
    ("min-halv", re.compile(r"\b(\d{1,2})\s+(?:minuter\s+)?(över|i)\s+halv\s+(\d{1,2})\b", re.I)),
    ("halv", re.compile(r"\bhalv\s+(\d{1,2})\b(?!\s*(?:timme|tim))", re.I)),
    ("half-past", re.compile(r"\bhalf\s+past\s+(\d{1,2})\b", re.I)),
    ("kvart", re.compile(r"\b(?:en\s+)?kvart\s+(över|i)\s+(\d{1,2})\b", re.I)),
    ("quarter", re.compile(r"\b(?:a\s+)?quarter\s+(past|to)\s+(\d{1,2})\b", re.I)),
    ("min-over", re.compile(r"\b(\d{1,2})\s+(?:minuter\s+|minutes\s+)?(över|i|past|to)\s+(\d{1,2})\b"
                            r"(?!\s*(?:min|tim|sek|procent|%|grad|dag|vecka|år|kr))", re.I)),
    ("ampm", re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)", re.I)),
    ("hhmm", re.compile(r"(?:\b(?:kl(?:ockan)?\.?|at|@|vid)\s*)?\b(\d{1,2}):(\d{2})\b", re.I)),
    ("kl-dot", re.compile(r"\b(?:kl(?:ockan)?\.?|at)\s*(\d{1,2})\.(\d{2})\b", re.I)),
    ("kl", re.compile(r"\b(?:kl(?:ockan)?\.?|at|vid)\s*(\d{1,2})\b(?![:.,]\d)"
                      r"(?!\s*(?:min|tim|sek|procent|%|grad|dag|vecka|år|kr|st\b|personer))", re.I)),
    ("oclock", re.compile(r"\b(\d{1,2})\s*o'?clock\b", re.I)),
    ("noon", re.compile(r"\b(mitt\s+på\s+dagen|lunch(?:tid)?|noon|midday)\b", re.I)),
    ("midnight", re.compile(r"\b(midnatt|midnight)\b", re.I)),
    ("till", re.compile(r"\b(?:till|to|på)\s+(\d{1,2})\b(?![:.,]\d)"
                        r"(?!\s*(?:min|tim|sek|procent|%|grad|dag|vecka|år|kr|st\b|personer|[a-zåäö]))", re.I)),
]


def _clock(name: str, m: re.Match[str], part: str | None) -> tuple[time, time | None] | None:
    g = m.groups()

    def hm(h: int, mi: int, literal: bool = False) -> time | None:
        h = h if literal else _ambiguous_hour(h, part)
        return time(h % 24, mi) if 0 <= h <= 24 and 0 <= mi < 60 else None

    if name == "range":
        h1, m1, h2, m2 = int(g[0]), int(g[1] or 0), int(g[2]), int(g[3] or 0)
        a = hm(h1, m1, literal=h1 > 12 or (g[1] is not None and g[0].startswith("0")))
        if a is None or h2 > 24:
            return None
        b_h = h2 if h2 > 12 else (h2 + 12 if a.hour >= 12 and h2 + 12 > a.hour else h2)
        b = time(b_h % 24, m2) if m2 < 60 else None
        return (a, b) if b is not None else None
    if name == "min-halv":
        base = int(g[2]) - 1
        mins = 30 + (int(g[0]) if g[1] == "över" else -int(g[0]))
        t = hm(base % 12 or 12, 0)
        return None if t is None else ((datetime.combine(date(2000, 1, 1), t) + timedelta(minutes=mins)).time(), None)
    if name == "halv":
        h = int(g[0]) - 1
        t = hm(h if h > 0 else 12, 30)
        return None if t is None else (t, None)
    if name == "half-past":
        t = hm(int(g[0]), 30)
        return None if t is None else (t, None)
    if name in ("kvart", "quarter"):
        h = int(g[1])
        if g[0] in ("över", "past"):
            t = hm(h, 15)
        else:
            t = hm(h - 1 if h > 1 else 12, 45)
        return None if t is None else (t, None)
    if name == "min-over":
        mi, word, h = int(g[0]), g[1], int(g[2])
        if mi >= 60 or h > 24:
            return None
        t = hm(h, mi) if word in ("över", "past") else hm(h - 1 if h > 1 else 12, 60 - mi)
        return None if t is None else (t, None)
    if name == "ampm":
        h, mi, ap = int(g[0]), int(g[1] or 0), g[2].lower().replace(".", "")
        if h > 12:
            return None
        h = (0 if h == 12 else h) + (12 if ap == "pm" else 0)
        return (time(h, mi), None) if mi < 60 else None
    if name in ("hhmm", "kl-dot"):
        h, mi = int(g[0]), int(g[1])
        literal = h > 12 or h == 0 or g[0].startswith("0")
        t = hm(h, mi, literal=literal)
        return None if t is None else (t, None)
    if name in ("kl", "oclock", "till"):
        h = int(g[0])
        if h > 24:
            return None
        t = hm(h, 0, literal=h > 12 or g[0].startswith("0"))
        return None if t is None else (t, None)
    if name == "noon":
        return time(12, 0), None
    if name == "midnight":
        return time(0, 0), None
    return None


def _dates(tx: _Text, today: date, info: TimeInfo, lang: str) -> None:
    simple = [
        (r"\b(i\s*övermorgon|övermorgon|the\s+day\s+after\s+tomorrow|day\s+after\s+tomorrow)\b", 2),
        (r"\b(i\s*förrgår)\b", -2),
        (r"\b(i\s*morgon|tomorrow)\b", 1),
        (r"\b(i\s*dag|today|i\s*kväll|tonight|i\s*eftermiddag|i\s*morse|this\s+(?:morning|afternoon|evening))\b", 0),
        (r"\b(i\s*går|yesterday)\b", -1),
    ]
    explicit = [
        re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
        re.compile(rf"\b(?:den\s+)?(\d{{1,2}})(?::?e|:?a|st|nd|rd|th)?\s+(?:of\s+)?({_MO})\b\.?"
                   rf"(?:\s+(\d{{4}}))?", re.I),
        re.compile(rf"\b({_MO})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.I),
        re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b"),
        re.compile(r"\bden\s+(\d{1,2})(?::?e|:?a)\b|\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b", re.I),
    ]

    def future(y: int | None, mo: int, d: int) -> date | None:
        try:
            cand = date(y or today.year, mo, d)
        except ValueError:
            return None
        if y is None and cand < today:
            try:
                cand = date(today.year + 1, mo, d)
            except ValueError:
                return None
        return cand

    for n, pat in enumerate(explicit):
        m = tx.find(pat)
        if not m:
            continue
        g = m.groups()
        if n == 0:
            try:
                found: date | None = date(int(g[0]), int(g[1]), int(g[2]))
            except ValueError:
                found = None
        elif n == 1:
            found = future(int(g[2]) if g[2] else None, MONTHS[g[1].lower()], int(g[0]))
        elif n == 2:
            found = future(int(g[2]) if g[2] else None, MONTHS[g[0].lower()], int(g[1]))
        elif n == 3:
            a, b = int(g[0]), int(g[1])
            day, month = (b, a) if lang == "en" else (a, b)
            year = int(g[2]) if g[2] else None
            if year is not None and year < 100:
                year += 2000
            found = future(year, month, day) if 1 <= month <= 12 else None
        else:
            d = int(g[0] or g[1])
            found = None
            for k in range(0, 3):
                mo = (today.month - 1 + k) % 12 + 1
                yr = today.year + (today.month - 1 + k) // 12
                try:
                    cand = date(yr, mo, d)
                except ValueError:
                    continue
                if cand >= today:
                    found = cand
                    break
        if found is not None:
            info.date = found
            tx.take(m)
            return
    for pattern, days in simple:
        m = tx.find(re.compile(pattern, re.I))
        if m:
            info.date = today + timedelta(days=days)
            tx.take(m)
            return
    m = tx.find(re.compile(rf"\bi\s+({_WD})s\b", re.I))  # "i fredags": last Friday
    if m:
        wd = WEEKDAYS[m.group(1).lower()]
        info.date = today - timedelta(days=(today.weekday() - wd) % 7 or 7)
        tx.take(m)
        return
    m = tx.find(re.compile(rf"\b(?:(nästa|kommande|next|this|denna|den\s+här|på|on)\s+)?({_WD})(?:en)?\b", re.I))
    if m:
        wd = WEEKDAYS[m.group(2).lower()]
        qualifier = (m.group(1) or "").lower()
        if qualifier in ("nästa", "next"):
            monday_next = today - timedelta(days=today.weekday()) + timedelta(days=7)
            info.date = monday_next + timedelta(days=wd)
        else:
            info.date = _next_weekday(today, wd, strictly_after=qualifier not in ("this", "denna", "den här"))
        tx.take(m)
        return
    _ranges(tx, today, info)


def _ranges(tx: _Text, today: date, info: TimeInfo) -> None:
    monday = today - timedelta(days=today.weekday())
    table: list[tuple[str, tuple[date, date]]] = [
        (r"\b(nästa\s+vecka|next\s+week|i\s+nästa\s+vecka|nästa\s+veckas?)\b",
         (monday + timedelta(days=7), monday + timedelta(days=13))),
        (r"\b(den\s+här\s+veckan|denna\s+vecka|i\s+veckan|this\s+week|veckan)\b", (today, monday + timedelta(days=6))),
        (r"\b(nästa\s+helg|next\s+weekend)\b", (monday + timedelta(days=12), monday + timedelta(days=13))),
        (r"\b(i\s+helgen|till\s+helgen|helgen|this\s+weekend|the\s+weekend|weekend)\b",
         (max(today, monday + timedelta(days=5)), monday + timedelta(days=6))),
    ]
    for pattern, rng in table:
        m = tx.find(re.compile(pattern, re.I))
        if m:
            info.date_range = rng
            tx.take(m)
            return
    m = tx.find(re.compile(r"\b(nästa\s+månad|next\s+month)\b", re.I))
    if m:
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        info.date_range = (first, last)
        tx.take(m)


def parse_time_expressions(text: str, now: datetime, *, lang: str = "sv", loose: bool = False) -> TimeInfo:
    """Every time-related slot in `text`, resolved against `now` (aware, in the user's time zone).

    `loose` also reads a bare hour after "till"/"på" ("flytta mötet till 15") as a clock time, which
    is right for calendar requests and wrong elsewhere ("parkerade på plan 3").
    """
    tx = _Text(words_to_digits(text.lower()))
    info = TimeInfo(normalised=tx.s)
    for name, pat in PART_OF_DAY:
        if pat.search(tx.s):
            info.part_of_day = name
            break
    m = tx.find(RELATIVE)
    if m:
        seconds = sum(_component_seconds(c.group()) for c in re.finditer(_COMPONENT, m.group(1), re.I))
        if seconds:
            info.relative_s = seconds
            tx.take(m)
            if seconds >= 86400:
                info.date = (now + timedelta(seconds=seconds)).date()
    total = 0
    for dm in DURATION.finditer(tx.s):
        if tx.free(*dm.span()):
            secs = sum(_component_seconds(c.group()) for c in re.finditer(_COMPONENT, dm.group(), re.I))
            if secs:
                total += secs
                tx.take(dm)
    info.duration_s = total or None
    today = now.date()
    if info.date is None:
        _dates(tx, today, info, lang)
    if info.date_range is None:
        _ranges(tx, today, info)
    for name, pat in _CLOCK_PATTERNS:
        if name == "till" and not loose:
            continue
        cm = tx.find(pat)
        if not cm:
            continue
        parsed = _clock(name, cm, info.part_of_day)
        if parsed is None:
            continue
        info.time, info.end_time = parsed
        tx.take(cm)
        break
    if info.time is not None and info.relative_s is not None and info.relative_s < 86400:
        info.relative_s = None  # "om en timme kl 15" makes no sense; the clock time wins
    info.spans = sorted(tx.used)
    return info
