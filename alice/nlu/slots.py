"""Slot extraction: every value a tool may need, from one utterance, as plain JSON-able data.

Deterministic given `now` (an aware datetime in the user's time zone, Europe/Stockholm unless
configured). Keys are present only when found:

    date "YYYY-MM-DD", time "HH:MM", end_time, datetime (ISO, with offset), date_range [from, to],
    part_of_day, duration_s, relative_s, people [..], place, room, email, emails [..], phone (E.164),
    numbers [..], percent
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alice.nlu.entities import extract_emails, extract_people, extract_phone, extract_place, extract_room
from alice.nlu.numbers import words_to_digits
from alice.nlu.timeexpr import parse_time_expressions

__all__ = ["DEFAULT_TZ", "extract_slots", "now_in"]

DEFAULT_TZ = "Europe/Stockholm"
_LOOSE_CLOCK_INTENTS = frozenset({"calendar.create_draft", "calendar.move", "calendar.list"})
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:%|procent|percent)", re.I)
_NUMBER = re.compile(r"(?<![\w.,])-?\d+(?:[.,]\d+)?(?![\w])")


def now_in(tz: str = DEFAULT_TZ) -> datetime:
    return datetime.now(ZoneInfo(tz))


def extract_slots(text: str, *, now: datetime, lang: str = "sv", intent: str | None = None) -> dict[str, Any]:
    """All slots in `text`. `intent` (if known) lets calendar requests read "till 15" as a time."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    slots: dict[str, Any] = {}
    info = parse_time_expressions(text, now, lang=lang, loose=intent in _LOOSE_CLOCK_INTENTS)
    if info.date is not None:
        slots["date"] = info.date.isoformat()
    if info.time is not None:
        slots["time"] = info.time.strftime("%H:%M")
    if info.end_time is not None:
        slots["end_time"] = info.end_time.strftime("%H:%M")
    if info.date_range is not None:
        slots["date_range"] = [info.date_range[0].isoformat(), info.date_range[1].isoformat()]
    if info.part_of_day is not None:
        slots["part_of_day"] = info.part_of_day
    if info.duration_s is not None:
        slots["duration_s"] = info.duration_s
    if info.relative_s is not None:
        slots["relative_s"] = info.relative_s
    when = info.when(now)
    if when is not None and (info.time is not None or info.relative_s is not None):
        # `date` stays what was said; the resolved day (today or tomorrow for a bare time) is here.
        slots["datetime"] = when.isoformat(timespec="minutes")
        slots.setdefault("time", when.strftime("%H:%M"))
    emails = extract_emails(text)
    if emails:
        slots["email"] = emails[0]
        slots["emails"] = emails
    phone = extract_phone(text)
    if phone:
        slots["phone"] = phone
    people = extract_people(text)
    if people:
        slots["people"] = people
    place = extract_place(text)
    if place:
        slots["place"] = place
    room = extract_room(text)
    if room:
        slots["room"] = room
    digits = words_to_digits(text)
    pm = _PERCENT.search(digits)
    if pm:
        slots["percent"] = float(pm.group(1).replace(",", "."))
    numbers = [float(n.replace(",", ".")) for n in _NUMBER.findall(digits)]
    if numbers:
        slots["numbers"] = [int(n) if n.is_integer() else n for n in numbers]
    return slots
