"""The fault matrix: Alice in front of `alice sim`, asserting what the client got and what the
upstream saw (attempt counts and spacing)."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import aiohttp
import orjson
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.integration

RETRY_UNIT = 0.05  # s per profile step: retries 1,1,2,… → 0.05 s, 0.05 s, 0.1 s …


def dep(sim_url: str, name: str, model: str, **kw):
    return {"name": name, "provider": "openai", "base_url": sim_url + "/v1", "model": model, **kw}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One sim and one Alice with a public model per scenario."""
    import yaml

    from tests.conftest import ALICE, Proc, wait_http

    tmp = tmp_path_factory.mktemp("faults")
    sim_port = free_port()
    sim = Proc([*ALICE, "sim", "--port", str(sim_port), "--flap-window-s", "1.0", "--ttft-ms", "3000",
                "--stall-s", "30", "--retry-after-s", "1"], f"http://127.0.0.1:{sim_port}", tmp / "sim.log")
    wait_http(sim.url + "/health", proc=sim.proc)
    s = sim.url
    deployments = [
        dep(s, "ok", "ok:a"), dep(s, "ok2", "ok:b"),
        dep(s, "e500once", "500-once"), dep(s, "e503", "503"), dep(s, "e503b", "503:b"), dep(s, "e429", "429"),
        dep(s, "e429ra", "429-retry-after"), dep(s, "reset", "reset"), dep(s, "hang", "hang"),
        dep(s, "slow", "slow-ttft"), dep(s, "cut", "stream-cut"), dep(s, "stall", "stream-stall"),
        dep(s, "malformed", "malformed-chunk"), dep(s, "nodone", "no-done"),
        dep(s, "ctx_small", "context-length", context_window=4096),
        dep(s, "ctx_same_model", "context-length", context_window=4096),
        dep(s, "ctx_big", "ok:big", context_window=32768),
        dep(s, "filter", "content-filter"), dep(s, "flap", "flap"), dep(s, "breaker503", "503:brk"),
        dep(s, "echo", "echo"),
    ]
    models = {
        "ok": ["ok"], "500once": ["e500once"], "503-then-ok": ["e503", "ok"], "503": ["e503b"],
        "429-then-ok": ["e429", "ok"], "429ra": ["e429ra"], "reset-then-ok": ["reset", "ok"],
        "hang-then-ok": ["hang", "ok"], "slow-then-ok": ["slow", "ok"], "cut": ["cut", "ok"],
        "stall": ["stall", "ok"], "malformed": ["malformed", "ok"], "nodone": ["nodone"],
        "ctx": ["ctx_small", "ctx_same_model", "ctx_big"], "ctx-nowhere": ["ctx_small"],
        "filter": ["filter", "ok"], "flap": ["flap"], "breaker": ["breaker503"], "echo": ["echo"],
    }
    port = free_port()
    cfg = {
        "server": {"host": "127.0.0.1", "port": port}, "state": {"dir": str(tmp / "state")},
        "deployments": deployments, "models": models,
        "resilience": {
            "max_attempts_per_deployment": 2, "retry_unit_s": RETRY_UNIT, "retry_after_max_s": 2,
            "breaker_failure_threshold": 3, "breaker_backoff_scale": 0.5,
            "timeouts": {"connect": 0.5, "headers": 0.8, "first_token": 0.8, "gap": 0.5, "total": 1.5},
        },
        "cache": {"enabled": False},
    }
    path = tmp / "alice.yaml"
    path.write_text(yaml.safe_dump(cfg))
    alice = Proc([*ALICE, "serve", "-c", str(path), "--log-level", "warning"], f"http://127.0.0.1:{port}",
                 tmp / "alice.log")
    try:
        wait_http(alice.url + "/health", proc=alice.proc)
    except Exception:
        raise RuntimeError(alice.output()) from None
    yield sim.url, alice.url
    alice.stop()
    sim.stop()


def sim_log(sim_url: str) -> list[dict]:
    with urllib.request.urlopen(sim_url + "/control/log", timeout=5) as r:
        data = orjson.loads(r.read())
    return data["attempts"] if isinstance(data, dict) else data


