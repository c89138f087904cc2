"""Tools that really act (clock, calculator, timers, calendar, e-mail, memory, weather, lights),
behind one registry with per-tenant permissions."""

from alice.tools.base import Tool, ToolCall, ToolError, ToolNotAllowed, ToolResult, ToolUnavailable
from alice.tools.factory import Toolbox, ToolsSettings, ToolsSettingsError, build_toolbox
from alice.tools.registry import ToolRegistry

__all__ = [
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolNotAllowed",
    "ToolRegistry",
    "ToolResult",
    "ToolUnavailable",
    "Toolbox",
    "ToolsSettings",
    "ToolsSettingsError",
    "build_toolbox",
]
