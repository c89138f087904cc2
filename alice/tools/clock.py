"""Clock and date: "Klockan är 14:05.", "Idag är det lördag den 28 november 2026."."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from alice.tools._format import long_date
from alice.tools.base import Tool, ToolCall, ToolResult, say

__all__ = ["CITY_ZONES", "DateTool", "TimeTool"]

# Display name (as alice.nlu.entities returns it) -> IANA zone.
CITY_ZONES = {
    "Stockholm": "Europe/Stockholm", "Göteborg": "Europe/Stockholm", "Malmö": "Europe/Stockholm",
    "Oslo": "Europe/Oslo", "Köpenhamn": "Europe/Copenhagen", "Helsingfors": "Europe/Helsinki",
    "London": "Europe/London", "Paris": "Europe/Paris", "Berlin": "Europe/Berlin", "Madrid": "Europe/Madrid",
    "Rom": "Europe/Rome", "Amsterdam": "Europe/Amsterdam", "Reykjavik": "Atlantic/Reykjavik",
    "Tallinn": "Europe/Tallinn", "Riga": "Europe/Riga", "New York": "America/New_York",
    "Los Angeles": "America/Los_Angeles", "Tokyo": "Asia/Tokyo", "Bangkok": "Asia/Bangkok",
    "Peking": "Asia/Shanghai", "Dubai": "Asia/Dubai", "Sydney": "Australia/Sydney",
}


class TimeTool(Tool):
    name: ClassVar[str] = "clock.time"
    description: ClassVar[str] = "The current time, here or in a named city. args: {place?}"

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        return {"place": slots["place"]} if slots.get("place") in CITY_ZONES else {}

    async def run(self, call: ToolCall) -> ToolResult:
        place = call.args.get("place")
        now = call.now
        if place and place in CITY_ZONES:
            now = now.astimezone(ZoneInfo(CITY_ZONES[place]))
        hhmm = now.strftime("%H:%M")
        data = {"time": hhmm, "iso": now.isoformat(timespec="seconds"), "zone": str(now.tzinfo)}
        if place and place in CITY_ZONES and now.utcoffset() != call.now.utcoffset():
            data["place"] = place
            return ToolResult(data, say(call.lang, f"I {place} är klockan {hhmm}.", f"In {place} it is {hhmm}."))
        return ToolResult(data, say(call.lang, f"Klockan är {hhmm}.", f"It is {hhmm}."))


class DateTool(Tool):
    name: ClassVar[str] = "clock.date"
    description: ClassVar[str] = "Today's (or a given day's) date, weekday and week number. args: {date?}"

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if slots.get("date"):
            args["date"] = slots["date"]
        if re.search(r"\b(vecka|veckan|veckonummer|week)\b", text, re.I):
            args["week"] = True
        return args

    async def run(self, call: ToolCall) -> ToolResult:
        today = call.now.date()
        d = date.fromisoformat(call.args["date"]) if call.args.get("date") else today
        week = d.isocalendar().week
        data = {"date": d.isoformat(), "weekday": d.weekday(), "week": week}
        text_sv = long_date(d, "sv")
        text_en = long_date(d, "en")
        delta = (d - today).days
        if delta == 0:
            lead_sv, lead_en = "Idag är det", "Today is"
        elif delta == 1:
            lead_sv, lead_en = "Imorgon är det", "Tomorrow is"
        elif delta == -1:
            lead_sv, lead_en = "Igår var det", "Yesterday was"
        else:
            lead_sv, lead_en = "Det är", "It is"
        sv = f"{lead_sv} {text_sv}."
        en = f"{lead_en} {text_en}."
        if call.args.get("week"):
            sv += f" Det är vecka {week}."
            en += f" It is week {week}."
        return ToolResult(data, say(call.lang, sv, en))
