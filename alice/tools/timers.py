"""Timers: persistent in SQLite, listed and cancelled per tenant, and announced when due.

`TimerService` owns the table and one background task that sleeps until the next timer is due,
marks it fired and puts a `TimerEvent` on every subscriber's queue (`subscribe()`), so a
voice front end or an SSE endpoint can announce it. Due times are wall-clock epoch seconds, so
timers survive a restart; those that fell due while the process was down fire at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from alice.nlu.numbers import words_to_digits
from alice.tools._format import duration
from alice.tools._sqlite import SqliteDB
from alice.tools.base import Tool, ToolCall, ToolResult, say

__all__ = ["TimerCancelTool", "TimerEvent", "TimerService", "TimerStartTool", "TimerStatusTool"]

log = logging.getLogger("alice.tools.timers")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    label TEXT,
    duration_s INTEGER NOT NULL,
    created_at REAL NOT NULL,
    due_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE INDEX IF NOT EXISTS timers_due ON timers(status, due_at);
"""
_MAX_DURATION_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class TimerEvent:
    tenant: str
    timer_id: int
    label: str | None
    duration_s: int
    due_at: float

    def text(self, lang: str = "sv") -> str:
        if self.label:
            return say(lang, f"Tiden är ute för {self.label}!", f"Time's up for the {self.label}!")
        d = duration(self.duration_s, lang)
        return say(lang, f"Timern på {d} är klar!", f"Your {d} timer is done!")


class TimerService:
    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.db = SqliteDB(path, _SCHEMA)
        self._clock = clock
        self._changed = asyncio.Event()
        self._subscribers: set[asyncio.Queue[TimerEvent]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # --- lifecycle and notifications ---------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="alice-timers")

    async def close(self) -> None:
        if self._task is not None:
            # Ask the loop to stop rather than cancel it mid-statement; cancel only if it does not.
            self._closing = True
            self._changed.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        self.db.close()

    def subscribe(self) -> asyncio.Queue[TimerEvent]:
        q: asyncio.Queue[TimerEvent] = asyncio.Queue()
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[TimerEvent]) -> None:
        self._subscribers.discard(q)

    async def _run(self) -> None:
        while not self._closing:
            try:
                wait = await self._fire_due()
            except Exception:  # a broken row must not kill the notifier
                log.exception("timer loop failed; retrying")
                wait = 1.0
            if self._closing:
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._changed.wait()

    async def _fire_due(self) -> float:
        """Fire every due timer; return seconds until the next one (or a long idle wait)."""
        now = self._clock()
        due = await self.db.fetch("SELECT * FROM timers WHERE status='running' AND due_at <= ? ORDER BY due_at",
                                  (now,))
        for row in due:
            changed = await self.db.execute("UPDATE timers SET status='fired' WHERE id=? AND status='running'",
                                            (row["id"],))
            if changed:
                event = TimerEvent(row["tenant"], row["id"], row["label"], row["duration_s"], row["due_at"])
                for q in list(self._subscribers):
                    q.put_nowait(event)
        nxt = await self.db.fetch("SELECT MIN(due_at) AS due FROM timers WHERE status='running'")
        if nxt and nxt[0]["due"] is not None:
            return max(0.0, float(nxt[0]["due"]) - self._clock())
        return 3600.0

    # --- operations ----------------------------------------------------------------------
    async def start_timer(self, tenant: str, duration_s: int, label: str | None = None) -> dict[str, Any]:
        now = self._clock()
        tid = await self.db.execute(
            "INSERT INTO timers (tenant, label, duration_s, created_at, due_at) VALUES (?, ?, ?, ?, ?)",
            (tenant, label, int(duration_s), now, now + duration_s))
        self._changed.set()
        return {"id": tid, "label": label, "duration_s": int(duration_s), "due_at": now + duration_s}

    async def running(self, tenant: str) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT * FROM timers WHERE tenant=? AND status='running' ORDER BY due_at", (tenant,))
        now = self._clock()
        for r in rows:
            r["remaining_s"] = max(0, round(r["due_at"] - now))
        return rows

    async def cancel(self, tenant: str, *, label: str | None = None, cancel_all: bool = False) -> list[dict[str, Any]]:
        rows = await self.running(tenant)
        if label:
            rows = [r for r in rows if r["label"] and label.lower() in r["label"].lower()] or rows[-1:]
        elif not cancel_all:
            rows = sorted(rows, key=lambda r: r["created_at"])[-1:]  # "stoppa timern": the last one started
        for r in rows:
            await self.db.execute("UPDATE timers SET status='cancelled' WHERE id=?", (r["id"],))
        if rows:
            self._changed.set()
        return rows


