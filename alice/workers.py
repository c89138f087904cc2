"""`alice serve` with `server.workers > 1`: uvicorn's process manager runs N worker processes, each
a full Gateway built from the same resolved config (handed over in the environment, because
workers are spawned fresh interpreters).

A managed model server must exist once, not once per worker: the parent starts it and the
workers reach it as a plain OpenAI-compatible deployment. The parent runs the managed backends'
supervisors on an event loop in a thread that lives as long as the process, because
PR_SET_PDEATHSIG (which stops the model server if Alice is killed) fires when the *thread* that
spawned the child exits.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from pathlib import Path

import orjson

from alice.allocator import limit_malloc_arenas
from alice.app import AliceApp, create_app
from alice.config import Config

__all__ = ["WORKER_CONFIG_ENV", "ModelHost", "serve_workers", "worker_app"]

# Not ALICE_-prefixed, so the config loader never reads it as an override.
WORKER_CONFIG_ENV = "_ALICE_WORKER_CONFIG"


def worker_app() -> AliceApp:
    """The uvicorn factory each worker calls."""
    limit_malloc_arenas()
    return create_app(Config.model_validate(orjson.loads(os.environ[WORKER_CONFIG_ENV])))


class ModelHost:
    """Starts and supervises the config's managed model servers in the parent process."""

    def __init__(self, config: Config) -> None:
        from alice.backends.managed import ManagedBackend

        state_dir = Path(config.state.dir)
        self.backends = [ManagedBackend(d, log_dir=state_dir) for d in config.deployments if d.provider == "managed"]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="alice-model-host", daemon=True)

    def _call(self, coro) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def start(self) -> None:
        if not self.backends:
            return
        self._thread.start()
        for backend in self.backends:
            self._call(backend.start()).result()

    def stop(self) -> None:
        if not self.backends:
            return
        for backend in self.backends:
            self._call(backend.close()).result()
        self._loop.call_soon_threadsafe(self._loop.stop)

    def worker_config(self, config: Config) -> Config:
        """The config the workers get: managed deployments become OpenAI-compatible ones pointing
        at the server this host runs."""
        urls = {b.deployment.name: f"http://127.0.0.1:{b.port}/v1" for b in self.backends}
        deployments = [d.model_copy(update={"provider": "openai", "base_url": urls[d.name]}) if d.name in urls else d
                       for d in config.deployments]
        return config.model_copy(update={"deployments": deployments})


def serve_workers(config: Config, log_level: str = "warning") -> None:
    import uvicorn

    from alice.telemetry.multiproc import prepare

    # Before any worker imports prometheus_client: all workers write one shared metrics directory.
    prepare(config.state.dir)
    host = ModelHost(config)
    host.start()
    try:
        os.environ[WORKER_CONFIG_ENV] = host.worker_config(config).model_dump_json()
        uvicorn.run("alice.workers:worker_app", factory=True, host=config.server.host, port=config.server.port,
                    workers=config.server.workers, loop="uvloop", http="httptools", lifespan="on",
                    access_log=False, log_level=log_level)
    finally:
        host.stop()
