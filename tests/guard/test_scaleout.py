"""Three `alice serve` replicas sharing one real Redis enforce ONE limit, not three: 200 concurrent
clients spread over the replicas, a key with rpm 100 → exactly 100 admitted. The same for a
deployment's own rpm budget, and an Idempotency-Key retried on another replica is replayed."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import orjson
import pytest
import yaml

from tests.conftest import ALICE, Proc, free_port, sim_deployments, wait_http
from tests.guard.test_gateway import cli_key, sim_calls

pytestmark = pytest.mark.integration

REPLICAS = 3
CLIENTS = 200


@pytest.fixture(scope="module")
def cluster(redis_server, tmp_path_factory):
    """One sim and three replicas for the whole module (starting them is most of the time)."""
    tmp = tmp_path_factory.mktemp("scaleout")
    port = free_port()
    sim = Proc([*ALICE, "sim", "--port", str(port)], f"http://127.0.0.1:{port}", tmp / "sim.log")
    wait_http(sim.url + "/health", proc=sim.proc)
    deployments = [*sim_deployments(sim.url, "ok", "echo"), *sim_deployments(sim.url, "ok:budget", rpm=50)]
    cfg = {
        "deployments": deployments,
        "models": {"ok": ["ok"], "echo": ["echo"], "budget": ["ok_budget"]},
        "state": {"redis_url": redis_server, "dir": str(tmp / "cli")},
        "cache": {"enabled": False},
        # A fresh namespace: the session's Redis is shared with other tests.
        "guard": {"redis_prefix": f"scale{uuid.uuid4().hex[:8]}:", "guardian": {"enabled": False}},
    }
    key = cli_key(cfg, tmp, "create", "--tenant", "acme", "--rpm", "100")
    free = cli_key(cfg, tmp, "create", "--tenant", "bulk")
    replicas = []
    try:
        for i in range(REPLICAS):
            port = free_port()
            path = tmp / f"r{i}.yaml"
            path.write_text(yaml.safe_dump({**cfg, "server": {"host": "127.0.0.1", "port": port},
                                            "state": {**cfg["state"], "dir": str(tmp / f"r{i}")}}))
            replica = Proc([*ALICE, "serve", "-c", str(path), "--log-level", "warning"], f"http://127.0.0.1:{port}",
                           tmp / f"r{i}.log")
            replicas.append(replica)
            wait_http(replica.url + "/health", proc=replica.proc)
        yield sim, replicas, key, free
    finally:
        for p in [*replicas, sim]:
            p.stop()


async def burst(replicas, key, model, n):
    """n concurrent requests, round-robin over the replicas; returns the status codes."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as s:
        async def one(i):
            body = {"model": model, "messages": [{"role": "user", "content": f"fråga {i}"}]}
            async with s.post(replicas[i % len(replicas)].url + "/v1/chat/completions", json=body,
                              headers={"authorization": f"Bearer {key}"}) as r:
                await r.read()
                return r.status, r.headers.get("retry-after")

        return await asyncio.gather(*(one(i) for i in range(n)))


async def test_three_replicas_enforce_one_rpm_limit(cluster):
    _, replicas, key, _ = cluster
    results = await burst(replicas, key, "ok", CLIENTS)
    statuses = [s for s, _ in results]
    assert statuses.count(200) == 100, statuses  # not 300: the limit is not multiplied by the replicas
    assert statuses.count(429) == 100
    assert all(ra is not None and int(ra) >= 1 for s, ra in results if s == 429)


async def test_three_replicas_respect_one_deployment_budget(cluster):
    sim, replicas, _, free = cluster
    results = await burst(replicas, free, "budget", 120)
    statuses = [s for s, _ in results]
    assert statuses.count(200) == 50, statuses
    assert statuses.count(503) == 70
    async with aiohttp.ClientSession() as s:
        assert await sim_calls(s, sim.url, "ok:budget") == 50


async def test_idempotency_key_replayed_on_another_replica(cluster):
    sim, replicas, _, free = cluster
    body = {"model": "echo", "messages": [{"role": "user", "content": "bara en gång"}]}
    headers = {"authorization": f"Bearer {free}", "Idempotency-Key": "order-42"}
    answers = []
    async with aiohttp.ClientSession() as s:
        for replica in replicas:
            async with s.post(replica.url + "/v1/chat/completions", json=body, headers=headers) as r:
                answers.append((r.status, await r.read()))
            await asyncio.sleep(0.05)
        assert [a[0] for a in answers] == [200] * REPLICAS
        assert len({a[1] for a in answers}) == 1  # byte-identical replays
        assert orjson.loads(answers[0][1])["choices"][0]["message"]["content"] == "bara en gång"
        assert await sim_calls(s, sim.url, "echo") == 1