def attempts_for(sim_url: str, prefix: str) -> list[dict]:
    return [a for a in sim_log(sim_url) if str(a["model"]).split(":")[0] == prefix]


def reset(sim_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(sim_url + "/control/reset", method="POST"), timeout=5).read()


async def chat(url: str, model: str, *, stream: bool = False, content: str = "Hej", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream, **extra}
    async with aiohttp.ClientSession() as s, s.post(url + "/v1/chat/completions", json=body) as r:
        raw = await r.read()
        return r.status, r.headers, raw


def sse_events(raw: bytes) -> list[str]:
    return [line[6:] for line in raw.decode().split("\n") if line.startswith("data: ")]


def sse_text(events: list[str]) -> str:
    out = []
    for e in events:
        if e == "[DONE]":
            continue
        d = orjson.loads(e)
        for c in d.get("choices", []):
            out.append((c.get("delta") or {}).get("content") or "")
    return "".join(out)


@pytest.fixture
def sim_url(env):
    reset(env[0])
    return env[0]


@pytest.fixture
def alice_url(env):
    return env[1]


async def healthy_text(alice_url: str) -> str:
    status, _, raw = await chat(alice_url, "ok")
    assert status == 200
    return orjson.loads(raw)["choices"][0]["message"]["content"]


async def test_ok_passes_through(sim_url, alice_url):
    status, headers, raw = await chat(alice_url, "ok")
    assert status == 200
    body = orjson.loads(raw)
    assert body["choices"][0]["message"]["content"]
    assert body["usage"]["total_tokens"] > 0
    assert headers["x-alice-backend"] == "ok" and headers["x-alice-route"] == "ok"
    assert len(attempts_for(sim_url, "ok")) == 1


async def test_500_once_is_retried_after_the_profile_delay(sim_url, alice_url):
    status, headers, _ = await chat(alice_url, "500once")
    assert status == 200 and headers["x-alice-backend"] == "e500once"
    seen = attempts_for(sim_url, "500-once")
    assert len(seen) == 2
    gap = seen[1]["t"] - seen[0]["t"]
    assert gap >= RETRY_UNIT * (1 - 0.382) * 0.9  # first retry delay: 1 unit, jitter keeps ≥ 61.8 %


async def test_503_falls_over_and_reports_the_backup(sim_url, alice_url):
    status, headers, raw = await chat(alice_url, "503-then-ok")
    assert status == 200
    assert headers["x-alice-backend"] == "ok"
    assert orjson.loads(raw)["model"] == "ok:a"  # the model of the deployment that served it
    assert len(attempts_for(sim_url, "503")) == 2  # max_attempts_per_deployment
    assert len(attempts_for(sim_url, "ok")) == 1


async def test_all_down_is_502_with_the_last_upstream_reason(sim_url, alice_url):
    status, _, raw = await chat(alice_url, "503")
    assert status == 502
    err = orjson.loads(raw)["error"]
    assert "503" in err["message"]


async def test_429_falls_over(sim_url, alice_url):
    status, headers, _ = await chat(alice_url, "429-then-ok")
    assert status == 200 and headers["x-alice-backend"] == "ok"


async def test_retry_after_is_honoured_then_503_with_retry_after(sim_url, alice_url):
    status, headers, raw = await chat(alice_url, "429ra")
    seen = attempts_for(sim_url, "429-retry-after")
    assert len(seen) == 2
    assert seen[1]["t"] - seen[0]["t"] >= 0.95  # the upstream's Retry-After: 1
    assert status == 503
    assert int(headers["retry-after"]) >= 1
    assert orjson.loads(raw)["error"]["type"] == "service_unavailable"


async def test_connection_reset_falls_over(sim_url, alice_url):
    status, headers, _ = await chat(alice_url, "reset-then-ok")
    assert status == 200 and headers["x-alice-backend"] == "ok"


