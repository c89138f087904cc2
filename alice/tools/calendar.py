"""Calendar in SQLite: create drafts, move, list, detect conflicts, export ICS (RFC 5545).

Events are per tenant. A new event is a draft (the assistant proposes, the user owns the
calendar). Conflicts are overlapping events that are not cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

import orjson

from alice.nlu.timeexpr import parse_time_expressions
from alice.tools._format import day_phrase
from alice.tools._sqlite import SqliteDB
from alice.tools.base import Tool, ToolCall, ToolResult, say

__all__ = ["CalendarCreateTool", "CalendarListTool", "CalendarMoveTool", "CalendarStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    title TEXT NOT NULL,
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    attendees TEXT NOT NULL DEFAULT '[]',
    location TEXT,
    status TEXT NOT NULL DEFAULT 'draft',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_tenant_start ON events(tenant, start);
"""
DEFAULT_DURATION_S = 3600


def _row(r: dict[str, Any]) -> dict[str, Any]:
    r = dict(r)
    r["attendees"] = orjson.loads(r["attendees"])
    return r


class CalendarStore:
    def __init__(self, path: Path | str) -> None:
        self.db = SqliteDB(path, _SCHEMA)

    async def conflicts(self, tenant: str, start: datetime, end: datetime, *, exclude: int | None = None
                        ) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT * FROM events WHERE tenant=? AND status!='cancelled' AND start < ? AND \"end\" > ? AND id != ?"
            " ORDER BY start", (tenant, end.isoformat(), start.isoformat(), exclude or -1))
        return [_row(r) for r in rows]

    async def create_draft(self, tenant: str, title: str, start: datetime, end: datetime,
                           attendees: list[str] | None = None, location: str | None = None) -> dict[str, Any]:
        if end <= start:
            raise ValueError("an event must end after it starts")
        clashes = await self.conflicts(tenant, start, end)
        eid = await self.db.execute(
            "INSERT INTO events (tenant, title, start, \"end\", attendees, location, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'draft', ?)",
            (tenant, title, start.isoformat(), end.isoformat(), orjson.dumps(attendees or []).decode(), location,
             datetime.now(UTC).isoformat()))
        event = await self.get(tenant, eid)
        assert event is not None
        return {"event": event, "conflicts": clashes}

    async def get(self, tenant: str, event_id: int) -> dict[str, Any] | None:
        rows = await self.db.fetch("SELECT * FROM events WHERE tenant=? AND id=?", (tenant, event_id))
        return _row(rows[0]) if rows else None

    async def move(self, tenant: str, event_id: int, new_start: datetime) -> dict[str, Any]:
        event = await self.get(tenant, event_id)
        if event is None:
            raise KeyError(event_id)
        length = datetime.fromisoformat(event["end"]) - datetime.fromisoformat(event["start"])
        new_end = new_start + length
        clashes = await self.conflicts(tenant, new_start, new_end, exclude=event_id)
        await self.db.execute("UPDATE events SET start=?, \"end\"=? WHERE tenant=? AND id=?",
                              (new_start.isoformat(), new_end.isoformat(), tenant, event_id))
        moved = await self.get(tenant, event_id)
        assert moved is not None
        return {"event": moved, "conflicts": clashes, "previous_start": event["start"]}

    async def list(self, tenant: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT * FROM events WHERE tenant=? AND status!='cancelled' AND start < ? AND \"end\" > ? ORDER BY start",
            (tenant, end.isoformat(), start.isoformat()))
        return [_row(r) for r in rows]

    async def upcoming(self, tenant: str, after: datetime, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT * FROM events WHERE tenant=? AND status!='cancelled' AND \"end\" > ? ORDER BY start LIMIT ?",
            (tenant, after.isoformat(), limit))
        return [_row(r) for r in rows]

    async def export_ics(self, tenant: str) -> str:
        """All the tenant's events as an iCalendar (RFC 5545) document."""
        rows = await self.db.fetch("SELECT * FROM events WHERE tenant=? AND status!='cancelled' ORDER BY start",
                                   (tenant,))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Alice//Assistant//SV", "CALSCALE:GREGORIAN"]
        for r in map(_row, rows):
            start = datetime.fromisoformat(r["start"]).astimezone(UTC)
            end = datetime.fromisoformat(r["end"]).astimezone(UTC)
            lines += ["BEGIN:VEVENT", f"UID:alice-{tenant}-{r['id']}@alice", f"DTSTAMP:{stamp}",
                      f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}", f"DTEND:{end.strftime('%Y%m%dT%H%M%SZ')}",
                      f"SUMMARY:{_ics_escape(r['title'])}",
                      f"STATUS:{'TENTATIVE' if r['status'] == 'draft' else 'CONFIRMED'}"]
            if r["location"]:
                lines.append(f"LOCATION:{_ics_escape(r['location'])}")
            for person in r["attendees"]:
                lines.append(f"ATTENDEE;CN={_ics_escape(person)}:mailto:unknown@invalid")
            lines.append("END:VEVENT")
        lines.append("END:VCALENDAR")
        return "".join(_fold(line) + "\r\n" for line in lines)

    def close(self) -> None:
        self.db.close()


