"""The assistant mounted in a real `alice serve` in front of `alice sim`: a Swedish conversation
through POST /api/chat, its errors, the warm-up window and `model: auto` on /v1/chat/completions."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import orjson
import pytest
import yaml
from multidict import CIMultiDict

from tests.conftest import ALICE, ROOT, sim_deployments

pytestmark = pytest.mark.integration

ADMIN = "test-admin-key-0123456789"


async def post_chat(s: aiohttp.ClientSession, url: str, message: str | None, session_id: str = "s1",
                    key: str | None = None) -> tuple[int, CIMultiDict[str], dict]:
    body = {"session_id": session_id} if message is None else {"message": message, "session_id": session_id}
    headers = {"authorization": f"Bearer {key}"} if key else {}
    async with s.post(url + "/api/chat", json=body, headers=headers) as r:
        return r.status, CIMultiDict(r.headers), orjson.loads(await r.read())


async def sim_messages(s: aiohttp.ClientSession, sim_url: str) -> list[str]:
    """Every user message the upstream has received so far."""
    async with s.get(sim_url + "/control/log") as r:
        log = orjson.loads(await r.read())
    return [m["content"] for a in log for m in a.get("messages") or [] if m["role"] == "user"]


async def wait_assistant_ready(s: aiohttp.ClientSession, url: str) -> dict:
    async with asyncio.timeout(120):
        while True:
            async with s.get(url + "/ready") as r:
                state = orjson.loads(await r.read())
            if state["assistant"]["state"] != "warming":
                return state
            await asyncio.sleep(0.2)


def create_key(cfg: dict, tmp_path, tenant: str, *args: str) -> str:
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = subprocess.run([*ALICE, "keys", "create", "--tenant", tenant, *args, "-c", str(path)], capture_output=True,
                         text=True, cwd=ROOT, timeout=60, check=True)
    return out.stdout.strip().splitlines()[0]


async def test_swedish_conversation_through_api_chat(start_sim, start_alice, classifier, tmp_path) -> None:
    sim = start_sim("--log-messages")
    state = tmp_path / "state"
    # The session's e5 intent model (built once for tests/nlu and tests/assistant) is the file Alice
    # would build at its first start: copied in, the warm-up only loads it.
    model_file = classifier.cache_path()
    (state / "nlu").mkdir(parents=True)
    shutil.copy(model_file, state / "nlu" / model_file.name)
    cfg = {"deployments": sim_deployments(sim.url, "echo"), "models": {"chat": ["echo"]},
           "state": {"dir": str(state)}, "nlu": {"enabled": True}}
    key = create_key(cfg, tmp_path, "familjen")
    slow_key = create_key(cfg, tmp_path, "gäst", "--rpm", "1")
    alice = start_alice(cfg, env={"ALICE_ADMIN_KEY": ADMIN})
    async with aiohttp.ClientSession() as s:
        ready = await wait_assistant_ready(s, alice.url)
        assert ready["ready"] and ready["assistant"] == {"state": "ready", "embedder": "e5"}

        status, _, err = await post_chat(s, alice.url, "Vad är klockan?")
        assert status == 401 and err["error"]["type"] == "authentication_error"  # a key exists: no open mode

        status, h, r = await post_chat(s, alice.url, "Hej!", key=key)
        assert status == 200 and r["intent"] == "greeting.hello" and r["route"] == "tool"
        assert r["reply"] == "Hej! Vad kan jag hjälpa dig med?"

        status, h, r = await post_chat(s, alice.url, "Vad är klockan?", key=key)
        assert status == 200 and r["intent"] == "time.now" and r["tool"]["name"] == "clock.time"
        assert re.fullmatch(r"Klockan är \d\d:\d\d\.", r["reply"]), r["reply"]
        assert h["x-alice-route"] == "tool" and h["x-alice-backend"] == "none" and h["x-request-id"]
        assert set(r) >= {"reply", "intent", "confidence", "slots", "route", "tool", "cache", "latency_ms"}

        status, _, r = await post_chat(s, alice.url, "Jag behöver boka ett möte", key=key)
        assert (r["reply"], r["awaiting"]) == ("Med vem och när?", "people")
        status, _, r = await post_chat(s, alice.url, "Med Anna imorgon", key=key)
        assert (r["reply"], r["awaiting"]) == ("Vilken tid?", "time")
        status, _, r = await post_chat(s, alice.url, "Klockan 14", key=key)
        assert status == 200 and r["tool"]["name"] == "calendar.create_draft"
        event = r["tool"]["result"]["event"]
        tomorrow = (datetime.now(ZoneInfo("Europe/Stockholm")) + timedelta(days=1)).date()
        assert event["attendees"] == ["Anna"] and event["start"].startswith(f"{tomorrow.isoformat()}T14:00")
        assert r["reply"].startswith("Jag har lagt in ett utkast i kalendern: Möte med Anna")
        assert await sim_messages(s, sim.url) == []  # every turn so far was answered without a model

        status, h, r = await post_chat(s, alice.url, "Berätta något roligt om katter", "s2", key=key)
        assert status == 200 and r["route"] == "micro" and r["tool"] is None
        assert h["x-alice-route"] == "micro" and h["x-alice-backend"] == "echo"
        assert r["reply"] == "Berätta något roligt om katter"  # the echo upstream answered
        assert await sim_messages(s, sim.url) == ["Berätta något roligt om katter"]

        status, _, err = await post_chat(s, alice.url, None, key=key)
        assert status == 400 and err["error"] == {"message": "`message` is required", "type": "invalid_request_error",
                                                  "param": None, "code": "invalid_chat_message"}
        async with s.post(alice.url + "/api/chat", data=b"{nope", headers={"authorization": f"Bearer {key}"}) as resp:
            assert resp.status == 400 and "not valid JSON" in (await resp.json())["error"]["message"]

        status, _, r = await post_chat(s, alice.url, "Sätt en timer på två sekunder", key=key)
        assert status == 200 and r["tool"]["name"] == "timer.start", r
        async with asyncio.timeout(15):  # the due timer reaches the event bus (and its sinks)
            fired: list[dict] = []
            while not fired:
                await asyncio.sleep(0.5)
                async with s.get(alice.url + "/api/monitoring/events",
                                 headers={"authorization": f"Bearer {ADMIN}"}) as resp:
                    fired = [e for e in (await resp.json())["recent"] if e["kind"] == "timer.fired"]
        assert fired[0]["tenant"] == "familjen" and fired[0]["duration_s"] == 2

        status, _, r = await post_chat(s, alice.url, "Vad är klockan?", key=slow_key)
        assert status == 200 and r["intent"] == "time.now"
        status, h, err = await post_chat(s, alice.url, "Vad är klockan?", key=slow_key)  # the key's rpm, as on /v1
        assert status == 429 and err["error"]["code"] == "rate_limit_rpm" and int(h["Retry-After"]) >= 1

        async with s.get(alice.url + "/metrics") as resp:
            metrics = await resp.text()
        assert re.search(r'alice_requests_total\{backend="echo",model="chat",route="micro",status="200"\} 1\.0',
                         metrics), metrics


async def test_api_chat_answers_503_while_the_intent_model_warms_up(start_alice, tmp_path) -> None:
    # A fresh state dir: the intent model is built in a child process, which takes seconds even
    # with the fast static embedder, so the first request after start-up finds it warming.
    alice = start_alice({"nlu": {"enabled": True, "embedder": "static"}, "state": {"dir": str(tmp_path / "fresh")}})
    async with aiohttp.ClientSession() as s:
        status, h, err = await post_chat(s, alice.url, "Vad är klockan?")
        assert status == 503 and h["Retry-After"] == "5"
        assert err["error"]["code"] == "assistant_warming_up" and "warming up" in err["error"]["message"]
        async with s.get(alice.url + "/ready") as r:
            ready = await r.json()
        assert ready["assistant"] == {"state": "warming", "embedder": "static"}
    started = time.monotonic()
    alice.stop()
    assert time.monotonic() - started < 10  # shutdown does not wait for the model build


async def test_model_auto_routes_without_the_assistant(start_sim, start_alice) -> None:
    sim = start_sim()
    alice = start_alice({"deployments": sim_deployments(sim.url, "echo"), "models": {"fast": ["echo"]}})
    async with aiohttp.ClientSession() as s:
        async with s.get(alice.url + "/v1/models") as r:
            assert [m["id"] for m in (await r.json())["data"]] == ["auto", "fast"]
        code = {"model": "auto", "messages": [{"role": "user", "content": "Skriv en Python-funktion som vänder "
                                                                          "en sträng:\n```python\ndef f(s):\n```"}]}
        async with s.post(alice.url + "/v1/chat/completions", json=code) as r:
            assert r.status == 200
            assert r.headers["x-alice-route"] == "fast"  # the default tiers fall back to the only model
            assert r.headers["x-alice-tier"] == "deep" and r.headers["x-alice-route-reasons"] == "task: code"
            assert r.headers["x-alice-backend"] == "echo"
        short = {"model": "auto", "messages": [{"role": "user", "content": "Hej, hur mår du?"}]}
        async with s.post(alice.url + "/v1/chat/completions", json=short) as r:
            assert r.status == 200 and r.headers["x-alice-tier"] == "micro"
            assert (await r.json())["choices"][0]["message"]["content"] == "Hej, hur mår du?"
        async with s.post(alice.url + "/api/chat", json={"message": "Hej"}) as r:
            assert r.status == 404 and (await r.json())["error"]["code"] == "assistant_off"
        async with s.get(alice.url + "/ready") as r:
            assert (await r.json())["assistant"] == {"state": "off"}
