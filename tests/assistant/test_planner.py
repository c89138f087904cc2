import pytest

from alice.assistant.planner import PlanError, llm_plan, parse_plan, repair_json
from alice.tools.calculator import CalculatorTool
from alice.tools.clock import TimeTool

TOOLS = ["clock.time", "calculator", "timer.start"]


@pytest.mark.parametrize("raw", [
    '{"steps": [{"tool": "clock.time", "args": {}}]}',
    'Here is the plan:\n```json\n{"steps": [{"tool": "clock.time", "args": {},},]}\n```',
    "{'steps': [{'tool': 'clock.time', 'args': {}}]}",
    '{steps: [{tool: "clock.time", args: {}}]}',
    '{"tool": "clock.time", "args": {}}',
])
def test_plans_are_repaired(raw: str) -> None:
    plan = parse_plan(raw, TOOLS)
    assert [s.tool for s in plan.steps] == ["clock.time"]


@pytest.mark.parametrize("raw, why", [
    ("I cannot do that", "no JSON"),
    ('{"steps": []}', "at least 1"),
    ('{"steps": [{"tool": "rm.rf", "args": {}}]}', "unknown tool"),
    ('{"steps": [{"tool": "clock.time", "args": 5}]}', "args"),
])
def test_invalid_plans_are_rejected_with_a_reason(raw: str, why: str) -> None:
    with pytest.raises(PlanError, match=why):
        parse_plan(raw, TOOLS)
    assert repair_json('{"a": 1,}') == {"a": 1}


async def test_llm_plan_re_asks_once_with_the_error(now) -> None:
    answers = ["nope", '{"steps": [{"tool": "calculator", "args": {"expression": "2+2"}}]}']
    seen: list[list[dict]] = []

    async def complete(messages, tier):
        assert tier == "planner"
        seen.append(messages)
        return answers[len(seen) - 1]

    plan, notes = await llm_plan("räkna 2+2", complete=complete, tools=[TimeTool(), CalculatorTool()], now=now,
                                 lang="sv")
    assert plan is not None and plan.steps[0].args == {"expression": "2+2"}
    assert len(seen) == 2 and "not a valid plan" in seen[1][-1]["content"] and notes[-1] == "plan valid on attempt 2"

    async def hopeless(messages, tier):
        return "still no"

    plan, notes = await llm_plan("x", complete=hopeless, tools=[TimeTool()], now=now, lang="sv")
    assert plan is None and len(notes) == 2
