import socket
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from alice.assistant import AssistantContext, ChatInputError, MemorySessionStore, handle_chat
from alice.assistant.scenarios import run_scenarios
from alice.route import Router
from alice.tools import build_toolbox

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
SCENARIOS = Path(__file__).resolve().parents[2] / "alice" / "assistant" / "scenarios.yaml"


async def no_llm(messages, tier):
    pytest.fail(f"a tool route called the LLM (tier {tier}): {messages[-1]}")


def make_ctx(tmp_path: Path, classifier, complete=no_llm, tools: dict | None = None, clock=None) -> AssistantContext:
    box = build_toolbox(tools or {}, tmp_path, classifier.embedder)
    return AssistantContext(classifier=classifier, tools=box.registry, router=Router(), sessions=MemorySessionStore(),
                            complete=complete, clock=clock or (lambda: NOW), toolbox=box)


async def chat(ctx, message, session="s1", **kw):
    return await handle_chat({"message": message, "session_id": session, **kw}, tenant="t1", ctx=ctx)


async def test_meeting_is_booked_over_three_turns_without_any_llm_call(tmp_path, classifier) -> None:
    ctx = make_ctx(tmp_path, classifier)
    first = await chat(ctx, "Jag behöver boka ett möte")
    assert first["reply"] == "Med vem och när?" and first["route"] == "tool" and first["awaiting"] == "people"
    assert first["intent"] == "calendar.create_draft" and first["tool"] is None and first["cache"] == "never"
    second = await chat(ctx, "Med Anna imorgon")
    assert second["reply"] == "Vilken tid?" and second["slots"]["people"] == ["Anna"]
    assert second["slots"]["date"] == "2026-11-29" and second["intent"] == "calendar.create_draft"
    third = await chat(ctx, "Klockan 14")
    assert third["tool"]["name"] == "calendar.create_draft"
    event = third["tool"]["result"]["event"]
    assert event["start"] == "2026-11-29T14:00:00+01:00" and event["attendees"] == ["Anna"]
    assert third["reply"] == "Jag har lagt in ett utkast i kalendern: Möte med Anna imorgon kl 14:00–15:00."
    stored = await ctx.toolbox.calendar.upcoming("t1", NOW)
    assert [e["title"] for e in stored] == ["Möte med Anna"]
    assert set(third) >= {"reply", "intent", "confidence", "slots", "route", "tool", "cache", "latency_ms"}
    assert third["latency_ms"] > 0
    await ctx.close()


async def test_english_input_gets_an_english_reply(tmp_path, classifier) -> None:
    ctx = make_ctx(tmp_path, classifier)
    r = await chat(ctx, "What time is it?")
    assert r["reply"] == "It is 10:00." and r["lang"] == "en" and r["intent"] == "time.now"
    r = await chat(ctx, "Set a timer for five minutes")
    assert r["reply"] == "Timer set for 5 minutes."
    r = await chat(ctx, "Vad är klockan?", session="s2")
    assert r["reply"] == "Klockan är 10:00." and r["lang"] == "sv"
    await ctx.close()


@pytest.mark.parametrize("body, message", [
    ({}, "`message` is required"), ({"message": "   "}, "must not be empty"), ({"message": 5}, "must be a string"),
    ({"message": "hej", "lang": "de"}, "`lang`"), ({"message": "hej", "session_id": 7}, "session_id"),
    ({"message": "x" * 9000}, "longer than"),
])
async def test_invalid_input_raises_a_value_error(tmp_path, classifier, body, message) -> None:
    ctx = make_ctx(tmp_path, classifier)
    with pytest.raises(ChatInputError, match=message) as info:
        await handle_chat(body, tenant="t", ctx=ctx)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ChatInputError):
        await handle_chat("not a dict", tenant="t", ctx=ctx)  # type: ignore[arg-type]
    await ctx.close()


async def test_questions_go_to_the_model_tier_with_history(tmp_path, classifier) -> None:
    calls = []

    async def complete(messages, tier):
        calls.append((tier, messages))
        return "Gustav Vasa var kung av Sverige."

    ctx = make_ctx(tmp_path, classifier, complete)
    await chat(ctx, "Vad är klockan?")
    r = await chat(ctx, "Vem var Gustav Vasa?")
    assert r["route"] == "micro" and r["reply"] == "Gustav Vasa var kung av Sverige." and r["cache"] == "long"
    tier, messages = calls[0]
    assert tier == "micro" and messages[0]["role"] == "system" and "svenska" in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": "Vad är klockan?"} and messages[-1]["content"].startswith("Vem")

    async def broken(messages, tier):
        raise RuntimeError("upstream down")

    ctx.complete = broken
    r = await chat(ctx, "Varför är himlen blå?")
    assert r["reply"] == "Jag kan inte svara på det just nu."
    await ctx.close()


async def test_two_tool_actions_are_planned_locally(tmp_path, classifier) -> None:
    ctx = make_ctx(tmp_path, classifier)
    r = await chat(ctx, "Sätt en timer på tre minuter och säg vad klockan är")
    assert r["route"] == "planner" and r["reply"] == "Timern är satt på 3 minuter. Klockan är 10:00."
    assert [s["name"] for s in r["tool"]["result"]["steps"]] == ["timer.start", "clock.time"]
    await ctx.close()


