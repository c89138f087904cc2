"""One registry for every tool, with per-tenant permissions (an allowed-tools set passed in)."""

from __future__ import annotations

from collections.abc import Iterable

from alice.tools.base import Tool, ToolCall, ToolNotAllowed, ToolResult

__all__ = ["ToolRegistry"]


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is registered twice")
        self._tools[tool.name] = tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise KeyError(f"unknown tool {name!r}; known: {sorted(self._tools)}") from None

    @property
    def names(self) -> list[str]:
        return sorted(self._tools)

    @staticmethod
    def allowed(name: str, allowed: frozenset[str] | set[str] | None) -> bool:
        """None means every tool; a tool family ("calendar") allows all its tools ("calendar.move")."""
        return allowed is None or name in allowed or name.split(".", 1)[0] in allowed

    async def run(self, name: str, call: ToolCall, *, allowed: frozenset[str] | set[str] | None = None) -> ToolResult:
        tool = self.get(name)
        if not self.allowed(name, allowed):
            raise ToolNotAllowed(f"Du har inte behörighet att använda {name}.",
                                 f"You are not allowed to use {name}.")
        return await tool.run(call)

    async def close(self) -> None:
        for tool in self._tools.values():
            await tool.close()
