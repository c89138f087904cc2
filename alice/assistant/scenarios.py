"""`alice eval assistant`: multi-turn scenarios with expected intents, tools, slots and replies.

    scenarios:
      - name: book a meeting step by step
        now: "2026-11-28T10:00:00+01:00"      # optional; fixes "now" for the whole scenario
        turns:
          - user: Jag behöver boka ett möte
            expect: {intent: calendar.create_draft, route: tool, awaiting: people}
          - user: Med Anna imorgon
            expect: {awaiting: time, slots: {people: [Anna]}}
          - user: Klockan 14
            expect: {tool: calendar.create_draft, reply_contains: "Möte med Anna"}

Each scenario runs in a fresh assistant (its own temporary state dir) whose `complete` answers
"[tier]" without a model, so the result measures understanding and tools, not an LLM.
Expectation keys: intent, route, tool (the tool that ran, or null), awaiting, lang,
reply_contains (text or list), slots (a subset that must match).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from alice.assistant.chat import handle_chat
from alice.assistant.context import AssistantContext, build_context
from alice.nlu.classifier import IntentClassifier

__all__ = ["load_scenarios", "run_scenarios"]

_KEYS = {"intent", "route", "tool", "awaiting", "lang", "reply_contains", "slots"}


def load_scenarios(path: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        raise ValueError(f"{path}: expected a mapping with a `scenarios:` list")
    for n, sc in enumerate(doc["scenarios"]):
        if not isinstance(sc, dict) or not isinstance(sc.get("turns"), list) or not sc["turns"]:
            raise ValueError(f"{path}: scenarios[{n}] needs a non-empty `turns` list")
        for m, turn in enumerate(sc["turns"]):
            if not isinstance(turn, dict) or not isinstance(turn.get("user"), str):
                raise ValueError(f"{path}: scenarios[{n}].turns[{m}] needs a `user` text")
            unknown = set(turn.get("expect") or {}) - _KEYS
            if unknown:
                raise ValueError(f"{path}: scenarios[{n}].turns[{m}].expect: unknown key(s) {sorted(unknown)}")
    return doc["scenarios"]


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


def _check(expect: dict[str, Any], out: dict[str, Any]) -> list[str]:
    problems = []
    ran = (out.get("tool") or {}).get("name")
    for key, want in expect.items():
        if key == "tool":
            ok = ran == want
            got: Any = ran
        elif key == "reply_contains":
            wants = [want] if isinstance(want, str) else list(want)
            ok = all(w.lower() in out["reply"].lower() for w in wants)
            got = out["reply"]
        elif key == "slots":
            ok = _subset(want, out.get("slots", {}))
            got = out.get("slots")
        else:
            got = out.get(key)
            ok = got == want
        if not ok:
            problems.append(f"{key}: expected {want!r}, got {got!r}")
    return problems


async def _complete(messages: list[dict[str, Any]], tier: str) -> str:
    return f"[{tier}]"


async def run_scenarios(path: Path, *, make_context: Any = None) -> dict[str, Any]:
    """Run every scenario; `make_context(state_dir, clock)` may build the assistant (tests pass one)."""
    from alice.config import load_config

    scenarios = load_scenarios(path)
    report: list[dict[str, Any]] = []
    classifier: IntentClassifier | None = None
    turns = intents_ok = intents_n = tools_ok = tools_n = slots_ok = slots_n = 0
    for sc in scenarios:
        fixed = datetime.fromisoformat(sc["now"]) if sc.get("now") else None
        with tempfile.TemporaryDirectory(prefix="alice-scenario-") as tmp:
            clock = (lambda f=fixed: f) if fixed else None
            ctx: AssistantContext = (make_context(Path(tmp), clock) if make_context is not None else
                                     build_context(load_config(None), complete=_complete, state_dir=tmp, clock=clock))
            # every scenario gets fresh tools and sessions, but the intent model is built only once
            if classifier is None:
                classifier = ctx.classifier
            ctx.classifier = classifier
            await ctx.start()
            failures: list[str] = []
            try:
                for n, turn in enumerate(sc["turns"]):
                    out = await handle_chat({"message": turn["user"], "session_id": "scenario"}, tenant="eval",
                                            ctx=ctx)
                    expect = turn.get("expect") or {}
                    turns += 1
                    if "intent" in expect:
                        intents_n += 1
                        intents_ok += out["intent"] == expect["intent"]
                    if "tool" in expect:
                        tools_n += 1
                        tools_ok += (out.get("tool") or {}).get("name") == expect["tool"]
                    if "slots" in expect:
                        slots_n += 1
                        slots_ok += _subset(expect["slots"], out.get("slots", {}))
                    failures += [f"turn {n + 1} ({turn['user']!r}): {p}" for p in _check(expect, out)]
            finally:
                await ctx.close()
        report.append({"name": sc.get("name", f"scenario {len(report) + 1}"), "passed": not failures,
                       "failures": failures})
    return {
        "scenarios": len(report), "passed": sum(r["passed"] for r in report), "turns": turns,
        "intent_accuracy": round(intents_ok / intents_n, 4) if intents_n else None,
        "tool_accuracy": round(tools_ok / tools_n, 4) if tools_n else None,
        "slot_accuracy": round(slots_ok / slots_n, 4) if slots_n else None,
        "results": report,
    }
