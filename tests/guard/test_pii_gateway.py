"""PII per destination through real processes: `alice serve` in front of `alice sim --log-messages`.
The sim's log shows what each upstream received; the client must get its own values back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.guard.test_gateway import sse_text

pytestmark = pytest.mark.integration

PNR, MAIL, PHONE = "19900101-0017", "anna.svensson@example.se", "070-123 45 67"
VALUES = (PNR, MAIL, PHONE)


def config(sim_url: str, tmp_path: Path) -> dict:
    def dep(name: str, model: str, **fields) -> dict:
        return {"name": name, "provider": "openai", "base_url": sim_url + "/v1", "model": model, **fields}

    return {
        # The sim runs on loopback, so its deployments count as local unless marked otherwise.
        "deployments": [dep("cloud", "echo:cloud", locality="cloud"), dep("local", "echo:local"),
                        dep("cloud-down", "500:cloud", locality="cloud"), dep("local-after", "echo:after")],
        "models": {"cloud": ["cloud"], "local": ["local"], "mixed": ["cloud-down", "local-after"]},
        "resilience": {"max_attempts_per_deployment": 1},
        "state": {"dir": str(tmp_path / "state")},
        "cache": {"enabled": True, "store": "sqlite"},
        "telemetry": {"log": {"text": "redacted", "flush_interval_s": 0.1}},
    }


async def ask(s: aiohttp.ClientSession, url: str, model: str, text: str, stream: bool = False) -> tuple[str, dict]:
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
    async with s.post(url + "/v1/chat/completions", json=body) as r:
        assert r.status == 200, await r.text()
        raw = await r.read()
        headers = dict(r.headers)
    if stream:
        return sse_text(raw), headers
    return orjson.loads(raw)["choices"][0]["message"]["content"], headers


async def received(s: aiohttp.ClientSession, sim_url: str, model: str) -> list[str]:
    """The user messages the sim received for `model`, oldest first."""
    async with s.get(sim_url + "/control/log") as r:
        log = orjson.loads(await r.read())
    return [a["messages"][-1]["content"] for a in log if a["model"] == model]


async def test_cloud_gets_placeholders_client_gets_its_values_local_gets_raw(start_sim, start_alice, tmp_path):
    sim = start_sim("--log-messages")
    alice = start_alice(config(sim.url, tmp_path))
    text = f"Jag heter Anna, personnummer {PNR}, mejl {MAIL}, ring {PHONE}."
    async with aiohttp.ClientSession() as s:
        answer, _ = await ask(s, alice.url, "cloud", text)
        assert answer == text  # echoed with placeholders, restored on the way back
        streamed, _ = await ask(s, alice.url, "cloud", text + " Strömmat.", stream=True)
        assert streamed == text + " Strömmat."
        sent = await received(s, sim.url, "echo:cloud")
        assert len(sent) == 2 and all(v not in m for v in VALUES for m in sent)
        assert sent[0] == ("Jag heter Anna, personnummer <SE_PERSONNUMMER_1>, mejl <EMAIL_ADDRESS_1>, "
                           "ring <PHONE_NUMBER_1>.")

        assert (await ask(s, alice.url, "local", text))[0] == text
        assert await received(s, sim.url, "echo:local") == [text]

        # One chain, two destinations: the failing cloud deployment saw placeholders, the local one
        # it fell over to saw the raw text.
        answer, headers = await ask(s, alice.url, "mixed", text)
        assert answer == text and headers["x-alice-backend"] == "local-after"
        refused = await received(s, sim.url, "500:cloud")
        assert len(refused) == 1 and all(v not in refused[0] for v in VALUES)
        assert await received(s, sim.url, "echo:after") == [text]

        async with s.get(sim.url + "/control/log") as r:
            whole_log = await r.read()
        cloud_entries = [a for a in orjson.loads(whole_log) if a["model"].endswith(":cloud")]
        assert cloud_entries and all(v not in orjson.dumps(cloud_entries).decode() for v in VALUES)

        # The cache keeps answers without PII and refuses the others; the request log holds no raw PII.
        for _ in range(2):
            await ask(s, alice.url, "cloud", "Vad är huvudstaden i Norge?")
        for _ in range(100):
            async with s.get(alice.url + "/api/monitoring/cache") as r:
                stats = await r.json()
            if stats["not_stored"].get("pii", 0) >= 4 and stats["stores"] >= 1:
                break
            await asyncio.sleep(0.05)
        assert stats["not_stored"]["pii"] >= 4 and stats["stores"] >= 1
        again, headers = await ask(s, alice.url, "cloud", text)
        assert again == text and headers["x-alice-cache"] == "miss"

    alice.stop()  # flushes the request log and closes the cache store
    files = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert any(p.name.startswith("cache") for p in files) and any(p.name.startswith("requests") for p in files)
    for p in files:
        data = p.read_bytes()
        assert all(v.encode() not in data for v in VALUES), p
