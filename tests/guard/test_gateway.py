"""The guard wired into the real gateway: `alice serve` in front of `alice sim`, driven by the
official OpenAI client and raw HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import aiohttp
import openai
import orjson
import pytest
import yaml
from multidict import CIMultiDict

from tests.conftest import ALICE, ROOT, free_port, sim_deployments

pytestmark = pytest.mark.integration

ADMIN = "test-admin-key-0123456789"


def cli_key(cfg: dict, tmp_path, *args: str) -> str:
    path = tmp_path / f"keys-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = subprocess.run([*ALICE, "keys", *args, "-c", str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=60, check=True)
    return out.stdout.strip().splitlines()[0]


def base_config(sim_url: str, tmp_path, **extra) -> dict:
    return {
        "deployments": sim_deployments(sim_url, "ok", "echo"),
        "models": {"ok": ["ok"], "echo": ["echo"]},
        "state": {"dir": str(tmp_path / "state")},
        "cache": {"enabled": False},  # every request must reach the guard's own logic and the sim
        **extra,
    }


async def post(session, url, body, key=None, **headers):
    h = {**({"authorization": f"Bearer {key}"} if key else {}), **headers}
    async with session.post(url + "/v1/chat/completions", json=body, headers=h) as r:
        return r.status, CIMultiDict(r.headers), await r.read()


def chat(model="echo", text="hej", **kw):
    return {"model": model, "messages": [{"role": "user", "content": text}], **kw}


async def sim_calls(session, sim_url, model):
    async with session.get(sim_url + "/control/log") as r:
        return sum(1 for a in orjson.loads(await r.read()) if a["model"] == model)


async def test_openai_client_sees_401_403_429_and_answers(start_sim, start_alice, tmp_path):
    sim = start_sim()
    cfg = base_config(sim.url, tmp_path)
    key = cli_key(cfg, tmp_path, "create", "--tenant", "acme", "--rpm", "3", "--models", "echo")
    alice = start_alice(cfg)

    ok = openai.AsyncOpenAI(base_url=alice.url + "/v1", api_key=key, max_retries=0)
    answer = await ok.chat.completions.create(model="echo", messages=[{"role": "user", "content": "hej"}])
    assert answer.choices[0].message.content == "hej"
    stream = await ok.chat.completions.create(model="echo", messages=[{"role": "user", "content": "strömmen"}],
                                              stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices]) == "strömmen"

    with pytest.raises(openai.PermissionDeniedError) as denied:
        await ok.chat.completions.create(model="ok", messages=[{"role": "user", "content": "x"}])
    assert denied.value.status_code == 403 and denied.value.code == "model_not_allowed"

    await ok.chat.completions.create(model="echo", messages=[{"role": "user", "content": "3"}])
    with pytest.raises(openai.RateLimitError) as limited:
        await ok.chat.completions.create(model="echo", messages=[{"role": "user", "content": "4"}])
    assert limited.value.status_code == 429 and int(limited.value.response.headers["retry-after"]) >= 1

    bad = openai.AsyncOpenAI(base_url=alice.url + "/v1", api_key="alice_000000000000_nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as unauth:
        await bad.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}])
    assert unauth.value.status_code == 401
    assert unauth.value.body["type"] == "authentication_error"  # an OpenAI error body
    async with aiohttp.ClientSession() as s:
        status, _, raw = await post(s, alice.url, chat())
        assert status == 401 and b"missing API key" in raw


async def test_public_bind_without_keys_refuses_to_start(start_sim, tmp_path):
    sim = start_sim()
    path = tmp_path / "public.yaml"
    path.write_text(yaml.safe_dump({**base_config(sim.url, tmp_path), "server": {"port": free_port()}}))
    env = {k: v for k, v in os.environ.items() if k != "ALICE_ADMIN_KEY"}
    proc = await asyncio.to_thread(subprocess.run, [*ALICE, "serve", "-c", str(path), "--host", "0.0.0.0"],
                                   capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)
    assert proc.returncode != 0
    assert "refusing to start" in proc.stdout + proc.stderr


async def test_keys_created_and_revoked_while_running(start_sim, start_alice, tmp_path):
    sim = start_sim()
    cfg = base_config(sim.url, tmp_path, guard={"keys_refresh_s": 0.2})
    alice = start_alice(cfg)
    async with aiohttp.ClientSession() as s:
        assert (await post(s, alice.url, chat()))[0] == 200  # open: loopback, no keys yet
        key = cli_key(cfg, tmp_path, "create", "--tenant", "acme")
        await asyncio.sleep(0.8)
        assert (await post(s, alice.url, chat()))[0] == 401  # a key exists: no longer open
        assert (await post(s, alice.url, chat(), key))[0] == 200
        cli_key(cfg, tmp_path, "revoke", key[6:18])
        await asyncio.sleep(0.8)
        assert (await post(s, alice.url, chat(), key))[0] == 401


async def test_guardian_state_endpoint_needs_admin(start_sim, start_alice, tmp_path):
    sim = start_sim()
    cfg = base_config(sim.url, tmp_path)
    user = cli_key(cfg, tmp_path, "create", "--tenant", "acme")
    alice = start_alice(cfg, env={"ALICE_ADMIN_KEY": ADMIN})
    async with aiohttp.ClientSession() as s:
        async with s.get(alice.url + "/api/guardian/state") as r:
            assert r.status == 401
        async with s.get(alice.url + "/api/guardian/state", headers={"authorization": f"Bearer {user}"}) as r:
            assert r.status == 403
        async with s.get(alice.url + "/api/guardian/state", headers={"authorization": f"Bearer {ADMIN}"}) as r:
            state = await r.json()
            assert r.status == 200 and state["state"] == "normal" and "in_flight" in state["signals"]
        async with s.get(alice.url + "/openapi.json") as r:
            spec = await r.json()
            assert r.status == 200 and "/v1/chat/completions" in spec["paths"]
            assert spec["components"]["schemas"]["ChatCompletionRequest"]["properties"]["model"]["enum"] == [
                "auto", "echo", "ok"]  # `auto`: the router picks the tier


async def test_request_caps_and_token_limits_end_to_end(start_sim, start_alice, tmp_path):
    sim = start_sim()
    cfg = base_config(sim.url, tmp_path, guard={"defaults": {"max_messages": 4, "max_tokens": 200}})
    key = cli_key(cfg, tmp_path, "create", "--tenant", "acme", "--tpm", "300")
    alice = start_alice(cfg)
    async with aiohttp.ClientSession() as s:
        many = {"model": "echo", "messages": [{"role": "user", "content": "x"}] * 5}
        status, _, raw = await post(s, alice.url, many, key)
        assert status == 413 and orjson.loads(raw)["error"]["code"] == "too_many_messages"
        status, _, raw = await post(s, alice.url, chat(max_tokens=201), key)
        assert status == 400 and orjson.loads(raw)["error"]["param"] == "max_tokens"
        # 300 tokens per minute: each request reserves prompt + 100; the sim's real usage is a few tokens,
        # so after reconciliation many more fit than the reservations alone would allow.
        statuses = []
        for i in range(6):
            statuses.append((await post(s, alice.url, chat(text=f"hej {i}", max_tokens=100), key))[0])
            await asyncio.sleep(0.05)  # let the after-hook reconcile
        assert statuses == [200] * 6


async def test_idempotency_replays_without_a_second_upstream_call(start_sim, start_alice, tmp_path):
    sim = start_sim("--latency-ms", "800")
    alice = start_alice(base_config(sim.url, tmp_path, guard={"idempotency": {"in_progress_wait_s": 0}}))
    async with aiohttp.ClientSession() as s:
        first, dup = await asyncio.gather(post(s, alice.url, chat(text="en gång"), **{"Idempotency-Key": "abc"}),
                                          _later(0.3, post(s, alice.url, chat(text="en gång"),
                                                           **{"Idempotency-Key": "abc"})))
        assert first[0] == 200 and dup[0] == 409, (first, dup)
        again = await post(s, alice.url, chat(text="en gång"), **{"Idempotency-Key": "abc"})
        assert again[0] == 200 and again[2] == first[2]
        assert await sim_calls(s, sim.url, "echo") == 1
        other = await post(s, alice.url, chat(text="annat"), **{"Idempotency-Key": "abc"})
        assert other[0] == 422
        streamed = await post(s, alice.url, chat(text="en gång", stream=True), **{"Idempotency-Key": "s1"})
        replay = await post(s, alice.url, chat(text="en gång", stream=True), **{"Idempotency-Key": "s1"})
        assert streamed[0] == replay[0] == 200 and replay[2].endswith(b"data: [DONE]\n\n")
        assert sse_text(replay[2]) == sse_text(streamed[2]) == "en gång"
        assert await sim_calls(s, sim.url, "echo") == 2


async def test_a_retry_sent_the_moment_the_answer_arrived_is_replayed(start_sim, start_alice, tmp_path):
    # The record is stored before the answer's last frame goes out, so there is no window in which
    # the client holds the whole answer but its retry would be told "still in progress" (409).
    sim = start_sim()
    cfg = base_config(sim.url, tmp_path, guard={"idempotency": {"in_progress_wait_s": 0}})
    cfg["deployments"] += sim_deployments(sim.url, "500")
    cfg["models"]["broken"] = ["500"]
    alice = start_alice(cfg)
    async with aiohttp.ClientSession() as s:
        for i in range(5):  # a failed answer releases the key before the error goes out: the retry runs
            key = {"Idempotency-Key": f"broken-{i}"}
            codes = [orjson.loads((await post(s, alice.url, chat(model="broken"), **key))[2])["error"]["code"]
                     for _ in range(2)]
            assert set(codes) <= {"upstream_error", "upstream_unavailable"}, (i, codes)  # not "in progress"
        for i in range(15):
            for stream in (False, True):
                key = {"Idempotency-Key": f"k{i}-{stream}"}
                first = await post(s, alice.url, chat(text=f"fråga {i}", stream=stream), **key)
                retry = await post(s, alice.url, chat(text=f"fråga {i}", stream=stream), **key)
                assert first[0] == retry[0] == 200, (i, stream, retry)
                assert retry[2] == first[2] if not stream else sse_text(retry[2]) == sse_text(first[2])
        assert await sim_calls(s, sim.url, "echo") == 30


def sse_text(raw: bytes) -> str:
    parts = []
    for line in raw.split(b"\n"):
        if line.startswith(b"data: {"):
            for choice in orjson.loads(line[6:]).get("choices") or ():
                parts.append((choice.get("delta") or {}).get("content") or "")
    return "".join(parts)


async def _later(seconds, coro):
    await asyncio.sleep(seconds)
    return await coro


async def test_deployment_rpm_budget_routes_around_and_then_503(start_sim, start_alice, tmp_path):
    sim = start_sim()
    deployments = [*sim_deployments(sim.url, "ok:a", rpm=2), *sim_deployments(sim.url, "ok:b")]
    alice = start_alice({"deployments": deployments, "models": {"spill": ["ok_a", "ok_b"], "only": ["ok_a"]},
                         "state": {"dir": str(tmp_path / "state")}, "cache": {"enabled": False}})
    async with aiohttp.ClientSession() as s:
        answers = [await post(s, alice.url, chat("spill", text=str(i))) for i in range(4)]
        assert [a[0] for a in answers] == [200] * 4, answers
        served = [a[1]["x-alice-backend"] for a in answers]
        assert served == ["ok_a", "ok_a", "ok_b", "ok_b"]
        status, headers, raw = await post(s, alice.url, chat("only", text="x"))
        assert status == 503 and int(headers.get("retry-after", 0)) >= 1, (headers, raw)
        assert b"request budget" in raw
        assert await sim_calls(s, sim.url, "ok:a") == 2


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc via psutil")
async def test_health_answers_while_requests_run(start_sim, start_alice, tmp_path):
    sim = start_sim("--latency-ms", "500")
    alice = start_alice(base_config(sim.url, tmp_path))
    async with aiohttp.ClientSession() as s:
        slow = asyncio.ensure_future(post(s, alice.url, chat()))
        await asyncio.sleep(0.1)
        async with s.get(alice.url + "/api/guardian/state") as r:
            assert (await r.json())["in_flight"] == 1
        assert (await slow)[0] == 200
        await asyncio.sleep(0.05)
        async with s.get(alice.url + "/api/guardian/state") as r:
            assert (await r.json())["in_flight"] == 0
