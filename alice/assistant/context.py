"""Everything `handle_chat` needs, built once per process and passed explicitly.

The lead injects `complete(messages, tier) -> str` (async): the only way the assistant reaches a
language model. `build_context(config, complete=…)` wires the default pieces from the config
(nlu, tools, routing sections); `await ctx.start()` starts the timer notifier and warms the
intent model in a worker thread (never at import time); the gateway runs the two halves apart
(`start_tools()`, then `warm()` in the background, see alice/assistant/wiring.py);
`await ctx.close()` releases it all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from alice.assistant.session import MemorySessionStore, RedisSessionStore, SessionStore
from alice.nlu.classifier import ClassifierSettings, IntentClassifier, TieBreak
from alice.nlu.embed import CachingEmbedder, LazyEmbedder
from alice.nlu.registry import load_registry
from alice.nlu.settings import NluSettings
from alice.route.router import Router, RoutingSettings
from alice.tools.factory import Toolbox, ToolsSettings
from alice.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from alice.config import Config

__all__ = ["AssistantContext", "Complete", "build_context", "llm_tie_break"]

# (messages in OpenAI chat format, tier: "micro" | "planner" | "deep") -> the assistant's text
Complete = Callable[[list[dict[str, Any]], str], Awaitable[str]]


@dataclass
class AssistantContext:
    classifier: IntentClassifier
    tools: ToolRegistry
    router: Router
    sessions: SessionStore = field(default_factory=MemorySessionStore)
    complete: Complete | None = None
    timezone: str = "Europe/Stockholm"
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)  # tenant -> allowed; absent: all
    session_ttl_s: float = 1800.0
    history_turns: int = 6
    clock: Callable[[], datetime] | None = None  # tests fix "now"; default: the wall clock in `timezone`
    toolbox: Toolbox | None = None

    def now(self) -> datetime:
        if self.clock is not None:
            return self.clock()
        return datetime.now(ZoneInfo(self.timezone))

    def allowed_tools(self, tenant: str) -> frozenset[str] | None:
        return self.permissions.get(tenant)

    async def start(self) -> None:
        """Start the tools and warm the intent model, waiting for both."""
        await self.start_tools()
        await asyncio.to_thread(self.warm)

    async def start_tools(self) -> None:
        if self.toolbox is not None:
            await self.toolbox.start()

    def warm(self) -> None:
        """Build or load the intent model and load the embedding model, so the first user does not
        wait for them. Blocking (seconds to minutes): run it in a worker thread."""
        self.classifier.prepare()
        self.classifier.embed("hej")
        if self.classifier.fast is not None:
            self.classifier.fast.embed("hej")

    async def close(self) -> None:
        if self.toolbox is not None:
            await self.toolbox.close()
        closer = getattr(self.sessions, "close", None)
        if closer is not None:
            await closer()


def llm_tie_break(complete: Complete) -> TieBreak:
    """A tie-break hook that asks the micro tier to pick one of the candidate intents."""

    async def choose(text: str, candidates: list[tuple[str, float]]) -> str | None:
        ids = [c for c, _ in candidates]
        prompt = ("Classify the user's message as exactly one of these intent ids: " + ", ".join(ids)
                  + ". Answer with the id only.")
        answer = await asyncio.wait_for(
            complete([{"role": "system", "content": prompt}, {"role": "user", "content": text}], "micro"), 5.0)
        answer = answer.strip().strip("`'\". ").lower()
        return next((i for i in ids if i == answer), next((i for i in ids if i in answer), None))

    return choose


def build_context(config: Config, *, complete: Complete | None, state_dir: Path | str | None = None,
                  clock: Callable[[], datetime] | None = None) -> AssistantContext:
    """The default assistant from the config's `nlu`, `tools` and `routing` sections (no I/O here)."""
    nlu = NluSettings.from_config(config.nlu)
    state = Path(state_dir or config.state.dir)
    registry = load_registry([Path(p) for p in nlu.registry_files])
    tie_break = llm_tie_break(complete) if nlu.tie_break and complete is not None else None
    # One embedder for the classifier and the tools (memory), so they share its cache of recent texts.
    embedder = CachingEmbedder(LazyEmbedder(nlu.embedder), nlu.embedding_cache)
    classifier = IntentClassifier(
        registry, embedder, state_dir=state,
        settings=ClassifierSettings(oos_threshold=nlu.oos_threshold, tie_break_below=nlu.tie_break_below),
        tie_break=tie_break, fast=nlu.fast_embedder)
    tools_settings = ToolsSettings.from_config(config.tools)
    toolbox = Toolbox(tools_settings, state, embedder)
    sessions: SessionStore = (RedisSessionStore(config.state.redis_url) if config.state.redis_url
                              else MemorySessionStore())
    permissions = {t: frozenset(v) for t, v in tools_settings.permissions.items()}
    return AssistantContext(
        classifier=classifier, tools=toolbox.registry, router=Router(RoutingSettings.from_config(config.routing),
                                                                     config.profile),
        sessions=sessions, complete=complete, timezone=nlu.timezone, permissions=permissions,
        session_ttl_s=nlu.session_ttl_s, history_turns=nlu.history_turns, clock=clock, toolbox=toolbox)
