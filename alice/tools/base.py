"""What every tool is: a name, the arguments it needs (with the question to ask for each one
that is missing), a way to read those arguments from an utterance, and an async `run`.

Errors: `ToolError` (the tool ran and failed in a way the user should hear about) is the root;
`ToolNotAllowed` (the tenant may not use it) and `ToolUnavailable` (not configured) derive
from it, so callers can catch broadly or narrowly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

__all__ = ["Tool", "ToolCall", "ToolError", "ToolNotAllowed", "ToolResult", "ToolUnavailable", "say"]


class ToolError(Exception):
    """A tool failed; `message_sv`/`message_en` are fit to show the user."""

    def __init__(self, message_sv: str, message_en: str | None = None) -> None:
        super().__init__(message_en or message_sv)
        self.message_sv = message_sv
        self.message_en = message_en or message_sv

    def say(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_sv


class ToolNotAllowed(ToolError):
    """The tenant's allowed-tools set does not include this tool."""


class ToolUnavailable(ToolError):
    """The tool needs configuration (a provider URL, an SMTP server) that is missing."""


def say(lang: str, sv: str, en: str) -> str:
    return en if lang == "en" else sv


@dataclass(frozen=True, slots=True)
class ToolCall:
    tenant: str
    args: Mapping[str, Any]
    now: datetime  # aware, in the user's time zone
    lang: str = "sv"


@dataclass(slots=True)
class ToolResult:
    data: dict[str, Any]
    text: str  # the natural reply, in the call's language
    # A follow-up that sends something outward and so needs a "ja" first: (tool name, args, question).
    confirm: tuple[str, dict[str, Any], str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Tool:
    """Base class: subclasses set the class attributes and implement `run` (and usually `args_from`)."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    outward: ClassVar[bool] = False  # sends something outside the assistant: ask before running
    # argument -> (question in Swedish, question in English), asked in this order when missing
    required: ClassVar[dict[str, tuple[str, str]]] = {}
    # arguments whose answer is the user's whole next message ("Vad ska det stå i mejlet?")
    free_text: ClassVar[frozenset[str]] = frozenset()

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        """The tool's arguments found in one utterance (and its slots). Missing ones are left out."""
        return {}

    def missing(self, args: Mapping[str, Any], asked: frozenset[str] = frozenset()) -> list[str]:
        """Arguments still needed, in the order to ask for them (`asked`: already asked this session)."""
        return [name for name in self.required if args.get(name) in (None, "", [], {})]

    def question(self, arg: str, lang: str, missing: list[str] | None = None) -> str:
        """The clarifying question for `arg` (`missing`: everything still missing, to combine questions)."""
        sv, en = self.required[arg]
        return en if lang == "en" else sv

    async def run(self, call: ToolCall) -> ToolResult:
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections; tools without any need nothing here."""