async def test_planner_asks_the_llm_for_a_plan_when_clauses_are_not_tools(tmp_path, classifier) -> None:
    tiers = []

    async def complete(messages, tier):
        tiers.append(tier)
        return '```json\n{"steps": [{"tool": "calculator", "args": {"expression": "6*7"}},]}\n```'

    ctx = make_ctx(tmp_path, classifier, complete)
    r = await chat(ctx, "Vad är meningen med livet och räkna sedan ut sex gånger sju")
    assert r["route"] == "planner" and tiers == ["planner"] and r["reply"] == "Det blir 42."
    await ctx.close()


async def test_follow_up_carries_the_previous_request_over(tmp_path, classifier) -> None:
    ctx = make_ctx(tmp_path, classifier)
    await chat(ctx, "Vad är klockan i Tokyo?")
    r = await chat(ctx, "och i London?")
    assert r["tool"]["name"] == "clock.time" and r["reply"] == "I London är klockan 09:00."
    await ctx.close()


async def test_tenant_permissions_and_cancelling_a_question(tmp_path, classifier) -> None:
    ctx = make_ctx(tmp_path, classifier)
    r = await handle_chat({"message": "Sätt en timer på fem minuter", "session_id": "p"}, tenant="kiosk", ctx=ctx,
                          allowed_tools={"clock"})
    assert r["reply"] == "Det får jag tyvärr inte göra åt dig här." and r["tool"] is None
    assert await ctx.toolbox.timers.running("kiosk") == []
    q = await chat(ctx, "Starta en timer")
    assert q["reply"] == "Hur länge ska timern gå?" and q["awaiting"] == "duration_s"
    c = await chat(ctx, "avbryt")
    assert c["reply"] == "Okej, jag avbryter." and c["awaiting"] is None
    await ctx.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.mark.integration
async def test_email_is_sent_only_after_ja(tmp_path, classifier) -> None:
    inbox = _Inbox()
    port = _free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        ctx = make_ctx(tmp_path, classifier, tools={"smtp": {"host": "127.0.0.1", "port": port,
                                                             "sender": "alice@example.com"}})
        r = await chat(ctx, "Skriv ett mejl till erik@example.com om att jag blir sen")
        assert r["reply"].endswith("Ska jag skicka det? (ja/nej)") and r["awaiting"] == "confirmation"
        assert inbox.messages == []
        r = await chat(ctx, "ja")
        assert r["reply"] == "Mejlet till erik@example.com är skickat." and r["tool"]["name"] == "email.send"
        assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "erik@example.com"
        await chat(ctx, "Skriv ett mejl till anna@example.com om att mötet är flyttat")
        r = await chat(ctx, "nej")
        assert r["reply"].startswith("Okej, jag skickar inte") and len(inbox.messages) == 1
        await ctx.close()
    finally:
        server.stop()


async def test_sessions_expire_after_their_ttl() -> None:
    t = [0.0]
    store = MemorySessionStore(clock=lambda: t[0])
    await store.put("k", {"a": 1}, ttl_s=10)
    assert await store.get("k") == {"a": 1}
    t[0] = 11
    assert await store.get("k") is None and len(store) == 0


@pytest.mark.integration
async def test_redis_session_store(redis_server) -> None:
    from alice.assistant import RedisSessionStore

    store = RedisSessionStore(redis_server, prefix="test:")
    await store.put("k", {"pending": {"intent": "timer.start"}}, ttl_s=5)
    assert await store.get("k") == {"pending": {"intent": "timer.start"}}
    assert await store.get("missing") is None
    await store.close()


async def test_the_shipped_example_scenarios_pass(classifier) -> None:
    def make(state_dir, clock):
        async def complete(messages, tier):
            return f"[{tier}]"

        return make_ctx(state_dir, classifier, complete, clock=clock)

    result = await run_scenarios(SCENARIOS, make_context=make)
    failures = [f for r in result["results"] for f in r["failures"]]
    assert failures == [] and result["passed"] == result["scenarios"] >= 5
    assert result["intent_accuracy"] == 1.0 and result["tool_accuracy"] == 1.0


def test_now_moves_with_the_context_clock(tmp_path, classifier) -> None:
    later = NOW + timedelta(hours=1)
    assert make_ctx(tmp_path, classifier, clock=lambda: later).now() == later


async def test_a_clear_tool_turn_is_answered_by_the_cascade_without_the_e5_embedding(tmp_path, classifier,
                                                                                      monkeypatch) -> None:
    def no_e5(text):
        raise AssertionError("the main embedding was computed for a turn the fast stage was sure of")

    ctx = make_ctx(tmp_path, classifier)
    monkeypatch.setattr(classifier, "embed", no_e5)
    r = await chat(ctx, "Vad är klockan?")
    assert r["reply"] == "Klockan är 10:00." and r["route"] == "tool"
    assert any(reason.startswith("cascade:static:") for reason in r["reasons"])
    await ctx.close()
