"""The `/api/chat` logic: one user message in, one assistant turn out.

    result = await handle_chat({"message": "Vad är klockan?", "session_id": "abc"}, tenant="t1", ctx=ctx)
    # {"reply": "Klockan är 14:05.", "intent": "time.now", "confidence": 0.97, "slots": {…},
    #  "route": "tool", "tool": {"name": "clock.time", "args": {…}, "result": {…}}, "cache": "never",
    #  "latency_ms": 3.1, …}

Tool routes never call a language model. Micro/planner/deep routes call `ctx.complete`.
Input problems raise `ChatInputError` (a ValueError): the HTTP layer maps it to 400.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from typing import Any

from alice.assistant import replies
from alice.assistant.context import AssistantContext
from alice.assistant.dialogue import Resolution, resolve
from alice.assistant.planner import Plan, PlanStep, llm_plan
from alice.nlu.lang import detect_language
from alice.nlu.registry import OUT_OF_SCOPE
from alice.nlu.slots import extract_slots
from alice.route.router import RouteDecision
from alice.route.task import split_actions
from alice.tools._format import long_date
from alice.tools.base import ToolCall, ToolError, ToolResult
from alice.tools.registry import ToolRegistry

__all__ = ["MAX_MESSAGE_CHARS", "ChatInputError", "handle_chat"]

log = logging.getLogger("alice.assistant")

MAX_MESSAGE_CHARS = 8000
_MAX_HISTORY_MESSAGES = 40


class ChatInputError(ValueError):
    """The request body is not a valid chat turn; the message says what to fix."""


def _validate(body: Any) -> tuple[str, str, str | None]:
    if not isinstance(body, dict):
        raise ChatInputError("the body must be a JSON object with a `message` field")
    message = body.get("message")
    if message is None:
        raise ChatInputError("`message` is required")
    if not isinstance(message, str):
        raise ChatInputError("`message` must be a string")
    message = message.strip()
    if not message:
        raise ChatInputError("`message` must not be empty")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatInputError(f"`message` is longer than {MAX_MESSAGE_CHARS} characters")
    session_id = body.get("session_id")
    if session_id is None or session_id == "":
        session_id = uuid.uuid4().hex
    if not isinstance(session_id, str) or len(session_id) > 128:
        raise ChatInputError("`session_id` must be a string of at most 128 characters")
    lang = body.get("lang")
    if lang is not None and lang not in ("sv", "en"):
        raise ChatInputError("`lang` must be \"sv\" or \"en\"")
    return message, session_id, lang


class _Turn:
    """What this turn produced, gathered as it runs."""

    def __init__(self) -> None:
        self.reply = ""
        self.tool: dict[str, Any] | None = None
        self.reasons: list[str] = []
        self.awaiting: str | None = None


async def handle_chat(body: dict[str, Any], *, tenant: str, ctx: AssistantContext,
                      allowed_tools: frozenset[str] | set[str] | None = None) -> dict[str, Any]:
    """One assistant turn. `allowed_tools` (or the tenant's configured set) limits the tools used."""
    started = time.perf_counter()
    message, session_id, forced_lang = _validate(body)
    allowed = allowed_tools if allowed_tools is not None else ctx.allowed_tools(tenant)
    key = f"{tenant}:{session_id}"
    session = await ctx.sessions.get(key) or {}
    lang = forced_lang or detect_language(message, default=session.get("lang", "sv"))
    now = ctx.now()
    turn = _Turn()

    confirm = session.pop("confirm", None)
    if confirm is not None and (replies.is_yes(message) or replies.is_no(message)):
        return await _finish(ctx, key, session, message, lang, turn, started, session_id,
                             await _confirmation(ctx, tenant, confirm, message, lang, now, allowed, turn))
    if session.get("pending") and replies.is_cancel(message):
        session.pop("pending", None)
        turn.reply = replies.text("cancelled", lang)
        return await _finish(ctx, key, session, message, lang, turn, started, session_id,
                             _summary("cancel", 1.0, {}, "tool", "never", ["cancelled the pending request"]))

    result = await ctx.classifier.aclassify(message)
    res = resolve(message, lang=lang, result=result, session=session, registry=ctx.classifier.registry,
                  tools=ctx.tools, now=now)
    if res.mode != "continue":
        session.pop("pending", None)
    intent = ctx.classifier.registry[res.intent]
    history = session.get("history", [])
    if res.mode in ("continue", "carry"):
        decision = RouteDecision("tool", None, tuple(res.reasons), 0)
    else:
        decision = ctx.router.decide(message, intent=res.intent, confidence=res.confidence,
                                     intent_route=intent.route, has_tool=intent.tool is not None,
                                     context_chars=sum(len(m["content"]) for m in history), messages=len(history) + 1)
    turn.reasons = [*result.reasons, *res.reasons, *decision.reasons]
    cache = intent.cache if res.mode == "new" and decision.tier != "planner" else "never"

    if decision.tier == "tool":
        await _tool_turn(ctx, tenant, session, message, res, lang, now, allowed, turn)
        if turn.awaiting:
            cache = "never"  # a clarifying question depends on the conversation, not just the text
    elif decision.tier == "planner":
        await _planner_turn(ctx, tenant, session, message, lang, now, allowed, turn)
    else:
        turn.reply = await _llm_reply(ctx, history, message, lang, now, decision.tier,
                                      out_of_scope=res.intent == OUT_OF_SCOPE)
    summary = _summary(res.intent, res.confidence, res.slots, decision.tier, cache, turn.reasons)
    summary["route_detail"] = decision.as_dict()
    return await _finish(ctx, key, session, message, lang, turn, started, session_id, summary)


def _summary(intent: str, confidence: float, slots: dict[str, Any], route: str, cache: str,
             reasons: list[str]) -> dict[str, Any]:
    return {"intent": intent, "confidence": round(float(confidence), 4), "slots": slots, "route": route,
            "cache": cache, "reasons": reasons}


async def _finish(ctx: AssistantContext, key: str, session: dict[str, Any], message: str, lang: str, turn: _Turn,
                  started: float, session_id: str, summary: dict[str, Any]) -> dict[str, Any]:
    history = session.get("history", [])
    history += [{"role": "user", "content": message}, {"role": "assistant", "content": turn.reply}]
    session["history"] = history[-_MAX_HISTORY_MESSAGES:]
    session["lang"] = lang
    await ctx.sessions.put(key, session, ctx.session_ttl_s)
    out = {"reply": turn.reply, **summary, "tool": turn.tool, "session_id": session_id, "lang": lang,
           "awaiting": turn.awaiting}
    out["reasons"] = turn.reasons or summary.get("reasons", [])
    out["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return out


async def _run_tool(ctx: AssistantContext, tenant: str, name: str, args: dict[str, Any], lang: str, now: datetime,
                    allowed: frozenset[str] | set[str] | None) -> tuple[ToolResult | None, str]:
    """(result, reply text). Errors become a spoken reply, never an exception to the caller."""
    if not ToolRegistry.allowed(name, allowed):
        return None, replies.text("not_allowed", lang)
    try:
        result = await ctx.tools.run(name, ToolCall(tenant, args, now, lang), allowed=allowed)
    except ToolError as exc:
        return None, exc.say(lang)
    return result, result.text


async def _tool_turn(ctx: AssistantContext, tenant: str, session: dict[str, Any], message: str, res: Resolution,
                     lang: str, now: datetime, allowed: frozenset[str] | set[str] | None, turn: _Turn) -> None:
    if res.tool is None:
        if res.intent == "greeting.hello":  # a template answer: no LLM needed to say hello
            sv, en = replies.GREETING
            turn.reply = en if lang == "en" else sv
        else:  # a user-defined tool-route intent without a tool: let the micro tier answer
            turn.reply = await _llm_reply(ctx, session.get("history", []), message, lang, now,
                                          "micro", out_of_scope=False)
        return
    if not ToolRegistry.allowed(res.tool, allowed):
        turn.reply = replies.text("not_allowed", lang)
        return
    tool = ctx.tools.get(res.tool)
    asked = frozenset(res.asked)
    missing = tool.missing(res.args, asked)
    if missing:
        first = missing[0]
        turn.reply = tool.question(first, lang, missing)
        turn.awaiting = first
        newly_asked = {first} | ({"date"} if first == "people" else set())
        session["pending"] = {"intent": res.intent, "tool": res.tool, "args": res.args, "confidence": res.confidence,
                              "asked": sorted(asked | newly_asked), "awaiting": first}
        turn.reasons.append(f"asking for {first}")
        return
    session.pop("pending", None)
    if tool.outward:
        session["confirm"] = {"tool": res.tool, "args": res.args}
        turn.reply = replies.text("confirm_outward", lang)
        turn.awaiting = "confirmation"
        return
    result, turn.reply = await _run_tool(ctx, tenant, res.tool, res.args, lang, now, allowed)
    turn.tool = {"name": res.tool, "args": res.args, "result": result.data if result else None}
    if result is not None:
        session["last"] = {"intent": res.intent, "tool": res.tool, "args": res.args}
        if result.confirm is not None:
            name, args, question = result.confirm
            session["confirm"] = {"tool": name, "args": args, "question": question}
            turn.awaiting = "confirmation"


async def _confirmation(ctx: AssistantContext, tenant: str, confirm: dict[str, Any], message: str, lang: str,
                        now: datetime, allowed: frozenset[str] | set[str] | None, turn: _Turn) -> dict[str, Any]:
    if replies.is_no(message):
        turn.reply = replies.text("not_sent", lang)
        turn.reasons = ["confirmation declined"]
        return _summary("confirm.no", 1.0, {}, "tool", "never", turn.reasons)
    result, turn.reply = await _run_tool(ctx, tenant, confirm["tool"], confirm["args"], lang, now, allowed)
    turn.tool = {"name": confirm["tool"], "args": confirm["args"], "result": result.data if result else None}
    turn.reasons = [f"confirmed {confirm['tool']}"]
    return _summary("confirm.yes", 1.0, {}, "tool", "never", turn.reasons)


async def _llm_reply(ctx: AssistantContext, history: list[dict[str, str]], message: str, lang: str, now: datetime,
                     tier: str, *, out_of_scope: bool) -> str:
    if ctx.complete is None:
        return replies.text("no_llm", lang)
    now_text = f"{long_date(now.date(), lang)} {now:%H:%M}"
    keep = ctx.history_turns * 2
    messages = [{"role": "system", "content": replies.system_prompt(lang, now_text=now_text,
                                                                    out_of_scope=out_of_scope)},
                *(history[-keep:] if keep else []), {"role": "user", "content": message}]
    try:
        answer = (await ctx.complete(messages, tier)).strip()
    except Exception:  # the model tier failed: say so rather than fail the whole turn
        log.warning("complete() failed for tier %s", tier, exc_info=True)
        return replies.text("no_llm", lang)
    return answer or replies.text("no_llm", lang)


async def _local_plan(ctx: AssistantContext, message: str, lang: str, now: datetime) -> Plan | None:
    """A plan without an LLM: each clause classified on its own; only if every clause is a complete tool call."""
    steps: list[PlanStep] = []
    for clause in split_actions(message):
        result = await ctx.classifier.aclassify(clause)
        intent = ctx.classifier.registry[result.intent]
        if intent.route != "tool" or intent.tool is None or result.confidence < ctx.router.settings.tool_min_confidence:
            return None
        tool = ctx.tools.get(intent.tool)
        args = tool.args_from(clause, extract_slots(clause, now=now, lang=lang, intent=result.intent), now=now,
                              lang=lang)
        if tool.missing(args) or tool.outward:
            return None
        steps.append(PlanStep(tool=intent.tool, args=args))
    return Plan(steps=steps) if len(steps) >= 2 else None


async def _planner_turn(ctx: AssistantContext, tenant: str, session: dict[str, Any], message: str, lang: str,
                        now: datetime, allowed: frozenset[str] | set[str] | None, turn: _Turn) -> None:
    plan = await _local_plan(ctx, message, lang, now)
    if plan is not None:
        turn.reasons.append(f"local plan: {len(plan.steps)} tool steps, no LLM call")
    elif ctx.complete is not None:
        usable = [ctx.tools.get(n) for n in ctx.tools.names if ToolRegistry.allowed(n, allowed)]
        plan, notes = await llm_plan(message, complete=ctx.complete, tools=usable, now=now, lang=lang)
        turn.reasons += notes
    if plan is None:
        turn.reasons.append("no valid plan: answered by the deep tier")
        turn.reply = await _llm_reply(ctx, session.get("history", []), message, lang, now, "deep", out_of_scope=False)
        return
    texts: list[str] = []
    done: list[dict[str, Any]] = []
    for step in plan.steps:
        tool = ctx.tools.get(step.tool)
        missing = tool.missing(step.args)
        if missing:
            texts.append(tool.question(missing[0], lang, missing))
            break
        if tool.outward:  # never send anything from a plan without the user's yes
            session["confirm"] = {"tool": step.tool, "args": step.args}
            texts.append(replies.text("confirm_outward", lang))
            turn.awaiting = "confirmation"
            break
        result, text = await _run_tool(ctx, tenant, step.tool, step.args, lang, now, allowed)
        texts.append(text)
        done.append({"name": step.tool, "args": step.args, "result": result.data if result else None})
    turn.reply = " ".join(texts) or replies.text("plan_failed", lang)
    if done:
        turn.tool = {"name": "plan", "args": {"steps": [d["name"] for d in done]}, "result": {"steps": done}}
