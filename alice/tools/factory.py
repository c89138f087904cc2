"""Build every tool from the `tools:` config section; one object owns their stores and services.

    tools:
      weather: {geocoding_url: …, forecast_url: …, default_place: Stockholm}
      home: {url: http://ha.local:8123, token_env: HOME_ASSISTANT_TOKEN, rooms: {kök: light.kitchen}}
      smtp: {host: smtp.example.com, port: 587, sender: alice@example.com, starttls: true,
             username: alice, password_env: SMTP_PASSWORD}
      permissions: {tenant-a: [clock, calculator, timer], tenant-b: [calendar, email.create_draft]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from alice.nlu.embed import Embedder
from alice.tools.calculator import CalculatorTool
from alice.tools.calendar import CalendarCreateTool, CalendarListTool, CalendarMoveTool, CalendarStore
from alice.tools.clock import DateTool, TimeTool
from alice.tools.email import EmailDraftTool, EmailSendTool, EmailStore, SmtpSettings
from alice.tools.home import HomeSettings, LightsTool
from alice.tools.memory import MemoryQueryTool, MemoryStore, MemoryStoreTool
from alice.tools.registry import ToolRegistry
from alice.tools.timers import TimerCancelTool, TimerService, TimerStartTool, TimerStatusTool
from alice.tools.weather import WeatherSettings, WeatherTool

__all__ = ["Toolbox", "ToolsSettings", "ToolsSettingsError", "build_toolbox"]


class ToolsSettingsError(ValueError):
    """The `tools:` config section is invalid; the message lists each problem with its path."""


class ToolsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weather: WeatherSettings = WeatherSettings()
    home: HomeSettings = HomeSettings()
    smtp: SmtpSettings | None = None
    # tenant -> allowed tool names or families ("calendar" allows calendar.*); absent tenant: all tools
    permissions: dict[str, list[str]] = {}

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> ToolsSettings:
        try:
            return cls.model_validate(section or {})
        except ValidationError as exc:
            problems = "; ".join(f"tools.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ToolsSettingsError(problems) from None

    def allowed_for(self, tenant: str) -> frozenset[str] | None:
        allowed = self.permissions.get(tenant)
        return None if allowed is None else frozenset(allowed)


class Toolbox:
    """The registry plus the stores behind it (the lead may expose e.g. `calendar.export_ics`)."""

    def __init__(self, settings: ToolsSettings, state_dir: Path, embedder: Embedder) -> None:
        tools_dir = Path(state_dir) / "tools"
        self.settings = settings
        self.timers = TimerService(tools_dir / "timers.sqlite")
        self.calendar = CalendarStore(tools_dir / "calendar.sqlite")
        self.email = EmailStore(tools_dir / "email.sqlite")
        self.memory = MemoryStore(tools_dir / "memory.sqlite", embedder)
        self.registry = ToolRegistry([
            TimeTool(), DateTool(), CalculatorTool(),
            TimerStartTool(self.timers), TimerCancelTool(self.timers), TimerStatusTool(self.timers),
            CalendarCreateTool(self.calendar), CalendarMoveTool(self.calendar), CalendarListTool(self.calendar),
            EmailDraftTool(self.email, settings.smtp), EmailSendTool(self.email, settings.smtp),
            MemoryStoreTool(self.memory), MemoryQueryTool(self.memory),
            WeatherTool(settings.weather), LightsTool(settings.home),
        ])

    async def start(self) -> None:
        await self.timers.start()

    async def close(self) -> None:
        await self.registry.close()
        await self.timers.close()
        for store in (self.calendar, self.email, self.memory):
            store.close()


def build_toolbox(section: dict[str, Any], state_dir: Path | str, embedder: Embedder) -> Toolbox:
    return Toolbox(ToolsSettings.from_config(section), Path(state_dir), embedder)
