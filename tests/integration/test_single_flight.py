"""100 concurrent identical requests cause exactly one upstream call; every caller gets the whole answer."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from tests.conftest import sim_deployments
from tests.integration.test_faults import attempts_for, chat, sse_events, sse_text

pytestmark = pytest.mark.integration


@pytest.fixture
def slow_env(start_sim, start_alice):
    sim = start_sim("--latency-ms", "400", "--tokens-per-s", "200")
    alice = start_alice({"deployments": sim_deployments(sim.url, "echo"), "models": {"echo": ["echo"]},
                         "cache": {"enabled": False}})
    return sim.url, alice.url


@pytest.mark.parametrize("stream", [False, True])
async def test_100_identical_requests_one_upstream_call(slow_env, stream):
    sim_url, alice_url = slow_env
    content = f"single-flight {stream} {time.time()}"
    results = await asyncio.gather(*(chat(alice_url, "echo", stream=stream, content=content) for _ in range(100)))
    assert all(r[0] == 200 for r in results)
    if stream:
        assert all(sse_events(r[2])[-1] == "[DONE]" for r in results)
        texts = {sse_text(sse_events(r[2])) for r in results}
    else:
        texts = {orjson.loads(r[2])["choices"][0]["message"]["content"] for r in results}
    assert len(texts) == 1 and content in texts.pop()
    assert len(attempts_for(sim_url, "echo")) == 1


async def test_different_requests_are_not_shared(slow_env):
    sim_url, alice_url = slow_env
    results = await asyncio.gather(*(chat(alice_url, "echo", content=f"q{i}") for i in range(5)))
    for i, r in enumerate(results):
        assert f"q{i}" in orjson.loads(r[2])["choices"][0]["message"]["content"]
    assert len(attempts_for(sim_url, "echo")) == 5
