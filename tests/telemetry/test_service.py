"""Telemetry inside a real Gateway, driven in-process through the ASGI app."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from alice.app import AliceApp
from alice.backends.deployment import Attempt
from alice.config import Config
from alice.pipeline import Turn
from alice.state.requestlog_sqlite import SqliteRequestLog
from alice.state.requestlog_store import Query

from .asgi import request, running
from .test_metrics import parse, value


def config(tmp_path: Path, **telemetry: Any) -> Config:
    return Config.model_validate({
        "deployments": [
            {"name": "d1", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
             "price_in_per_1k": 0.5, "price_out_per_1k": 1.5},
            {"name": "d2", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        ],
        "models": {"chat": ["d1", "d2"], "micro": ["d2"]},
        "state": {"dir": str(tmp_path / "state")},
        "telemetry": {"log": {"flush_interval_s": 0.05}, **telemetry},
        "nlu": {"enabled": False},  # no assistant: its model warm-up is not what these tests measure
    })


def turn(i: int = 0, **kw: Any) -> Turn:
    t = Turn(request_id=f"r{i}", surface="openai", received=time.perf_counter(), model="chat", route="chat",
             backend="d1", status=200, total_ms=20.0, overhead_ms=0.3, upstream_ms=19.0, complete=True,
             usage={"prompt_tokens": 1000, "completion_tokens": 2000},
             attempts=[Attempt("d1", "ok", 19.0, 200)])
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def gw(app: AliceApp) -> Any:
    assert app.gateway is not None
    return app.gateway


async def test_observed_turns_reach_metrics_windows_and_log(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        g = gw(app)
        g.write_back(turn(1, headers={"x-alice-agent": "planner-bot"}, tenant="acme"))
        g.write_back(turn(2, status=502, error="upstream failed", backend=None, usage=None, attempts=[]))
        g.write_back(turn(3, cache="exact", backend=None, body={"user": "u-42"}))
        g.write_back(turn(4, model="not-a-model", route="", status=404, backend=None, usage=None))
        m = parse((await request(app, "GET", "/metrics")).body)
        assert value(m, "alice_requests_total") == 4
        assert value(m, "alice_requests_total", model="other", status="404", route="none") == 1
        assert value(m, "alice_cost_total", backend="d1") == pytest.approx(0.5 + 3.0)
        assert value(m, "alice_tokens_total", backend="cache") == 0  # a cache hit costs no upstream tokens
        assert value(m, "alice_cache_requests_total", tier="exact") == 1
        assert value(m, "alice_breaker_state", deployment="d1", state="closed") == 1
        assert value(m, "alice_inflight_requests") == 0
        perf = (await request(app, "GET", "/api/monitoring/performance?window=5m")).json()
        assert perf["requests"] == 4 and perf["errors"] == 1 and perf["statuses"] == {"200": 2, "404": 1, "502": 1}
        assert perf["latency_ms"]["p50"] == pytest.approx(20, rel=0.05)
        usage = (await request(app, "GET", "/api/monitoring/usage")).json()
        assert usage["tenants"]["acme"]["requests"] == 1
        assert set(usage["agents"]) == {"planner-bot", "u-42"}
        routing = (await request(app, "GET", "/api/monitoring/routing")).json()
        assert routing["routes"]["chat"]["requests"] == 3
        assert routing["backends"]["d2"]["breaker"]["state"] == "closed"
        assert routing["backends"]["d1"]["requests"] == 1 and routing["backends"]["cache"]["requests"] == 1
        assert perf["cache"]["tiers"] == {"miss": 3, "exact": 1} and perf["cache"]["hit_rate"] == 0.5
    store = SqliteRequestLog(tmp_path / "state" / "requests.sqlite3")
    await store.open()
    rows = {r["id"]: r for r in await store.query(Query(limit=10))}
    await store.close()
    assert set(rows) == {"r1", "r2", "r3", "r4"}
    assert rows["r1"]["agent"] == "planner-bot" and rows["r1"]["tenant"] == "acme"
    assert rows["r1"]["cost"] == pytest.approx(3.5) and rows["r1"]["attempts"] == '[["d1","ok",19.0,200]]'
    assert rows["r2"]["status"] == 502 and rows["r2"]["error"] == "upstream failed"
    assert rows["r1"]["text"] is None  # no text unless configured


async def test_inflight_stage_counts_until_observed(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        g = gw(app)
        assert g.pipeline.stages[0] is g.telemetry
        t = turn(1)
        await g.pipeline.before(t)
        assert g.telemetry.inflight == 1
        g.write_back(t)
        assert g.telemetry.inflight == 0
        g.write_back(turn(2))  # never entered the pipeline: not decremented
        assert g.telemetry.inflight == 0


async def test_breaker_events_backend_down_up_and_guardian_cache(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        g = gw(app)
        breaker = g.runners["d1"].breaker
        for _ in range(breaker.failure_threshold):
            breaker.failure()
        breaker._open_until = 0  # let the probe through now
        assert breaker.allow()
        breaker.success()
        kinds = [e["kind"] for e in (await request(app, "GET", "/api/monitoring/events")).json()["recent"]]
        assert kinds == ["backend.up", "breaker.closed", "breaker.half_open", "backend.down", "breaker.open"]
        m = parse((await request(app, "GET", "/metrics")).body)
        assert value(m, "alice_events_total", kind="breaker.open") == 1
        g.guardian = SimpleNamespace(state=SimpleNamespace(value="brownout"), snapshot=lambda: {"level": 2})
        g.cache = SimpleNamespace(stats=lambda: {"exact": {"entries": 12, "hits": 3}, "semantic": {"entries": 4}})
        guardian = (await request(app, "GET", "/api/monitoring/guardian")).json()
        assert guardian["state"] == "brownout" and guardian["details"] == {"level": 2}
        m = parse((await request(app, "GET", "/metrics")).body)
        assert value(m, "alice_guardian_state", state="brownout") == 1
        assert value(m, "alice_cache_stat", name="exact.entries") == 12


async def test_feedback_flow_and_tool_precision(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        g = gw(app)
        for i in range(10):
            g.write_back(turn(i, meta={"tool": "weather"}, intent="weather"))
        for i in range(10):
            r = await request(app, "POST", "/api/feedback", {"request_id": f"r{i}", "rating": 1 if i < 8 else -1})
            assert r.status == 201, r.body
        assert (await request(app, "POST", "/api/feedback", {"request_id": "r1", "rating": 1})).status == 409
        assert (await request(app, "POST", "/api/feedback", {"request_id": "zz", "rating": 1})).status == 404
        assert (await request(app, "POST", "/api/feedback", {"request_id": "r1", "rating": 5})).status == 400
        assert (await request(app, "POST", "/api/feedback", {"request_id": "r1", "rating": True})).status == 400
        q = (await request(app, "GET", "/api/monitoring/quality")).json()
        assert q["intents"]["weather"] == {"good": 8, "bad": 2, "neutral": 0, "precision": 0.8}
        slo = (await request(app, "GET", "/api/monitoring/slo")).json()
        tp = slo["objectives"]["tool_precision"]
        assert tp["windows"]["300"]["events"] == 10 and tp["windows"]["300"]["good_ratio"] == 0.8
        assert slo["routes"]["micro"]["warning_ms"] == 144.0
        m = parse((await request(app, "GET", "/metrics")).body)
        assert value(m, "alice_feedback_total", verdict="bad") == 2


async def test_feedback_for_an_older_request_is_found_in_the_log(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        g = gw(app)
        g.write_back(turn(1, intent="timer"))
        await g.telemetry.requestlog.flush()
        g.telemetry.recent._d.clear()  # as if it had fallen out of memory
        r = await request(app, "POST", "/api/feedback", {"request_id": "r1", "rating": -1, "comment": "fel"})
        assert r.status == 201 and r.json()["intent"] == "timer"


async def test_reset_is_admin_only_and_clears_windows(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        gw(app).write_back(turn(1))
        assert (await request(app, "POST", "/api/monitoring/reset", client="10.1.2.3")).status == 403
        assert (await request(app, "GET", "/api/monitoring/performance")).json()["requests"] == 1
        assert (await request(app, "POST", "/api/monitoring/reset", client="::1")).status == 200
        assert (await request(app, "GET", "/api/monitoring/performance")).json()["requests"] == 0
        m = parse((await request(app, "GET", "/metrics")).body)
        assert value(m, "alice_requests_total") == 1  # Prometheus counters are never reset


def test_require_local_checks_the_client_address() -> None:
    from alice.api.access import require_local
    from alice.api.errors import Forbidden

    class R:
        def __init__(self, host: str) -> None:
            self.scope = {"client": (host, 1)}

    require_local(R("127.0.0.1"))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        require_local(R("192.0.2.1"))  # type: ignore[arg-type]


async def test_dashboard_files_and_bad_window(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as app:
        page = await request(app, "GET", "/dashboard")
        assert page.status == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        js = await request(app, "GET", "/dashboard/dashboard.js")
        assert js.status == 200 and b"innerHTML" not in js.body
        assert (await request(app, "GET", "/dashboard/../config.py")).status == 404
        assert (await request(app, "GET", "/api/monitoring/performance?window=99h")).status == 400
        tl = (await request(app, "GET", "/api/monitoring/timeline?window=1h")).json()
        assert len(tl["points"]) == 60


async def test_settings_errors_are_clear(tmp_path: Path) -> None:
    from alice.app import Gateway

    with pytest.raises(ValueError, match=r"telemetry\.log\.flush_interval_s"):
        Gateway(config(tmp_path, log={"flush_interval_s": -1}))


async def test_logged_text_is_redacted_by_the_guard(tmp_path: Path) -> None:
    pytest.importorskip("alice.guard.pii")
    async with running(config(tmp_path, log={"flush_interval_s": 0.05, "text": "redacted"})) as app:
        g = gw(app)
        body = {"messages": [{"role": "system", "content": "sys"},
                             {"role": "user", "content": "Ring mig på 070-123 45 67"}]}
        g.write_back(turn(1, body=body))
        await g.telemetry.requestlog.flush()
        row = await g.telemetry.requestlog.store.find("r1")
    assert row["text"] == "Ring mig på <PHONE_NUMBER_1>"
