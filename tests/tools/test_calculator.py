import pytest

from alice.tools.base import ToolCall
from alice.tools.calculator import CalcError, CalculatorTool, phrase_to_expression, safe_eval


@pytest.mark.parametrize("text, value", [
    ("vad är 15 procent av 340", 51), ("roten ur 2", 2 ** 0.5), ("tre gånger sju", 21),
    ("vad är 144 delat med 12", 12), ("2 upphöjt till 10", 1024), ("vad är 3,5 gånger 4", 14),
    ("räkna ut (12 + 8) / 5", 4), ("hälften av 350", 175), ("moms på 1000 kr", 250), ("summera 120, 340 och 55", 515),
    ("17 i kvadrat", 289), ("tjugotre plus femton", 38), ("vad blir 45 minus 17", 28), ("12*7", 84),
    ("hur mycket är en tredjedel av 90", 30), ("what is 15 percent of 340", 51), ("square root of 81", 9),
    ("what's three times seven", 21),
])
def test_swedish_and_english_phrasing(text: str, value: float) -> None:
    assert safe_eval(phrase_to_expression(text)) == pytest.approx(value)


@pytest.mark.parametrize("expr", ["__import__('os').system('ls')", "open('/etc/passwd')", "().__class__",
                                  "x + 1", "[1, 2]", "lambda: 1", "9 ** 9 ** 9", "2 ** 5000", "'a' * 3"])
def test_anything_but_arithmetic_is_refused(expr: str) -> None:
    with pytest.raises(CalcError):
        safe_eval(expr)


async def test_tool_answers_in_swedish_with_a_decimal_comma(now) -> None:
    tool = CalculatorTool()
    args = tool.args_from("vad är 7 delat med 2", {}, now=now, lang="sv")
    result = await tool.run(ToolCall("t", args, now))
    assert result.text == "Det blir 3,5." and result.data["value"] == 3.5
    en = await tool.run(ToolCall("t", {"expression": "7/2"}, now, "en"))
    assert en.text == "That's 3.5."
    with pytest.raises(CalcError) as info:
        await tool.run(ToolCall("t", {"expression": "1/0"}, now))
    assert info.value.say("sv") == "Det går inte att dela med noll."
    assert tool.args_from("__import__('os')", {}, now=now, lang="sv") == {}
