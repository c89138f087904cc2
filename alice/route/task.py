"""What kind of work a request is: code, reasoning, long context, several steps.

Cheap regular expressions over the text; they only need to separate "a small model will do"
from "this needs a planner or the deep tier".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TaskProfile", "profile_task", "split_actions"]

_CODE = re.compile(
    r"```|\bdef\s+\w+\(|\bclass\s+\w+[:(]|\bimport\s+\w+|\bfunction\s+\w+\(|=>|\bSELECT\b.+\bFROM\b|Traceback|"
    r"\b(python|javascript|typescript|java|rust|golang|c\+\+|sql|regex|bash|skript|script|kod(?:en)?|code|bugg\w*|"
    r"bug|kompiler\w*|compile\w*|stack\s*trace|funktion(?:en)?|refaktor\w*|refactor\w*|algoritm\w*|algorithm\w*)\b",
    re.I)
_REASONING_STRONG = re.compile(
    r"\b(steg\s+för\s+steg|bevisa|analysera|jämför|resonera|utvärdera|för-\s+och\s+nackdelar|fördelar\s+och\s+nackdelar|"
    r"väg\s+för\s+och\s+emot|planera|strategi|step\s+by\s+step|prove|analy[sz]e|compare|evaluate|pros\s+and\s+cons|"
    r"trade-?offs?|reason\s+about|derive|härled)\b", re.I)
_REASONING_WEAK = re.compile(r"\b(varför|förklara|hur\s+kommer\s+det\s+sig|why|explain|how\s+come)\b", re.I)
_ACTION = re.compile(
    r"^\s*(?:kan\s+du\s+|could\s+you\s+|can\s+you\s+|please\s+|snälla\s+|och\s+|and\s+)?"
    r"(boka|sätt|ställ|starta|stoppa|avbryt|tänd|släck|skicka|mejla|maila|skriv|påminn|spara|kom\s+ihåg|anteckna|"
    r"flytta|visa|kolla|säg|berätta|räkna|lägg|dimma|stäng|book|set|start|stop|cancel|turn|send|email|write|remind|"
    r"save|remember|move|show|check|tell|calculate|add|put|dim|switch|what|vad|hur|när|vem|vilken|how|when|who)\b",
    re.I)
_SPLIT = re.compile(r"\s*(?:,\s*(?:och\s+)?(?:sen|sedan|därefter)|\boch\s+(?:sen|sedan|därefter|så)\b|\bsen\b|"
                    r"\bsedan\b|\bdärefter\b|\band\s+then\b|\bthen\b|;|\boch\b|\band\b|\.\s+)\s*", re.I)


@dataclass(frozen=True, slots=True)
class TaskProfile:
    words: int
    chars: int
    code: bool
    reasoning: bool
    long_context: bool
    actions: tuple[str, ...]  # the clauses that each ask for an action (2+ = multi-step)

    @property
    def multi_step(self) -> bool:
        return len(self.actions) >= 2


_MESSAGE = re.compile(r"\b(mejl\w*|mail\w*|maila|e-?post|meddelande\w*|sms\w*|email\w*|message)\b", re.I)
_MESSAGE_BODY = re.compile(r"^\s*(säg|fråga|berätta|tacka|say|ask|tell|thank)\b", re.I)


def split_actions(text: str) -> list[str]:
    """Clauses of `text` that each start with an action verb or a question word.

    "Mejla Anna och säg att jag blir sen" is one action: a "säg/fråga" right after a message
    verb is the message's content, not a second request.
    """
    clauses: list[str] = []
    for c in _SPLIT.split(text):
        if not c or not _ACTION.match(c):
            continue
        if clauses and _MESSAGE_BODY.match(c) and _MESSAGE.search(clauses[-1]):
            clauses[-1] += " och " + c
            continue
        clauses.append(c.strip(" ,.!?"))
    return clauses


def profile_task(text: str, *, context_chars: int = 0, long_context_chars: int = 6000,
                 weak_reasoning_words: int = 15) -> TaskProfile:
    words = len(text.split())
    reasoning = bool(_REASONING_STRONG.search(text)) or (
        bool(_REASONING_WEAK.search(text)) and words > weak_reasoning_words)
    return TaskProfile(
        words=words,
        chars=len(text),
        code=bool(_CODE.search(text)),
        reasoning=reasoning,
        long_context=len(text) + context_chars > long_context_chars,
        actions=tuple(split_actions(text)),
    )
