"""The Screen stage: prompt-injection screening of the newest user message, per tenant policy.

    policy.injection = off    nothing runs
                     = flag   a hit is noted: turn.meta["guard"]["flagged"] gets "injection" and
                              turn.meta["guard"]["injection"] the score, reasons and layer
                     = block  a hit is refused with 400 (code "prompt_injection")

The checks themselves live in `alice.guard.injection.Screen` (patterns, optional classifier).
The classifier costs one embedding per request, so it is off unless `guard.injection.classifier`
is set; under BROWNOUT only the patterns run whatever the setting.
"""

from __future__ import annotations

from typing import Any

from alice.api.errors import BadRequest
from alice.guard.limits import guard_meta
from alice.pipeline import Turn

__all__ = ["InjectionBlocked", "ScreenStage", "last_user_text"]


class InjectionBlocked(BadRequest):
    code = "prompt_injection"


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
        return ""
    return ""


class ScreenStage:
    def __init__(self, screen: Any) -> None:
        self.screen = screen  # alice.guard.injection.Screen

    async def __call__(self, turn: Turn) -> None:
        meta = guard_meta(turn)
        mode = meta.get("injection") or "flag"
        if mode == "off":
            return
        text = last_user_text(turn.body)
        if not text.strip():
            return
        degraded = bool((turn.meta.get("guardian") or {}).get("degrade"))
        verdict = self.screen.check_patterns(text) if degraded else await self.screen.acheck(text)
        if not verdict.flagged:
            return
        meta.setdefault("flagged", []).append("injection")
        meta["injection"] = {"score": verdict.score, "reasons": verdict.reasons, "layer": verdict.layer}
        if mode == "block":
            raise InjectionBlocked("the message was refused: it looks like an attempt to override the assistant's "
                                   "instructions", param="messages")
