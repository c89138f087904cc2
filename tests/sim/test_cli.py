"""`alice sim` as a real process: the CLI flags reach the server."""

import urllib.error
import urllib.request

import orjson
import pytest

pytestmark = pytest.mark.integration


def _post(url: str, model: str) -> tuple[int, dict[str, str], bytes]:
    body = orjson.dumps({"model": model, "messages": [{"role": "user", "content": "Hej"}]})
    req = urllib.request.Request(url + "/v1/chat/completions", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_alice_sim_serves_with_its_flags(start_sim):  # tests/conftest.py: `alice sim` subprocess
    p = start_sim("--retry-after-s", "3", "--answer", "Kort svar.", "--no-log")
    status, _, raw = _post(p.url, "ok:cli")
    assert status == 200 and orjson.loads(raw)["choices"][0]["message"]["content"] == "Kort svar."
    status, headers, _ = _post(p.url, "429-retry-after")
    assert status == 429 and headers["Retry-After"] == "3"
    with urllib.request.urlopen(p.url + "/control/log", timeout=5) as r:
        assert orjson.loads(r.read()) == []  # --no-log
    assert p.stop() == 0  # SIGTERM: a clean exit
