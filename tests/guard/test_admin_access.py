"""Operator and client surfaces besides chat, with keys configured: `alice serve` in a real process."""

from __future__ import annotations

import aiohttp
import openai
import pytest

from tests.guard.test_gateway import ADMIN, base_config, cli_key

pytestmark = pytest.mark.integration

OPERATOR = [
    ("GET", "/api/monitoring/performance"), ("GET", "/api/monitoring/routing"), ("GET", "/api/monitoring/usage"),
    ("GET", "/api/monitoring/timeline"), ("GET", "/api/monitoring/slo"), ("GET", "/api/monitoring/guardian"),
    ("GET", "/api/monitoring/quality"), ("GET", "/api/monitoring/events"), ("GET", "/api/monitoring/cache"),
    ("GET", "/api/monitoring/circuit-breakers"), ("GET", "/api/guardian/state"),
    ("POST", "/api/monitoring/reset"), ("POST", "/api/cache/purge"),
]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def test_operator_endpoints_need_the_admin_key_and_models_a_client_key(start_sim, start_alice, tmp_path):
    sim = start_sim()
    cfg = {**base_config(sim.url, tmp_path), "cache": {"enabled": True, "store": "memory"}}
    user = cli_key(cfg, tmp_path, "create", "--tenant", "acme")
    alice = start_alice(cfg, env={"ALICE_ADMIN_KEY": ADMIN})
    async with aiohttp.ClientSession() as s:
        for method, path in OPERATOR:
            async with s.request(method, alice.url + path) as r:
                assert r.status == 401, path
            async with s.request(method, alice.url + path, headers=bearer(user)) as r:
                assert r.status == 403 and (await r.json())["error"]["code"] == "admin_required", path
            async with s.request(method, alice.url + path, headers=bearer(ADMIN)) as r:
                assert r.status == 200, path
                body = await r.json()
            if path == "/api/monitoring/cache":
                assert "stores" in body and "not_stored" in body  # the cache area's own counters
            if path == "/api/cache/purge":
                assert body == {"purged": 0, "namespace": None}

        for headers in ({}, bearer("not-a-key")):
            async with s.get(alice.url + "/v1/models", headers=headers) as r:
                assert r.status == 401 and (await r.json())["error"]["type"] == "authentication_error"
            async with s.post(alice.url + "/api/feedback", json={"request_id": "x", "rating": 1},
                              headers=headers) as r:
                assert r.status == 401
        async with s.get(alice.url + "/health") as r:
            assert r.status == 200  # liveness stays open for probes

    client = openai.AsyncOpenAI(base_url=alice.url + "/v1", api_key=user, max_retries=0)
    assert sorted(m.id for m in (await client.models.list()).data) == ["auto", "echo", "ok"]
    with pytest.raises(openai.AuthenticationError):
        await openai.AsyncOpenAI(base_url=alice.url + "/v1", api_key="wrong", max_retries=0).models.list()


async def test_running_open_on_loopback_needs_no_key(start_sim, start_alice, tmp_path):
    sim = start_sim()
    alice = start_alice(base_config(sim.url, tmp_path))
    async with aiohttp.ClientSession() as s:
        for path in ("/v1/models", "/api/monitoring/performance", "/api/monitoring/circuit-breakers"):
            async with s.get(alice.url + path) as r:
                assert r.status == 200, path
        async with s.post(alice.url + "/api/monitoring/reset") as r:
            assert r.status == 200
