"""Start and stop the processes a benchmark measures (sim upstream, Alice), on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

__all__ = ["LITELLM", "Service", "cpu_seconds", "free_port", "rss_mb", "run_alice", "run_litellm", "run_sim"]

# LiteLLM lives in its own venv (`make bench-peer`), so its pins never touch Alice's.
LITELLM = Path(".bench/litellm/bin/litellm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.perf_counter() - start
        except urllib.error.HTTPError:
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(url)


class Service:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, ready_s: float) -> None:
        self.proc = proc
        self.url = url
        self.ready_s = ready_s

    @property
    def pid(self) -> int:
        return self.proc.pid


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def _service(args: list[str], port: int, health: str) -> Iterator[Service]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = _wait(f"http://127.0.0.1:{port}{health}", proc)
        yield Service(proc, f"http://127.0.0.1:{port}", ready)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def run_sim(*extra: str) -> Iterator[Service]:
    port = free_port()
    with _service([sys.executable, "-m", "alice", "sim", "--port", str(port), *extra], port, "/health") as s:
        yield s


@contextlib.contextmanager
def run_alice(config: dict[str, Any]) -> Iterator[Service]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = {**config, "server": {**config.get("server", {}), "host": "127.0.0.1", "port": port},
               "state": config.get("state") or {"dir": str(Path(tmp) / "state")},
               # The gateway benchmarks measure /v1; the assistant's first model build (a minute or more
               # of CPU in a fresh state dir) would run alongside them.
               "nlu": config.get("nlu") or {"enabled": False}}
        path = Path(tmp) / "alice.yaml"
        path.write_text(yaml.safe_dump(cfg))
        args = [sys.executable, "-m", "alice", "serve", "-c", str(path), "--log-level", "warning"]
        with _service(args, port, "/health") as s:
            yield s


@contextlib.contextmanager
def run_litellm(sim_url: str, public_model: str = "bench") -> Iterator[Service]:
    """A LiteLLM proxy (1 worker) in front of the same sim, for a side-by-side comparison."""
    if not LITELLM.exists():
        raise RuntimeError(f"{LITELLM} not found: run `make bench-peer` to install LiteLLM in its own venv")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = {"model_list": [{"model_name": public_model, "litellm_params": {
            "model": "openai/ok", "api_base": sim_url + "/v1", "api_key": "unused"}}],
            # Alice runs open on loopback in this benchmark; LiteLLM ≥ 1.8x refuses that unless told.
            "general_settings": {"dangerously_permit_weak_or_unset_master_key": True}}
        path = Path(tmp) / "litellm.yaml"
        path.write_text(yaml.safe_dump(cfg))
        args = [str(LITELLM), "--config", str(path), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
        with _service(args, port, "/health/liveliness") as s:
            yield s