async def test_hang_hits_the_deadline_and_falls_over(sim_url, alice_url):
    t0 = time.monotonic()
    status, headers, _ = await chat(alice_url, "hang-then-ok")
    assert status == 200 and headers["x-alice-backend"] == "ok"
    assert time.monotonic() - t0 < 6  # two 1.5 s total deadlines plus a retry delay, not forever


async def test_slow_first_token_falls_over_before_commit(sim_url, alice_url):
    status, headers, raw = await chat(alice_url, "slow-then-ok", stream=True)
    assert status == 200 and headers["x-alice-backend"] == "ok"
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    assert sse_text(events) == await healthy_text(alice_url)


@pytest.mark.parametrize("model", ["cut", "stall", "malformed"])
async def test_stream_faults_never_pass_as_complete(sim_url, alice_url, model):
    status, headers, raw = await chat(alice_url, model, stream=True)
    events = sse_events(raw)
    full = await healthy_text(alice_url)
    assert status == 200
    for e in events:
        if e != "[DONE]":
            orjson.loads(e)  # a malformed chunk never leaks to the client
    if headers["x-alice-backend"] == "ok":
        # the fault came before the first content chunk: transparent failover
        assert events[-1] == "[DONE]" and sse_text(events) == full
    else:
        # after the commit point: an explicit error event, no [DONE]
        assert "[DONE]" not in events
        assert "error" in orjson.loads(events[-1])
        assert sse_text(events) != full


async def test_stream_without_done_is_finalised_promptly(sim_url, alice_url):
    t0 = time.monotonic()
    status, _, raw = await chat(alice_url, "nodone", stream=True)
    events = sse_events(raw)
    assert status == 200
    assert events[-1] == "[DONE]"
    assert sse_text(events) == await healthy_text(alice_url)
    assert time.monotonic() - t0 < 1.5


async def test_context_length_skips_to_a_larger_window_never_the_same_model(sim_url, alice_url):
    status, headers, _ = await chat(alice_url, "ctx")
    assert status == 200 and headers["x-alice-backend"] == "ctx_big"
    assert len(attempts_for(sim_url, "context-length")) == 1  # not retried, same model skipped


async def test_context_length_with_no_larger_window_is_returned(sim_url, alice_url):
    status, _, raw = await chat(alice_url, "ctx-nowhere")
    assert status == 400
    assert orjson.loads(raw)["error"]["code"] == "context_length_exceeded"


async def test_content_filter_is_propagated_not_retried(sim_url, alice_url):
    status, _, raw = await chat(alice_url, "filter")
    assert status == 400
    assert orjson.loads(raw)["error"]["code"] == "content_filter"
    assert len(attempts_for(sim_url, "content-filter")) == 1
    assert attempts_for(sim_url, "ok") == []


async def test_breaker_opens_then_probes_once(sim_url, alice_url):
    # 2 attempts per request, threshold 3: the second request opens the breaker.
    assert (await chat(alice_url, "breaker"))[0] == 502
    assert (await chat(alice_url, "breaker"))[0] in (502, 503)
    seen_open = len(attempts_for(sim_url, "503"))
    results = await asyncio.gather(*(chat(alice_url, "breaker") for _ in range(20)))
    assert all(r[0] == 503 for r in results)  # refused fast while open
    assert len(attempts_for(sim_url, "503")) == seen_open  # nothing reached the upstream
    async with aiohttp.ClientSession() as s, s.get(alice_url + "/api/monitoring/circuit-breakers") as r:
        assert (await r.json())["breaker503"]["state"] == "open"
    await asyncio.sleep(0.6)  # backoff 1 s x scale 0.5
    results = await asyncio.gather(*(chat(alice_url, "breaker") for _ in range(20)))
    assert len(attempts_for(sim_url, "503")) == seen_open + 1  # exactly one half-open probe
    assert all(r[0] in (502, 503) for r in results)


async def test_flap_recovers_after_its_window(sim_url, alice_url):
    assert (await chat(alice_url, "flap"))[0] == 502
    await asyncio.sleep(1.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, _, _ = await chat(alice_url, "flap")
        if status == 200:
            break
        await asyncio.sleep(0.3)
    assert status == 200
