"""The ASGI app: wires config → backends → stages → HTTP routes, inside the lifespan.

All state lives on one `Gateway` object built at start-up and passed explicitly to the routes;
there are no module globals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from alice.api import admin, openai
from alice.api.errors import ApiError, NotFound, error_body
from alice.api.http import JSON, Handler, Request, Response, Router, error_response
from alice.backends.base import Backend
from alice.backends.deployment import DeploymentRunner
from alice.backends.dispatch import Dispatcher
from alice.backends.fallback import Chain
from alice.backends.managed import ManagedBackend
from alice.backends.ollama import OllamaBackend
from alice.backends.openai_compat import OpenAICompatBackend
from alice.backends.resilience import Breaker, BreakerState, Deadlines, RetryBudget, RetrySchedule
from alice.config import Config, Deployment
from alice.pipeline import Pipeline, Turn
from alice.profiles import Profile, get_profile

__all__ = ["AliceApp", "Gateway", "create_app"]

log = logging.getLogger("alice")


def make_backend(dep: Deployment, state_dir: Path) -> Backend:
    if dep.provider == "managed":
        return ManagedBackend(dep, log_dir=state_dir)
    if dep.provider == "ollama":
        return OllamaBackend(dep)
    return OpenAICompatBackend(dep)


class Gateway:
    """Everything a request needs, built once per process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.profile: Profile = get_profile(config.profile)
        self.state_dir = Path(config.state.dir)
        res = config.resilience
        p = self.profile
        self.deadlines = Deadlines.from_config(p, res)
        schedule = RetrySchedule(p.retry_delays, res.retry_unit_s or p.retry_unit_s, p.retry_jitter)
        self.runners: dict[str, DeploymentRunner] = {}
        for dep in config.deployments:
            breaker = Breaker(
                res.breaker_failure_threshold or p.breaker_failure_threshold,
                tuple(b * res.breaker_backoff_scale for b in p.breaker_backoff_s),
                on_change=lambda old, new, name=dep.name: self._breaker_changed(name, old, new),
            )
            self.runners[dep.name] = DeploymentRunner(
                make_backend(dep, self.state_dir), breaker, schedule,
                RetryBudget(res.retry_budget_ratio, res.retry_budget_min_per_s),
                max_attempts=res.max_attempts_per_deployment, retry_after_max_s=res.retry_after_max_s,
            )
        self.chains = {name: Chain(name, [self.runners[d] for d in chain]) for name, chain in config.models.items()}
        self.dispatcher = Dispatcher(self.chains, self.deadlines, single_flight=res.single_flight)
        self.pipeline = Pipeline()
        # Set by the routing area: picks the public model for `model: auto` from the turn.
        self.auto_router: Callable[[Turn], str] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        # Areas (guard, nlu, cache, telemetry, …) add routes and start/stop callbacks here.
        self.routes: list[tuple[str, str, Handler]] = []
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_close: list[Callable[[], Awaitable[None]]] = []
        # Areas report their own state in /ready (e.g. the assistant: warming | ready | off).
        self.status: dict[str, Callable[[], Any]] = {}
        self._install_areas()

    def _install_areas(self) -> None:
        """Each area's `install(gateway)` appends its stages in the order of the request's path
        (admit → understand → cache → route), its write-back hooks and its routes."""
        # --- area installers, in path order (one line each) ---
        from alice.assistant import wiring as assistant_wiring
        from alice.cache import wiring as cache_wiring
        from alice.guard import wiring as guard_wiring
        from alice.telemetry import wiring as telemetry_wiring

        guard_wiring.install(self)
        telemetry_wiring.install(self)
        cache_wiring.install(self)
        assistant_wiring.install(self)

    def _breaker_changed(self, name: str, old: BreakerState, new: BreakerState) -> None:
        log.warning("breaker %s: %s -> %s", name, old.value, new.value)
        events = getattr(self, "events", None)  # the telemetry event bus, once installed
        if events is not None:
            events.publish(f"breaker.{new.value}", severity="warning" if new is BreakerState.OPEN else "info",
                           deployment=name, previous=old.value)

    def public_models(self) -> list[str]:
        return sorted([*self.chains, "auto"] if self.auto_router else self.chains)

    def resolve_model(self, model: str, turn: Turn) -> str:
        if model in self.chains:
            return model
        if model == "auto" and self.auto_router is not None:
            return self.auto_router(turn)
        raise NotFound(f"model '{model}' does not exist; available: {', '.join(self.public_models())}",
                       param="model", code="model_not_found")

    def write_back(self, turn: Turn) -> None:
        """Observers see the turn at once; after-hooks run off the response path, and shutdown
        waits for those still running."""
        self.pipeline.observe(turn)
        if not self.pipeline.after_hooks and (turn.settled or not self.pipeline.before_reply):
            return
        task = asyncio.ensure_future(self.pipeline.after(turn))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for runner in self.runners.values():
            await runner.backend.start()
        for start in self.on_start:
            await start()

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        for close in reversed(self.on_close):
            await close()
        for runner in self.runners.values():
            await runner.backend.close()

    async def ready(self) -> dict[str, Any]:
        checks = await asyncio.gather(*(r.backend.ready() for r in self.runners.values()))
        backends = {name: ok for name, ok in zip(self.runners, checks, strict=True)}
        return {"ready": any(checks) if checks else False, "backends": backends,
                **{name: report() for name, report in self.status.items()}}


class AliceApp:
    """The ASGI callable. `gateway` exists between lifespan start-up and shutdown."""

    def __init__(self, config: Config, on_ready: Callable[[], None] | None = None) -> None:
        self.config = config
        self.on_ready = on_ready
        self.gateway: Gateway | None = None
        self.router = Router()
        self._max_body = config.server.max_body_bytes

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    gw = Gateway(self.config)
                    await gw.start()
                    openai.mount(self.router, gw)
                    admin.mount(self.router, gw)
                    for method, path, handler in gw.routes:
                        self.router.add(method, path, handler)
                    self.gateway = gw
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
                if self.on_ready is not None:
                    self.on_ready()
            elif message["type"] == "lifespan.shutdown":
                if self.gateway is not None:
                    await self.gateway.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            req = Request(scope, receive, send, self._max_body)
            try:
                response = await self.router.resolve(req.method, req.path)(req)
            except ApiError as exc:
                response = error_response(exc, req.request_id)
            except Exception:
                log.exception("unhandled error in request %s", req.request_id)
                response = Response(
                    error_body(f"internal error; quote request id {req.request_id}", "server_error"),
                    500, JSON, [(b"x-request-id", req.request_id.encode())],
                )
            if response is not None:
                await response(send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)


def create_app(config: Config, on_ready: Callable[[], None] | None = None) -> AliceApp:
    return AliceApp(config, on_ready)
