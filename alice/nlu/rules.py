"""Keyword/pattern overrides, applied after the statistical classifier.

Rules are few and narrow on purpose: each fixes a confusion that matters more than the
classifier's average accuracy. A rule that fires is reported in the result's reasons.

- `time-question`: an explicit question about the clock ("vad är klockan", "what time is it")
  is `time.now` unless it also talks about the weather, a meeting or a timer.
- `no-time-to-weather`: the classifier chose weather, but the text mentions the clock and no
  weather word: never send a time question to the weather tool.
- `arithmetic`: a bare arithmetic expression ("12*7", "(3+4)/2") is `math.calculate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["RULES", "Rule", "apply_rules"]

WEATHER_WORDS = re.compile(
    r"\b(väd\w*|regn\w*|snö\w*|sol\w*|varm\w*|kall\w*|kyl\w*|\w*grader|blås\w*|vind\w*|storm\w*|paraply\w*|"
    r"prognos\w*|temperatur\w*|moln\w*|åsk\w*|halt|uppehåll|dimm?ig\w*|weather|rain\w*|snow\w*|sunny|warm\w*|"
    r"cold\w*|wind\w*|forecast\w*|temperature\w*|umbrella\w*|degrees)\b", re.I)
OTHER_DOMAIN = re.compile(r"\b(möte\w*|kalender\w*|timer\w*|timrar\w*|nedräkning\w*|meeting\w*|calendar|timer\w*)\b",
                          re.I)
TIME_QUESTION = re.compile(
    r"\b(vad|hur\s+mycket|hur\s+mkt|hur\s+mycke)\s+(är|e)\s+(klockan|klokan|klockn|klocka)\b|"
    r"\bvad\s+är\s+tiden\b|\bvilken\s+tid\s+är\s+det\b|\bvad\s+visar\s+klockan\b|\bsäg\s+tiden\b|"
    r"\bwhat\s+time\s+is\s+it\b|\bwhat'?s\s+the\s+time\b|\btell\s+me\s+the\s+time\b|^\s*klockan\s*\?\s*$",
    re.I)
CLOCK_WORDS = re.compile(r"\b(klockan|klokan|klockn|tiden|time|clock)\b", re.I)
ARITHMETIC = re.compile(r"^[\s\d.,()]*\d[\s\d.,()]*([-+*/^×÷x%][\s\d.,()]*\d[\s\d.,()]*)+[=?\s]*$", re.I)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    intent: str

    def matches(self, text: str, predicted: str) -> bool:
        if self.name == "time-question":
            return bool(TIME_QUESTION.search(text)) and not WEATHER_WORDS.search(text) \
                and not OTHER_DOMAIN.search(text)
        if self.name == "no-time-to-weather":
            return predicted == "weather.lookup" and bool(CLOCK_WORDS.search(text)) \
                and not WEATHER_WORDS.search(text)
        if self.name == "arithmetic":
            return bool(ARITHMETIC.match(text))
        return False


RULES: tuple[Rule, ...] = (
    Rule("time-question", "time.now"),
    Rule("no-time-to-weather", "time.now"),
    Rule("arithmetic", "math.calculate"),
)


def apply_rules(text: str, predicted: str, known: set[str] | frozenset[str]) -> Rule | None:
    """The first rule that overrides `predicted` (only rules whose intent exists in the registry)."""
    for rule in RULES:
        if rule.intent in known and rule.intent != predicted and rule.matches(text, predicted):
            return rule
    return None
