"""Dates, times and durations as a person says them, in Swedish and English."""

from __future__ import annotations

from datetime import date

__all__ = ["day_phrase", "duration", "long_date", "number"]

SV_DAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
SV_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
             "november", "december")
EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def long_date(d: date, lang: str = "sv", *, year: bool = True) -> str:
    """"lördag den 28 november 2026" / "Saturday 28 November 2026"."""
    if lang == "en":
        s = f"{EN_DAYS[d.weekday()]} {d.day} {EN_MONTHS[d.month - 1]}"
        return f"{s} {d.year}" if year else s
    s = f"{SV_DAYS[d.weekday()]} den {d.day} {SV_MONTHS[d.month - 1]}"
    return f"{s} {d.year}" if year else s


def day_phrase(d: date, today: date, lang: str = "sv") -> str:
    """"idag", "imorgon", "på fredag", "lördag den 5 december" by distance from today."""
    delta = (d - today).days
    if lang == "en":
        if delta == 0:
            return "today"
        if delta == 1:
            return "tomorrow"
        if 1 < delta < 7:
            return f"on {EN_DAYS[d.weekday()]}"
        return f"on {long_date(d, 'en', year=d.year != today.year)}"
    if delta == 0:
        return "idag"
    if delta == 1:
        return "imorgon"
    if delta == 2:
        return "i övermorgon"
    if 2 < delta < 7:
        return f"på {SV_DAYS[d.weekday()]}"
    return long_date(d, "sv", year=d.year != today.year)


def number(x: float, lang: str = "sv") -> str:
    """12.5 -> "12,5" in Swedish; integers without decimals; at most 10 significant decimals."""
    if float(x).is_integer() and abs(x) < 1e15:
        s = f"{int(x):,}".replace(",", "\u00a0" if lang != "en" else ",")
        return s
    s = f"{x:.10g}"
    if "e" in s:
        return s
    return s.replace(".", ",") if lang != "en" else s


def duration(seconds: float, lang: str = "sv") -> str:
    """1 timme och 5 minuter / 1 hour and 5 minutes; seconds only below a minute or when odd."""
    seconds = max(0, round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    parts: list[str] = []
    if lang == "en":
        if h:
            parts.append(f"{h} hour{'s' if h != 1 else ''}")
        if m:
            parts.append(f"{m} minute{'s' if m != 1 else ''}")
        if s or not parts:
            parts.append(f"{s} second{'s' if s != 1 else ''}")
        return " and ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else parts[0]
    if h:
        parts.append(f"{h} {'timme' if h == 1 else 'timmar'}")
    if m:
        parts.append(f"{m} {'minut' if m == 1 else 'minuter'}")
    if s or not parts:
        parts.append(f"{s} {'sekund' if s == 1 else 'sekunder'}")
    return " och ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else parts[0]