def _ics_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 §3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += b
    parts.append(current.decode())
    return "\r\n ".join(parts)


# --- phrasing -----------------------------------------------------------------------------
_GENERIC = {"möte", "mötet", "ett", "en", "tid", "event", "kalenderhändelse", "kalenderpost", "meeting", "a", "an",
            "in", "upp", "ny", "nytt", "videomöte", "samtal", "call", "appointment"}
_TITLE = re.compile(
    r"\b(?:boka|lägg\s+(?:in|till)|skapa|planera\s+in|schemalägg|sätt\s+(?:upp|in)|book|schedule|add|put|set\s+up|"
    r"create)\s+(?:in\s+)?(?:ett\s+|en\s+|a\s+|an\s+|mitt\s+|my\s+)?([a-zåäö-]+)", re.I)


def _title(text: str, people: list[str], lang: str) -> str:
    m = _TITLE.search(text)
    word = m.group(1).lower() if m else ""
    if not word or word in _GENERIC or word in ("med", "with", "till", "to", "i", "på"):
        base = "Samtal" if re.search(r"\bsamtal|\bcall\b", text, re.I) else say(lang, "Möte", "Meeting")
    else:
        base = word.capitalize()
    if people:
        base += say(lang, " med ", " with ") + say(lang, " och ", " and ").join(people)
    return base


def _span(event: dict[str, Any], today: date, lang: str) -> str:
    start = datetime.fromisoformat(event["start"])
    end = datetime.fromisoformat(event["end"])
    return f"{day_phrase(start.date(), today, lang)} {say(lang, 'kl', 'at')} {start:%H:%M}–{end:%H:%M}"


def _conflict_text(conflicts: list[dict[str, Any]], lang: str) -> str:
    if not conflicts:
        return ""
    names = ", ".join(f"{c['title']} ({datetime.fromisoformat(c['start']):%H:%M})" for c in conflicts)
    return say(lang, f" Obs! Det krockar med {names}.", f" Note: it clashes with {names}.")


def _resolve_date(args: Mapping[str, Any], now: datetime) -> date | None:
    if args.get("date"):
        return date.fromisoformat(args["date"])
    if args.get("datetime"):
        return datetime.fromisoformat(args["datetime"]).date()
    return None


