from alice.tools.base import ToolCall
from alice.tools.clock import DateTool, TimeTool


async def test_clock_and_date_in_swedish(now) -> None:
    assert (await TimeTool().run(ToolCall("t", {}, now))).text == "Klockan är 14:05."
    assert (await DateTool().run(ToolCall("t", {}, now))).text == "Idag är det lördag den 28 november 2026."
    week = await DateTool().run(ToolCall("t", {"date": "2026-11-29", "week": True}, now))
    assert week.text == "Imorgon är det söndag den 29 november 2026. Det är vecka 48."


async def test_clock_in_another_city_and_in_english(now) -> None:
    tokyo = await TimeTool().run(ToolCall("t", {"place": "Tokyo"}, now))
    assert tokyo.text == "I Tokyo är klockan 22:05."
    assert (await TimeTool().run(ToolCall("t", {}, now, "en"))).text == "It is 14:05."
    assert (await DateTool().run(ToolCall("t", {}, now, "en"))).text == "Today is Saturday 28 November 2026."
