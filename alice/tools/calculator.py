"""Calculator: Swedish and English arithmetic phrasing, evaluated safely via `ast` (never `eval`).

"15 procent av 340" -> 15/100*340, "roten ur 2" -> sqrt(2), "tre gånger sju" -> 3*7. The
evaluator accepts numbers, + - * / // % **, unary signs, parentheses and a few named functions;
anything else (names, attributes, calls to other things, huge powers) is refused.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from alice.nlu.numbers import words_to_digits
from alice.tools._format import number
from alice.tools.base import Tool, ToolCall, ToolError, ToolResult, say

__all__ = ["CalcError", "CalculatorTool", "phrase_to_expression", "safe_eval"]


class CalcError(ToolError):
    """The expression is not something the calculator will evaluate."""


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNOPS: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_FUNCS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt, "abs": abs, "round": round, "log": math.log10, "ln": math.log, "sin": math.sin,
    "cos": math.cos, "tan": math.tan,
}
_MAX_LEN = 300
_MAX_NODES = 100
_MAX_MAGNITUDE = 1e100


def _refuse() -> CalcError:
    return CalcError("Det där kan jag inte räkna ut.", "I can't calculate that.")


def safe_eval(expression: str) -> float:
    """Evaluate an arithmetic expression; raises CalcError for anything but arithmetic."""
    if len(expression) > _MAX_LEN:
        raise _refuse()
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise _refuse() from None
    if sum(1 for _ in ast.walk(tree)) > _MAX_NODES:
        raise _refuse()

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and (abs(right) > 1000 or (abs(left) > 1e6 and abs(right) > 10)):
                raise _refuse()
            try:
                value = _BINOPS[type(node.op)](left, right)
            except ZeroDivisionError:
                raise CalcError("Det går inte att dela med noll.", "You can't divide by zero.") from None
            if isinstance(value, complex) or abs(value) > _MAX_MAGNITUDE:
                raise _refuse()
            return value
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNOPS:
            return _UNOPS[type(node.op)](ev(node.operand))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS
                and not node.keywords and 1 <= len(node.args) <= 2):
            try:
                return float(_FUNCS[node.func.id](*(ev(a) for a in node.args)))
            except (ValueError, OverflowError):
                raise _refuse() from None
        raise _refuse()

    result = ev(tree)
    if isinstance(result, float) and (math.isnan(result) or math.isinf(result)):
        raise _refuse()
    return result


_NUM = r"\d+(?:\.\d+)?"
_REWRITES: list[tuple[str, str]] = [
    (r"(\d),(\d)", r"\1.\2"),  # Swedish decimal comma ("3,5"); list commas have a space after them
    (r"(\d)\s(?=\d{3}\b)", r"\1"),  # thousands separated by a space: "1 000"
    (rf"\bmoms(?:en)?\s+(?:på|av|for|on)\s+({_NUM})", r"(\1*25/100)"),
    (rf"({_NUM})\s*(?:%|procent|percent)\s*(?:av|of)\s*({_NUM})", r"(\1/100*\2)"),
    (rf"\b(?:hälften|halva|half)\s+(?:av|of)\s+({_NUM})", r"(\1/2)"),
    (rf"\b(?:en\s+)?tredjedel(?:en)?\s+(?:av)\s+({_NUM})|\b(?:a\s+)?third\s+of\s+({_NUM})", r"(\1\2/3)"),
    (rf"\b(?:en\s+)?fjärdedel(?:en)?\s+(?:av)\s+({_NUM})|\b(?:a\s+)?quarter\s+of\s+({_NUM})", r"(\1\2/4)"),
    (rf"\bdubbla(?:\s+av)?\s+({_NUM})|\bdouble\s+({_NUM})", r"(2*\1\2)"),
    (rf"\b(?:kvadrat)?rot(?:en)?\s+(?:ur|av)\s+({_NUM})|\bsquare\s+root\s+of\s+({_NUM})|\bsqrt\s*\(?\s*({_NUM})\)?",
     r"sqrt(\1\2\3)"),
    (rf"({_NUM})\s*(?:i\s+kvadrat|squared)", r"(\1**2)"),
    (rf"({_NUM})\s*(?:i\s+kubik|cubed)", r"(\1**3)"),
    (r"\bupphöj(?:t|d)?\s+(?:till|i|med)\b|\bto\s+the\s+power\s+of\b|\^", "**"),
    (r"\bgånger\b|\bggr\b|\btimes\b|\bmultiplicerat\s+med\b|\bmultiplied\s+by\b|[×x](?=\s*\d)", "*"),
    (r"\bdelat\s+(?:med|på|i)\b|\bdividerat\s+med\b|\bdivided\s+by\b|\bgenom\b|÷|\bover\b", "/"),
    (r"\bplus\b|\badderat\s+med\b", "+"),
    (r"\bminus\b|\bsubtraherat\s+med\b", "-"),
]
_SUM = re.compile(rf"\b(?:summera|summan\s+av|addera|lägg\s+ihop|sum\s+of|add\s+up)\s+"
                  rf"((?:{_NUM}\s*(?:,|och|and|\+)?\s*)+)",
                  re.I)
_ALLOWED = re.compile(r"sqrt|[\d.]+|\*\*|[-+*/()%]")


def phrase_to_expression(text: str) -> str | None:
    """The arithmetic in a Swedish or English phrase, as a Python expression string (or None)."""
    s = words_to_digits(text.lower())
    m = _SUM.search(s)
    if m:
        nums = re.findall(_NUM, re.sub(r"(\d),(\d)", r"\1.\2", m.group(1)))
        if len(nums) >= 2:
            return "+".join(nums)
    for pattern, repl in _REWRITES:
        s = re.sub(pattern, repl, s)
    tokens = _ALLOWED.findall(s)
    expr = "".join(tokens)
    # trim dangling operators left by stripped words ("vad är 5 + 5 ?")
    expr = expr.strip("+*/%")
    if not re.search(r"\d", expr):
        return None
    return expr


class CalculatorTool(Tool):
    name: ClassVar[str] = "calculator"
    description: ClassVar[str] = "Arithmetic. args: {expression} (Python syntax: + - * / ** sqrt())"
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "expression": ("Vad vill du att jag ska räkna ut?", "What would you like me to calculate?"),
    }

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        expr = phrase_to_expression(text)
        return {"expression": expr} if expr else {}

    async def run(self, call: ToolCall) -> ToolResult:
        expr = str(call.args.get("expression", ""))
        value = safe_eval(expr)
        rounded = round(value, 10) if isinstance(value, float) else value
        shown = number(rounded, call.lang)
        return ToolResult({"expression": expr, "value": rounded},
                          say(call.lang, f"Det blir {shown}.", f"That's {shown}."))
