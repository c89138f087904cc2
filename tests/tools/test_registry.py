from pathlib import Path

import pytest

from alice.tools import ToolNotAllowed, ToolsSettings, ToolsSettingsError, build_toolbox
from alice.tools.base import ToolCall

from .conftest import WordEmbedder


async def test_every_tool_is_registered_and_permissions_are_per_tenant(tmp_path: Path, now) -> None:
    box = build_toolbox({"permissions": {"kiosk": ["clock", "calculator"]}}, tmp_path, WordEmbedder())
    assert {"clock.time", "clock.date", "calculator", "timer.start", "timer.cancel", "timer.status",
            "calendar.create_draft", "calendar.move", "calendar.list", "email.create_draft", "email.send",
            "memory.store", "memory.query", "weather.forecast", "home.lights"} == set(box.registry.names)
    allowed = box.settings.allowed_for("kiosk")
    assert box.settings.allowed_for("anyone") is None
    r = await box.registry.run("clock.time", ToolCall("kiosk", {}, now), allowed=allowed)
    assert r.text == "Klockan är 14:05."
    with pytest.raises(ToolNotAllowed):
        await box.registry.run("timer.start", ToolCall("kiosk", {"duration_s": 5}, now), allowed=allowed)
    await box.close()


def test_invalid_tools_config_is_explained() -> None:
    with pytest.raises(ToolsSettingsError, match=r"tools\.smtp"):
        ToolsSettings.from_config({"smtp": {"port": 25}})
