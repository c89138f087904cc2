"""`install(gw)`: what the guard adds to a gateway, in which order, and the guardian's events."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from alice.config import Config
from alice.guard.admission import Admit
from alice.guard.brownout import GuardianState
from alice.guard.idempotency import Idempotency
from alice.guard.screening import ScreenStage
from alice.guard.wiring import install
from alice.pipeline import Pipeline
from alice.profiles import get_profile


class Events:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict]] = []

    def publish(self, kind, *, severity="info", **fields):
        self.published.append((kind, severity, fields))


def fake_gateway(tmp_path: Path, **config) -> SimpleNamespace:
    cfg = Config.model_validate({"state": {"dir": str(tmp_path)}, **config})
    return SimpleNamespace(config=cfg, profile=get_profile(cfg.profile), state_dir=tmp_path, pipeline=Pipeline(),
                           routes=[], on_start=[], on_close=[], dispatcher=SimpleNamespace(gate=None))


def test_install_appends_stages_in_path_order(tmp_path):
    gw = fake_gateway(tmp_path)
    install(gw)
    assert [type(s) for s in gw.pipeline.stages] == [Admit, ScreenStage, Idempotency]
    assert gw.guardian in gw.pipeline.observers
    assert gw.guard.limiter in gw.pipeline.after_hooks
    assert gw.pipeline.before_reply == [gw.guard.idempotency]  # stored before the client has the whole answer
    assert {(m, p) for m, p, _ in gw.routes} == {("GET", "/api/guardian/state"), ("GET", "/openapi.json")}
    assert gw.guardian.state is GuardianState.NORMAL and gw.guardian.state.value == "normal"
    assert gw.dispatcher.gate is None  # no deployment has an rpm budget
    assert gw.on_start == [gw.guard.start] and gw.on_close == [gw.guard.close]


def test_deployment_budget_installs_the_dispatch_gate(tmp_path):
    gw = fake_gateway(tmp_path, deployments=[{"name": "a", "provider": "openai", "base_url": "http://x/v1",
                                              "model": "m", "rpm": 5}], models={"chat": ["a"]})
    install(gw)
    assert gw.dispatcher.gate == gw.guard.limiter.gate


def test_idempotency_can_be_switched_off(tmp_path):
    gw = fake_gateway(tmp_path, guard={"idempotency": {"enabled": False}})
    install(gw)
    assert not any(isinstance(s, Idempotency) for s in gw.pipeline.stages)


def test_bad_guard_config_fails_install_with_its_path(tmp_path):
    with pytest.raises(ValueError, match=r"guard\.guardian\.interval_s"):
        install(fake_gateway(tmp_path, guard={"guardian": {"interval_s": -1}}))


def test_transitions_are_published_as_events(tmp_path):
    gw = fake_gateway(tmp_path)
    install(gw)
    gw.events = Events()
    g = gw.guardian
    g.evaluate({"in_flight": 3.0})
    g.state = GuardianState.BROWNOUT
    g._move(GuardianState.NORMAL, "in_flight", 0.1)
    assert [(k, s) for k, s, _ in gw.events.published] == [("emergency.enter", "critical"), ("brownout.exit", "info")]
    assert gw.events.published[0][2]["signal"] == "in_flight"


async def test_start_refuses_public_bind_without_keys(tmp_path, monkeypatch):
    monkeypatch.delenv("ALICE_ADMIN_KEY", raising=False)
    gw = fake_gateway(tmp_path, server={"host": "0.0.0.0"})
    install(gw)
    with pytest.raises(RuntimeError, match="refusing to start"):
        await gw.guard.start()
    await gw.guard.close()