class CalendarCreateTool(Tool):
    name: ClassVar[str] = "calendar.create_draft"
    description: ClassVar[str] = ("Create a draft calendar event. args: {title?, date (YYYY-MM-DD), time (HH:MM), "
                                  "duration_s?, people?, location?}")
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "date": ("Vilken dag?", "Which day?"),
        "time": ("Vilken tid?", "What time?"),
    }

    def __init__(self, store: CalendarStore) -> None:
        self.store = store

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {k: slots[k] for k in ("date", "time", "datetime", "end_time", "people") if k in slots}
        if slots.get("place"):
            args["location"] = slots["place"]
        if slots.get("duration_s") and slots["duration_s"] <= 12 * 3600:
            args["duration_s"] = slots["duration_s"]
        if not args.get("date") and slots.get("date_range"):
            args["date"] = slots["date_range"][0]
        if _TITLE.search(text):
            args["title_hint"] = text
        return args

    def missing(self, args: Mapping[str, Any], asked: frozenset[str] = frozenset()) -> list[str]:
        out: list[str] = []
        if "people" not in asked and not args.get("people") and not args.get("date") and not args.get("time"):
            out.append("people")  # "Med vem och när?" asked once, together with the day
        if not args.get("date") and not args.get("time"):
            out.append("date")
        if not args.get("time"):
            out.append("time")
        return out

    def question(self, arg: str, lang: str, missing: list[str] | None = None) -> str:
        if arg == "people":
            return say(lang, "Med vem och när?", "With whom, and when?")
        if arg == "date" and "time" in (missing or []):
            return say(lang, "När ska det vara?", "When should it be?")
        return super().question(arg, lang)

    async def run(self, call: ToolCall) -> ToolResult:
        a = call.args
        t = time.fromisoformat(a["time"])
        d = _resolve_date(a, call.now)
        if d is None:  # a bare time: today if it is still ahead, else tomorrow
            cand = datetime.combine(call.now.date(), t, call.now.tzinfo)
            d = cand.date() if cand >= call.now else cand.date() + timedelta(days=1)
        start = datetime.combine(d, t, call.now.tzinfo)
        if a.get("end_time"):
            end = datetime.combine(d, time.fromisoformat(a["end_time"]), call.now.tzinfo)
            if end <= start:
                end = start + timedelta(seconds=DEFAULT_DURATION_S)
        else:
            end = start + timedelta(seconds=int(a.get("duration_s") or DEFAULT_DURATION_S))
        people = list(a.get("people") or [])
        title = a.get("title") or _title(a.get("title_hint", ""), people, call.lang)
        result = await self.store.create_draft(call.tenant, title, start, end, people, a.get("location"))
        ev = result["event"]
        span_sv = _span(ev, call.now.date(), "sv")
        text = say(call.lang, f"Jag har lagt in ett utkast i kalendern: {ev['title']} {span_sv}.",
                   f"I've added a draft to your calendar: {ev['title']} {_span(ev, call.now.date(), 'en')}.")
        return ToolResult(result, text + _conflict_text(result["conflicts"], call.lang))


class CalendarMoveTool(Tool):
    name: ClassVar[str] = "calendar.move"
    description: ClassVar[str] = ("Move an event. args: {event_id? | people? | title_words?, new date?/time? "
                                  "or shift_s}")
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "new": ("Till när vill du flytta det?", "When would you like to move it to?"),
    }

    def __init__(self, store: CalendarStore) -> None:
        self.store = store

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if slots.get("people"):
            args["people"] = slots["people"]
        # "flytta mötet kl 9 till kl 11": what follows the last "till/to" is the new time
        m = list(re.finditer(r"\b(till|to|until|on|åt)\b", text, re.I))
        target_text, new_text = (text[: m[-1].start()], text[m[-1].end():]) if m else ("", text)
        new = parse_time_expressions(new_text, now, lang=lang, loose=True)
        old = parse_time_expressions(target_text, now, lang=lang) if target_text else None
        if new.date or new.time or new.date_range:
            args["new"] = {k: v for k, v in {
                "date": (new.date or (new.date_range[0] if new.date_range else None)),
                "time": new.time}.items() if v is not None}
            args["new"] = {k: v.isoformat() if k == "date" else v.strftime("%H:%M") for k, v in args["new"].items()}
        else:
            shift = slots.get("duration_s") or slots.get("relative_s")
            if shift:
                earlier = re.search(r"\b(tidigare|tidigarelägg\w*|earlier|bring\s+forward)\b", text, re.I)
                args["new"] = {"shift_s": -int(shift) if earlier else int(shift)}
        if old is not None and (old.date or old.time):
            args["old"] = {k: v for k, v in {"date": old.date.isoformat() if old.date else None,
                                              "time": old.time.strftime("%H:%M") if old.time else None}.items() if v}
        words = [w for w in re.findall(r"[a-zåäö]{4,}", target_text.lower()) if w not in _MOVE_STOP]
        if words:
            args["title_words"] = words
        return args

    async def _target(self, call: ToolCall) -> dict[str, Any] | None:
        a = call.args
        if a.get("event_id"):
            return await self.store.get(call.tenant, int(a["event_id"]))
        events = await self.store.upcoming(call.tenant, call.now - timedelta(hours=1))
        people = {p.lower() for p in a.get("people") or []}
        if people:
            hits = [e for e in events if people & {p.lower() for p in e["attendees"]}
                    or any(p in e["title"].lower() for p in people)]
            if hits:
                events = hits
        old = a.get("old") or {}
        if old.get("date"):
            events = [e for e in events if e["start"][:10] == old["date"]] or events
        if old.get("time"):
            events = [e for e in events if e["start"][11:16] == old["time"]] or events
        words = a.get("title_words") or []
        if words:
            hits = [e for e in events if any(w[:5] in e["title"].lower() for w in words)]
            events = hits or events
        return events[0] if events else None

    async def run(self, call: ToolCall) -> ToolResult:
        event = await self._target(call)
        if event is None:
            return ToolResult({"event": None}, say(call.lang, "Jag hittar inget möte att flytta.",
                                                   "I can't find an event to move."))
        new = call.args["new"]
        start = datetime.fromisoformat(event["start"])
        if "shift_s" in new:
            new_start = start + timedelta(seconds=int(new["shift_s"]))
        else:
            d = date.fromisoformat(new["date"]) if new.get("date") else start.date()
            t = time.fromisoformat(new["time"]) if new.get("time") else start.timetz().replace(tzinfo=None)
            new_start = datetime.combine(d, t, start.tzinfo)
        result = await self.store.move(call.tenant, event["id"], new_start)
        ev = result["event"]
        to_sv = re.sub(r"^på ", "", _span(ev, call.now.date(), "sv"))
        text = say(call.lang, f"Jag har flyttat {ev['title']} till {to_sv}.",
                   f"I've moved {ev['title']} to {_span(ev, call.now.date(), 'en')}.")
        return ToolResult(result, text + _conflict_text(result["conflicts"], call.lang))


