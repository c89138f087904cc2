"""Shared fixtures: real processes on loopback (Alice, the fault-injecting sim, Redis)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ALICE = [sys.executable, "-m", "alice"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if with an error status
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


# Alice processes started by tests run without the assistant unless a test opts in: building its
# intent model costs a minute or more of CPU on a 2-core CI machine, which most tests do not need.
NO_ASSISTANT = {"ALICE_NLU__ENABLED": "false"}


class Proc:
    def __init__(self, args: list[str], url: str, log: Path, env: dict[str, str] | None = None,
                 assistant: bool = False) -> None:
        self.url = url
        self.log = log
        self._logf = log.open("wb")
        self.proc = subprocess.Popen(args, stdout=self._logf, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**({} if assistant else NO_ASSISTANT), **os.environ, **(env or {})},
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._logf.close()
        return self.proc.returncode


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    procs: list[Proc] = []

    def start(*extra: str) -> Proc:
        port = free_port()
        p = Proc([*ALICE, "sim", "--port", str(port), *extra], f"http://127.0.0.1:{port}",
                 tmp_path / f"sim-{port}.log")
        wait_http(p.url + "/health", proc=p.proc)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def sim(start_sim: Callable[..., Proc]) -> Proc:
    return start_sim()


@pytest.fixture
def start_alice(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """Start `alice serve` with a config dict; waits until /health answers. The assistant is off
    unless the config turns it on (`nlu: {enabled: true}`)."""
    procs: list[Proc] = []

    def start(config: dict[str, Any], env: dict[str, str] | None = None, wait: str = "/health",
              timeout: float = 30.0) -> Proc:
        config = dict(config)
        port = config.setdefault("server", {}).get("port") or free_port()
        config["server"] = {**config["server"], "host": "127.0.0.1", "port": port}
        config.setdefault("state", {}).setdefault("dir", str(tmp_path / f"state-{port}"))
        path = tmp_path / f"alice-{port}.yaml"
        path.write_text(yaml.safe_dump(config))
        assistant = (config.get("nlu") or {}).get("enabled") is True
        p = Proc([*ALICE, "serve", "-c", str(path), "--log-level", "warning"], f"http://127.0.0.1:{port}",
                 tmp_path / f"alice-{port}.log", env, assistant=assistant)
        try:
            wait_http(p.url + wait, timeout=timeout, proc=p.proc)
        except Exception:
            p.stop()
            raise RuntimeError("alice did not start:\n" + p.output()) from None
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


def sim_deployments(sim_url: str, *names: str, **fields: Any) -> list[dict[str, Any]]:
    """Deployments pointing at the sim, one per behaviour name (`name` == sim model)."""
    return [{"name": n.replace(":", "_"), "provider": "openai", "base_url": sim_url + "/v1", "model": n, **fields}
            for n in names]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, started for the test session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    port = free_port()
    d = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
