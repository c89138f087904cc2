"""The assistant: multi-turn sessions, slot filling, tool execution and the `/api/chat` logic."""

from alice.assistant.chat import ChatInputError, handle_chat
from alice.assistant.context import AssistantContext, Complete, build_context, llm_tie_break
from alice.assistant.session import MemorySessionStore, RedisSessionStore, SessionStore

__all__ = [
    "AssistantContext",
    "ChatInputError",
    "Complete",
    "MemorySessionStore",
    "RedisSessionStore",
    "SessionStore",
    "build_context",
    "handle_chat",
    "llm_tie_break",
]
