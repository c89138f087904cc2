"""Alice in front of a real llama.cpp server (managed) serving the bundled SmolLM2 model."""

from __future__ import annotations

import os
import signal
import time
import urllib.request

import orjson
import pytest
from openai import OpenAI

pytestmark = pytest.mark.integration

CONFIG = {
    "deployments": [{"name": "local", "provider": "managed", "model": "bundled:smollm2-135m", "n_ctx": 1024}],
    "models": {"chat": ["local"]},
}


@pytest.fixture(scope="module")
def alice(tmp_path_factory):
    # Module scope: one model load serves every test here.
    import tests.conftest as c

    tmp = tmp_path_factory.mktemp("llama")
    port = c.free_port()
    cfg = {**CONFIG, "server": {"host": "127.0.0.1", "port": port}, "state": {"dir": str(tmp / "state")}}
    path = tmp / "alice.yaml"
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    proc = c.Proc([*c.ALICE, "serve", "-c", str(path)], f"http://127.0.0.1:{port}", tmp / "alice.log")
    try:
        c.wait_http(proc.url + "/health", proc=proc.proc)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(proc.url + "/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the managed model never became ready:\n" + proc.output())
        yield proc
    finally:
        proc.stop()


def client(alice) -> OpenAI:
    return OpenAI(base_url=alice.url + "/v1", api_key="unused", max_retries=0)


def test_openai_client_non_streaming_with_usage(alice):
    raw = client(alice).chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "Say hello."}], max_tokens=12)
    r = raw.parse()
    assert r.choices[0].message.content.strip()
    assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert raw.headers["x-alice-backend"] == "local"
    assert raw.headers["x-alice-route"] == "chat"
    assert float(raw.headers["x-alice-overhead-ms"]) >= 0
    assert raw.headers["x-request-id"]


def test_openai_client_streaming_with_include_usage(alice):
    stream = client(alice).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "Count to three."}], max_tokens=16, stream=True,
        stream_options={"include_usage": True})
    text, usage, finish = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(text).strip()
    assert finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens > 0


def test_stream_without_include_usage_has_no_usage_chunk(alice):
    req = urllib.request.Request(
        alice.url + "/v1/chat/completions", method="POST", headers={"content-type": "application/json"},
        data=orjson.dumps({"model": "chat", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5,
                           "stream": True}))
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read().decode()
    events = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert not any('"usage"' in e and '"choices":[]' in e.replace(" ", "") for e in events[:-1])


def test_managed_server_is_restarted_when_it_dies(alice):
    import subprocess

    out = subprocess.run(["pgrep", "-f", "llama_cpp.server"], capture_output=True, text=True).stdout.split()
    children = [int(p) for p in out if _parent(int(p)) == alice.pid]
    assert children, "no llama.cpp child found"
    os.kill(children[0], signal.SIGKILL)
    deadline = time.monotonic() + 120
    answered = False
    while time.monotonic() < deadline and not answered:
        try:
            r = client(alice).chat.completions.create(
                model="chat", messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
            answered = bool(r.choices)
        except Exception:
            time.sleep(0.5)
    assert answered
    out = subprocess.run(["pgrep", "-f", "llama_cpp.server"], capture_output=True, text=True).stdout.split()
    assert [int(p) for p in out if _parent(int(p)) == alice.pid] != children


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def test_two_workers_share_one_managed_server(start_alice, redis_server):
    """`server.workers: 2` with a managed model: the parent runs one llama.cpp server that both
    workers use, and a clean stop takes it down."""
    import subprocess

    alice = start_alice({**CONFIG, "server": {"workers": 2}, "state": {"redis_url": redis_server}}, wait="/ready",
                        timeout=120)

    def servers() -> list[int]:
        out = subprocess.run(["pgrep", "-f", "llama_cpp.server"], capture_output=True, text=True).stdout.split()
        return [int(p) for p in out if _parent(int(p)) == alice.pid]

    assert len(servers()) == 1
    for i in range(4):  # fresh connections, so both workers get a turn
        r = client(alice).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": f"Say {i}."}], max_tokens=4)
        assert r.choices[0].message.content is not None
    assert len(servers()) == 1
    child = servers()[0]
    assert alice.stop() in (0, -signal.SIGTERM)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{child}"), "the llama.cpp server outlived Alice"
