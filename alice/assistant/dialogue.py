"""Multi-turn understanding: slot filling with clarifying questions, and context carry-over.

Given the classifier's view of one message and the session's state, decide what the user means:

- `new`: a fresh request (the classifier's intent, the message's own arguments);
- `continue`: the answer to a clarifying question ("Med vem och när?" -> "Med Anna imorgon"); the
  message's arguments are merged into the pending request, whatever the classifier thinks of the
  bare answer, unless it is clearly a different request;
- `carry`: a short elliptical follow-up ("och i Malmö?") that reuses the previous request with
  the new arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alice.nlu.classifier import IntentResult
from alice.nlu.registry import OUT_OF_SCOPE, IntentRegistry
from alice.nlu.slots import extract_slots
from alice.tools.registry import ToolRegistry

__all__ = ["CARRY_OVER_TOOLS", "Resolution", "resolve"]

CARRY_OVER_TOOLS = frozenset({"weather.forecast", "clock.time", "clock.date", "calendar.list"})
# A different request this confident interrupts slot filling; below it, the message is an answer.
SWITCH_CONFIDENCE = 0.8
_FOLLOW_UP = re.compile(r"^\s*(och|än|men|samma|hur\s+är\s+det|what\s+about|and|how\s+about)\b", re.I)
_CARRY_KEYS = ("place", "date")


@dataclass(slots=True)
class Resolution:
    mode: str  # new | continue | carry
    intent: str
    confidence: float
    tool: str | None
    args: dict[str, Any]
    slots: dict[str, Any]
    reasons: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)


def _tool_for(registry: IntentRegistry, intent: str) -> str | None:
    return registry[intent].tool if intent in registry else None


def _args(tools: ToolRegistry, tool: str | None, text: str, slots: dict[str, Any], now: datetime, lang: str
          ) -> dict[str, Any]:
    if tool is None or tool not in tools:
        return {}
    return tools.get(tool).args_from(text, slots, now=now, lang=lang)


def resolve(text: str, *, lang: str, result: IntentResult, session: dict[str, Any], registry: IntentRegistry,
            tools: ToolRegistry, now: datetime) -> Resolution:
    pending = session.get("pending")
    if pending:
        res = _continue(text, lang, result, pending, registry, tools, now)
        if res is not None:
            return res
    tool = _tool_for(registry, result.intent)
    slots = extract_slots(text, now=now, lang=lang, intent=result.intent)
    last = session.get("last")
    if last and last.get("tool") in CARRY_OVER_TOOLS and len(text.split()) <= 6:
        weak = result.confidence < 0.6 or result.intent in (OUT_OF_SCOPE, "smalltalk") or _FOLLOW_UP.match(text)
        same_family = result.intent == last["intent"]
        if weak or same_family:
            new = _args(tools, last["tool"], text, slots, now, lang)
            if any(k in new for k in _CARRY_KEYS) and (weak or same_family):
                kept = {k: v for k, v in last.get("args", {}).items() if k in _CARRY_KEYS and k not in new}
                # a new day keeps the place and vice versa; anything else comes from this message
                args = {**kept, **new}
                return Resolution("carry", last["intent"], max(result.confidence, 0.6), last["tool"], args, slots,
                                  [f"follow-up of {last['intent']}: kept {sorted(kept)}"])
    return Resolution("new", result.intent, result.confidence, tool, _args(tools, tool, text, slots, now, lang),
                      slots)


def _continue(text: str, lang: str, result: IntentResult, pending: dict[str, Any], registry: IntentRegistry,
              tools: ToolRegistry, now: datetime) -> Resolution | None:
    """The pending request with this message's answer merged in, or None if the user moved on."""
    tool_name = pending["tool"]
    tool = tools.get(tool_name)
    slots = extract_slots(text, now=now, lang=lang, intent=pending["intent"])
    new = tool.args_from(text, slots, now=now, lang=lang)
    new.pop("title_hint", None)  # the title comes from the first message, not from "klockan 14"
    awaiting = pending.get("awaiting")
    if awaiting in tool.free_text and awaiting not in new:
        new[awaiting] = text.strip()
    meaningful = {k for k, v in new.items() if v not in (None, "", [], {}) and k != "action"}
    other = result.intent != pending["intent"] and result.intent != OUT_OF_SCOPE
    if other and result.confidence >= SWITCH_CONFIDENCE and not meaningful:
        return None
    if not meaningful and result.intent == pending["intent"]:
        meaningful = set(new)
    if not meaningful and other and result.confidence >= 0.5 and registry[result.intent].route == "tool":
        return None
    args = {**pending.get("args", {}), **new}
    reasons = [f"slot filling for {pending['intent']}: got {sorted(meaningful) or 'nothing new'}"]
    return Resolution("continue", pending["intent"], max(result.confidence, pending.get("confidence", 0.0)),
                      tool_name, args, slots, reasons, list(pending.get("asked", [])))
