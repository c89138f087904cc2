"""Tier choice: tool, micro, planner or deep, with the reasons, as data.

    tool     the intent maps to a tool and the classifier is confident: no LLM call at all
    planner  several actions in one request ("sätt en timer och säg vad klockan är")
    deep     code, reasoning-heavy or long requests, long conversations
    micro    short, simple turns, within the micro share quota (MICRO_MAX_SHARE of the last
             100 model decisions); past the quota the request goes to the next tier by weight

Tier weights come from the profile (`fibonacci`: micro 1, planner 2, deep 3) and are the relative
cost of each tier: a decision reports its weight, and quota overflow picks the cheapest tier
above micro. Tiers map to public model names (`routing.tiers`), all the bundled "chat" model by
default. `route_for_openai` gives `/v1/chat/completions` with `model: auto` the same choice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alice.profiles import Profile, get_profile
from alice.route.quota import MicroQuota
from alice.route.task import TaskProfile, profile_task

__all__ = ["MODEL_TIERS", "RouteDecision", "Router", "RoutingSettings", "RoutingSettingsError", "message_text"]

MODEL_TIERS = ("micro", "planner", "deep")


class RoutingSettingsError(ValueError):
    """The `routing:` config section is invalid."""


class RoutingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tiers: dict[str, str] = Field(default_factory=lambda: {"micro": "chat", "planner": "chat", "deep": "chat"})
    micro_max_share: float | None = Field(None, ge=0.0, le=1.0)  # None: env MICRO_MAX_SHARE, else the profile's
    quota_window: int = Field(100, ge=1)
    tool_min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    micro_max_words: int = Field(40, ge=1)
    long_context_chars: int = Field(6000, ge=100)
    long_conversation_messages: int = Field(16, ge=2)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> RoutingSettings:
        try:
            settings = cls.model_validate(dict(section or {}))
        except ValidationError as exc:
            problems = "; ".join(f"routing.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise RoutingSettingsError(problems) from None
        missing = [t for t in MODEL_TIERS if t not in settings.tiers]
        if missing:
            raise RoutingSettingsError(f"routing.tiers: missing {missing} (each of {list(MODEL_TIERS)} needs a model)")
        return settings


@dataclass(frozen=True, slots=True)
class RouteDecision:
    tier: str  # tool | micro | planner | deep
    model: str | None  # the public model name for model tiers; None for tool
    reasons: tuple[str, ...]
    weight: int  # the tier's cost weight from the profile (0 for tool)
    task: TaskProfile | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"tier": self.tier, "model": self.model, "reasons": list(self.reasons),
                             "weight": self.weight}
        if self.task is not None:
            d["task"] = {"words": self.task.words, "code": self.task.code, "reasoning": self.task.reasoning,
                         "long_context": self.task.long_context, "actions": len(self.task.actions)}
        return d


def message_text(message: Mapping[str, Any]) -> str:
    """The text of an OpenAI message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""


class Router:
    def __init__(self, settings: RoutingSettings | None = None, profile: Profile | str = "fibonacci") -> None:
        self.settings = settings or RoutingSettings()
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        share = self.settings.micro_max_share
        if share is None:
            env = os.environ.get("MICRO_MAX_SHARE")
            share = float(env) if env else self.profile.thresholds.mid
        self.quota = MicroQuota(share, self.settings.quota_window)
        weights = self.profile.tier_weights
        self.weights = {t: int(weights.get(t, i + 1)) for i, t in enumerate(MODEL_TIERS)}

    def model_for(self, tier: str) -> str | None:
        return None if tier == "tool" else self.settings.tiers[tier]

    def _decision(self, tier: str, reasons: list[str], task: TaskProfile | None) -> RouteDecision:
        if tier != "tool":
            self.quota.record(tier)
        return RouteDecision(tier, self.model_for(tier), tuple(reasons), self.weights.get(tier, 0), task)

    def decide(
        self,
        text: str,
        *,
        intent: str | None = None,
        confidence: float = 0.0,
        intent_route: str | None = None,
        has_tool: bool = False,
        context_chars: int = 0,
        messages: int = 1,
    ) -> RouteDecision:
        """Choose a tier for one user turn. `intent_route`/`has_tool` come from the intent registry."""
        s = self.settings
        task = profile_task(text, context_chars=context_chars, long_context_chars=s.long_context_chars)
        reasons: list[str] = []
        if task.multi_step:
            reasons.append(f"multi-step: {len(task.actions)} actions")
            return self._decision("planner", reasons, task)
        if intent_route == "tool" and intent and confidence >= s.tool_min_confidence:
            reasons.append(f"intent {intent} ({confidence:.2f}) is answered by "
                           + ("a tool" if has_tool else "a template") + ": no LLM call")
            return self._decision("tool", reasons, task)
        if intent_route == "tool" and intent:
            reasons.append(f"intent {intent} below tool confidence {s.tool_min_confidence} ({confidence:.2f})")
        return self._model_tier(task, reasons, messages=messages, intent_route=intent_route)

    def _model_tier(self, task: TaskProfile, reasons: list[str], *, messages: int,
                    intent_route: str | None = None) -> RouteDecision:
        s = self.settings
        if task.code:
            reasons.append("task: code")
            return self._decision("deep", reasons, task)
        if task.reasoning:
            reasons.append("task: reasoning")
            return self._decision("deep", reasons, task)
        if task.long_context:
            reasons.append(f"long context: > {s.long_context_chars} chars")
            return self._decision("deep", reasons, task)
        if messages > s.long_conversation_messages:
            reasons.append(f"long conversation: {messages} messages")
            return self._decision("deep", reasons, task)
        if intent_route in ("planner", "deep"):
            reasons.append(f"intent route: {intent_route}")
            return self._decision(intent_route, reasons, task)
        if task.words > s.micro_max_words:
            reasons.append(f"long request: {task.words} words > {s.micro_max_words}")
            return self._decision("deep", reasons, task)
        reasons.append(f"short simple turn: {task.words} words")
        if not self.quota.allows_micro():
            up = min((t for t in MODEL_TIERS if t != "micro"), key=lambda t: self.weights[t])
            reasons.append(f"micro quota {self.quota.max_share:.3f} reached (share {self.quota.share():.3f}): {up}")
            return self._decision(up, reasons, task)
        return self._decision("micro", reasons, task)

    def decide_openai(self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Any] | None = None
                      ) -> RouteDecision:
        """The decision for an OpenAI-style request with `model: auto` (never the tool tier)."""
        last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
        text = message_text(last) if last is not None else ""
        context = sum(len(message_text(m)) for m in messages) - len(text)
        task = profile_task(text, context_chars=context, long_context_chars=self.settings.long_context_chars)
        if tools:
            return self._decision("planner", ["request carries tool definitions"], task)
        if task.multi_step:
            return self._decision("planner", [f"multi-step: {len(task.actions)} actions"], task)
        return self._model_tier(task, [], messages=len(messages))

    def route_for_openai(self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Any] | None = None) -> str:
        """The tier (micro | planner | deep) for `/v1/chat/completions` with `model: auto`."""
        return self.decide_openai(messages, tools=tools).tier