_LABEL = re.compile(r"\b(?:för|till|for)\s+(?:the\s+|den\s+|det\s+|my\s+)?([a-zåäö]{3,})\b", re.I)
_COMPOUND_LABEL = re.compile(r"\b([a-zåäö]{3,})timer(?:n)?\b", re.I)
_NOT_LABELS = frozenset({"mig", "dig", "oss", "minuter", "minut", "timme", "timmar", "sekunder", "minutes", "hours",
                         "seconds", "an", "one", "att", "när", "ägg", "min", "tiden", "om"})


def _label(text: str) -> str | None:
    text = words_to_digits(text)  # "for five minutes": a number, not a label
    m = _COMPOUND_LABEL.search(text)
    if m and m.group(1).lower() not in ("ägg", "ny", "den"):
        return m.group(1).lower()
    for m in _LABEL.finditer(text):
        word = m.group(1).lower()
        if word not in _NOT_LABELS and not word.isdigit():
            return word
    return None


class TimerStartTool(Tool):
    name: ClassVar[str] = "timer.start"
    description: ClassVar[str] = "Start a countdown timer. args: {duration_s, label?}"
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "duration_s": ("Hur länge ska timern gå?", "How long should the timer run?"),
    }

    def __init__(self, service: TimerService) -> None:
        self.service = service

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        secs = slots.get("duration_s") or slots.get("relative_s")
        if secs:
            args["duration_s"] = int(secs)
        label = _label(text)
        if label:
            args["label"] = label
        return args

    async def run(self, call: ToolCall) -> ToolResult:
        secs = int(call.args["duration_s"])
        if not 0 < secs <= _MAX_DURATION_S:
            return ToolResult({"error": "duration"}, say(call.lang, "En timer kan gå mellan en sekund och en vecka.",
                                                         "A timer can run from one second to one week."))
        label = call.args.get("label")
        timer = await self.service.start_timer(call.tenant, secs, label)
        d = duration(secs, call.lang)
        if label:
            text = say(call.lang, f"Timern för {label} är satt på {d}.", f"Timer for the {label} set for {d}.")
        else:
            text = say(call.lang, f"Timern är satt på {d}.", f"Timer set for {d}.")
        return ToolResult({"timer": timer}, text)


class TimerCancelTool(Tool):
    name: ClassVar[str] = "timer.cancel"
    description: ClassVar[str] = "Cancel timers. args: {label?, all?}"

    def __init__(self, service: TimerService) -> None:
        self.service = service

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if re.search(r"\b(alla|all)\b", text, re.I):
            args["all"] = True
        label = _label(text)
        if label:
            args["label"] = label
        return args

    async def run(self, call: ToolCall) -> ToolResult:
        rows = await self.service.cancel(call.tenant, label=call.args.get("label"),
                                         cancel_all=bool(call.args.get("all")))
        if not rows:
            return ToolResult({"cancelled": []}, say(call.lang, "Du har ingen timer igång.",
                                                     "You have no timer running."))
        ids = [r["id"] for r in rows]
        if len(rows) == 1:
            r = rows[0]
            what = r["label"] or duration(r["duration_s"], call.lang)
            text = say(call.lang, f"Jag har stoppat timern ({what}).", f"I've stopped the timer ({what}).")
        else:
            text = say(call.lang, f"Jag har stoppat {len(rows)} timers.", f"I've stopped {len(rows)} timers.")
        return ToolResult({"cancelled": ids}, text)


class TimerStatusTool(Tool):
    name: ClassVar[str] = "timer.status"
    description: ClassVar[str] = "Running timers and the time left. args: {}"

    def __init__(self, service: TimerService) -> None:
        self.service = service

    async def run(self, call: ToolCall) -> ToolResult:
        rows = await self.service.running(call.tenant)
        data = {"timers": [{"id": r["id"], "label": r["label"], "remaining_s": r["remaining_s"]} for r in rows]}
        if not rows:
            return ToolResult(data, say(call.lang, "Du har ingen timer igång.", "You have no timer running."))
        if len(rows) == 1:
            left = duration(rows[0]["remaining_s"], call.lang)
            name = rows[0]["label"]
            return ToolResult(data, say(call.lang, f"Det är {left} kvar på timern" + (f" för {name}." if name else "."),
                                        f"There are {left} left on the timer" + (f" for the {name}." if name else ".")))
        parts = [f"{r['label'] or duration(r['duration_s'], call.lang)}: {duration(r['remaining_s'], call.lang)}"
                 for r in rows]
        return ToolResult(data, say(call.lang, f"Du har {len(rows)} timers igång. Kvar: " + "; ".join(parts) + ".",
                                    f"You have {len(rows)} timers running. Left: " + "; ".join(parts) + "."))
