"""Text normalisation for cache keys and for the semantic tier, as a named policy.

    none     the text as sent (the raw OpenAI surface: bytes matter to some clients)
    unicode  NFKC + collapsed whitespace
    full     unicode + case folding, polite Swedish/English openers and closers removed
             ("hej", "snälla", "kan du", "tack", "please", …) and trailing punctuation dropped

`full` is the default for the assistant surface, where "Hej! Kan du säga vad klockan är?" and
"vad klockan är" are the same question; the raw OpenAI surface defaults to `none`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = ["POLICIES", "Policy", "normalize", "tokens"]

Policy = Literal["none", "unicode", "full"]
POLICIES: tuple[str, ...] = ("none", "unicode", "full")

_WS = re.compile(r"\s+")
# Openers, longest first so "kan du snälla" is taken whole; each is removed only as whole words.
_OPENERS = sorted(
    [
        "hej", "hejsan", "hallå", "tjena", "tja", "god morgon", "god kväll", "hej alice", "alice",
        "snälla", "vänligen", "kan du", "kan ni", "skulle du kunna", "kunde du", "vill du",
        "jag undrar", "jag skulle vilja veta", "berätta", "berätta för mig", "säg", "säg mig", "säga",
        "tala om", "tala om för mig",
        "hi", "hello", "hey", "please", "can you", "could you", "would you", "will you",
        "tell me", "i wonder", "i would like to know",
    ],
    key=len, reverse=True,
)
_OPENER = re.compile(r"^(?:(?:" + "|".join(re.escape(o) for o in _OPENERS) + r")\b[\s,!.:;]*)+")
_CLOSER = re.compile(r"(?:[\s,]+(?:tack|tack så mycket|snälla|please|thanks|thank you))+[\s!.?]*$")
_TRAIL = re.compile(r"[\s?!.,;:…]+$")
_TOKEN = re.compile(r"\w+(?:[.,:]\d+)*", re.UNICODE)
_NOT = re.compile(r"n't\b|n’t\b")


def normalize(text: str, policy: Policy = "full") -> str:
    if policy == "none":
        return text
    text = _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    if policy == "unicode":
        return text
    low = text.casefold()
    stripped = _CLOSER.sub("", _OPENER.sub("", low))
    stripped = _TRAIL.sub("", stripped).strip()
    # A text that is nothing but politeness ("Hej!") keeps its words: it is the question.
    return stripped or _TRAIL.sub("", low).strip()


def tokens(text: str) -> list[str]:
    """Case-folded word tokens; numbers keep their decimal/time separators ("1,5", "08:30");
    English "n't" becomes a separate "not"."""
    text = _NOT.sub(" not", unicodedata.normalize("NFKC", text).casefold())
    return _TOKEN.findall(text)
