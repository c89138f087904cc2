"""The planner's tool plan: a JSON document validated against a schema, repaired or re-asked.

An LLM (planner tier) turns a multi-step request into `{"steps": [{"tool": …, "args": {…}}]}`.
Small models often wrap JSON in prose or code fences, use single quotes or leave trailing
commas: `parse_plan` repairs those; if the result still does not validate, `llm_plan` asks once
more with the validation error, then gives up (the caller falls back to a plain answer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alice.tools.base import Tool

__all__ = ["PLAN_SCHEMA", "Plan", "PlanError", "PlanStep", "llm_plan", "parse_plan", "repair_json"]


class PlanError(ValueError):
    """The planner's output is not a valid plan (message says why, to re-ask with)."""


class PlanStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1)
    args: dict[str, Any] = {}


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[PlanStep] = Field(min_length=1, max_length=5)
    reply: str | None = None


PLAN_SCHEMA = Plan.model_json_schema()


def repair_json(raw: str) -> Any:
    """Parse JSON from an LLM answer: strip fences and prose, fix quotes and trailing commas."""
    text = raw.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise PlanError("no JSON object found")
    text = text[start : end + 1]
    attempts = [text]
    fixed = re.sub(r",\s*([}\]])", r"\1", text)
    attempts.append(fixed)
    if "'" in fixed and '"' not in fixed:
        attempts.append(fixed.replace("'", '"'))
    attempts.append(re.sub(r"([{,]\s*)([A-Za-z_][\w]*)\s*:", r'\1"\2":', fixed))
    for candidate in attempts:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise PlanError("the JSON could not be parsed")


def parse_plan(raw: str, known_tools: Iterable[str]) -> Plan:
    data = repair_json(raw)
    if isinstance(data, dict) and "steps" not in data and "tool" in data:
        data = {"steps": [data]}  # a single step without the wrapper
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    known = set(known_tools)
    unknown = [s.tool for s in plan.steps if s.tool not in known]
    if unknown:
        raise PlanError(f"unknown tool(s) {unknown}; use only {sorted(known)}")
    return plan


def _prompt(tools: list[Tool], now: datetime, lang: str) -> str:
    lines = [f"- {t.name}: {t.description}" for t in tools]
    return (
        "You turn the user's request into a plan of tool calls. Tools:\n" + "\n".join(lines) + "\n"
        f"Now is {now.isoformat(timespec='minutes')} ({now.tzinfo}). Dates are YYYY-MM-DD, times HH:MM, "
        "durations in seconds.\nAnswer with one JSON object only, no prose, matching this JSON schema:\n"
        + json.dumps(PLAN_SCHEMA) + "\nExample: {\"steps\": [{\"tool\": \"timer.start\", \"args\": "
        "{\"duration_s\": 300}}, {\"tool\": \"clock.time\", \"args\": {}}]}"
        + ("" if lang == "en" else "\nThe user writes Swedish.")
    )


async def llm_plan(text: str, *, complete: Any, tools: list[Tool], now: datetime, lang: str) -> tuple[Plan | None,
                                                                                                     list[str]]:
    """Ask the planner tier for a plan; one re-ask with the error. Returns (plan or None, notes)."""
    names = [t.name for t in tools]
    messages: list[dict[str, Any]] = [{"role": "system", "content": _prompt(tools, now, lang)},
                                      {"role": "user", "content": text}]
    notes: list[str] = []
    for attempt in range(2):
        raw = await complete(messages, "planner")
        try:
            plan = parse_plan(raw, names)
            notes.append(f"plan valid on attempt {attempt + 1}")
            return plan, notes
        except PlanError as exc:
            notes.append(f"attempt {attempt + 1} invalid: {exc}")
            messages += [{"role": "assistant", "content": raw},
                         {"role": "user", "content": f"That was not a valid plan ({exc}). Answer with the JSON "
                                                     "object only."}]
    return None, notes