_MOVE_STOP = frozenset({"flytta", "flyta", "mötet", "möte", "mitt", "boka", "ändra", "tiden", "skjut", "dagens",
                        "move", "meeting", "reschedule", "change", "time", "push", "back", "omboka", "kan", "du",
                        "vi", "lägg", "byta", "byt", "upp", "fram", "senarelägg", "tidigarelägg", "imorgon", "idag",
                        "från", "with", "klockan", "the", "my", "your", "that", "this"})


class CalendarListTool(Tool):
    name: ClassVar[str] = "calendar.list"
    description: ClassVar[str] = "List events. args: {from? (YYYY-MM-DD), to?, people?, next?}"

    def __init__(self, store: CalendarStore) -> None:
        self.store = store

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if slots.get("date_range"):
            args["from"], args["to"] = slots["date_range"]
        elif slots.get("date"):
            args["from"] = args["to"] = slots["date"]
        elif slots.get("datetime"):
            args["from"] = args["to"] = slots["datetime"][:10]
        if slots.get("people"):
            args["people"] = slots["people"]
        if re.search(r"\b(nästa|next|när)\b", text, re.I) and "from" not in args:
            args["next"] = True
        return args

    async def run(self, call: ToolCall) -> ToolResult:
        a = call.args
        today = call.now.date()
        tz = call.now.tzinfo
        if a.get("next") or a.get("people"):
            events = await self.store.upcoming(call.tenant, call.now)
            people = {p.lower() for p in a.get("people") or []}
            if people:
                events = [e for e in events if people & {p.lower() for p in e["attendees"]}
                          or any(p in e["title"].lower() for p in people)]
            if not events:
                return ToolResult({"events": []}, say(call.lang, "Jag hittar inget sådant inbokat.",
                                                      "I can't find anything like that booked."))
            ev = events[0]
            return ToolResult({"events": events[:1]},
                              say(call.lang, f"{ev['title']} är {_span(ev, today, 'sv')}.",
                                  f"{ev['title']} is {_span(ev, today, 'en')}."))
        first = date.fromisoformat(a["from"]) if a.get("from") else today
        last = date.fromisoformat(a["to"]) if a.get("to") else first
        start = datetime.combine(first, time(0, 0), tz)
        end = datetime.combine(last + timedelta(days=1), time(0, 0), tz)
        events = await self.store.list(call.tenant, start, end)
        when = day_phrase(first, today, call.lang) if first == last else say(
            call.lang, f"{first:%-d/%-m}–{last:%-d/%-m}", f"{first:%-d/%-m}–{last:%-d/%-m}")
        if not events:
            return ToolResult({"events": []}, say(call.lang, f"Du har inget inbokat {when}.",
                                                  f"You have nothing booked {when}."))
        items = ", ".join(f"{datetime.fromisoformat(e['start']):%H:%M} {e['title']}" if first == last else
                          f"{day_phrase(datetime.fromisoformat(e['start']).date(), today, call.lang)} "
                          f"{datetime.fromisoformat(e['start']):%H:%M} {e['title']}" for e in events)
        n = len(events)
        return ToolResult({"events": events},
                          say(call.lang, f"{when.capitalize()} har du {n} {'händelse' if n == 1 else 'händelser'}: "
                                         f"{items}.",
                              f"{when.capitalize()} you have {n} event{'s' if n != 1 else ''}: {items}."))
