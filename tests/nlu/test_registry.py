from pathlib import Path

import pytest

from alice.nlu.registry import CACHE_CLASSES, ROUTES, RegistryError, load_registry

REQUIRED = ["greeting.hello", "time.now", "date.today", "weather.lookup", "calendar.create_draft", "calendar.move",
            "calendar.list", "email.create_draft", "timer.start", "timer.cancel", "timer.status", "home.lights",
            "math.calculate", "memory.store", "memory.query", "info.query", "smalltalk", "none"]


def test_default_registry_has_exactly_the_required_intents_with_enough_examples() -> None:
    reg = load_registry()
    assert sorted(reg.ids) == sorted(REQUIRED)
    for intent in reg:
        assert len(intent.examples["sv"]) >= 20, intent.id
        assert len(intent.examples["en"]) >= 10, intent.id
        assert intent.route in ROUTES and intent.cache in CACHE_CLASSES


def test_tool_intents_name_a_tool_and_time_is_never_cached() -> None:
    reg = load_registry()
    assert reg["time.now"].tool == "clock.time" and reg["time.now"].cache == "never"
    assert reg["weather.lookup"].tool == "weather.forecast"
    assert reg["none"].tool is None and reg["info.query"].route == "micro"


def test_user_yaml_adds_an_intent_and_extends_an_existing_one(tmp_path: Path) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text("""
intents:
  - id: music.play
    route: micro
    cache: never
    examples: {sv: [spela musik, spela lite jazz], en: [play music]}
  - id: time.now
    examples: {sv: [hur dags är det nu egentligen]}
""", encoding="utf-8")
    base = load_registry()
    reg = load_registry([extra])
    assert "music.play" in reg and reg["music.play"].examples["sv"] == ("spela musik", "spela lite jazz")
    assert "hur dags är det nu egentligen" in reg["time.now"].examples["sv"]
    assert reg["time.now"].tool == "clock.time"  # unchanged fields are kept
    assert reg.fingerprint() != base.fingerprint()


@pytest.mark.parametrize("body, message", [
    ("intents: [{id: x, route: fast, examples: {sv: [a]}}]", "route 'fast'"),
    ("intents: [{id: x, examples: {}}]", "at least one example"),
    ("intents: [{id: x, colour: red, examples: {sv: [a]}}]", "unknown field"),
    ("nothing: here", "intents:"),
])
def test_malformed_registry_files_are_rejected_with_the_reason(tmp_path: Path, body: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(body, encoding="utf-8")
    with pytest.raises(RegistryError, match=message):
        load_registry([bad])
