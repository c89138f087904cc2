"""`install(gw)`: mounts the assistant in the gateway.

Route:        POST /api/chat  {message, session_id, lang?} → {reply, intent, confidence, slots, route,
              tool, cache, latency_ms, …}; the API key names the tenant as on /v1 (open when the
              guard runs open); 503 + Retry-After while the intent model warms up
Auto route:   `gw.auto_router`: `model: auto` on /v1/chat/completions takes the public model of the
              tier the same `Router` picks (decision in `turn.meta["auto_route"]`, sent as headers)
LLM tiers:    `Assistant.complete(messages, tier)` calls the tier's public model (`routing.tiers`)
              through the gateway's own dispatcher (breakers, fallback, PII policy, deployment budgets)
Start-up:     the tools start with the gateway; the intent model warms in the background (built in a
              child process the first time, so the serving loop keeps its CPU and GIL; afterwards
              loaded from <state.dir>/nlu in well under a second); `/ready` reports its state
Telemetry:    each /api/chat turn is observed like a /v1 request (surface "assistant"); due timers
              are published on the event bus as `timer.fired`
Off switch:   `nlu.enabled: false` skips all of it except the auto route; /api/chat answers 404
Exposed:      `gw.assistant` (the `Assistant`, None when off)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alice.api.errors import ApiError, BadRequest, NotFound, Unavailable
from alice.api.http import Request, Response, json_response
from alice.api.openai import upstream_error
from alice.assistant.chat import ChatInputError, handle_chat
from alice.assistant.context import AssistantContext, build_context
from alice.backends.errors import UpstreamError
from alice.backends.fallback import AllFailed
from alice.nlu.classifier import ClassifierSettings, IntentClassifier
from alice.nlu.registry import IntentRegistry
from alice.nlu.settings import NluSettings
from alice.pipeline import Turn
from alice.route.router import Router, RoutingSettings, RoutingSettingsError

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["Assistant", "install", "routing_section"]

log = logging.getLogger("alice.assistant")

# A spoken reply is short; without a cap a small local model can ramble to the end of its context.
MAX_TOKENS = {"micro": 256, "planner": 512, "deep": 1024}
WARMING_RETRY_AFTER_S = 5.0


def routing_section(config_routing: Mapping[str, Any], models: Sequence[str]) -> dict[str, Any] | None:
    """The `routing:` section with every tier on a configured public model, or None without models.

    Tiers the user named must exist (a typo fails start-up); the default tiers ("chat") fall back to
    the first configured model, so any config with at least one model gets a working assistant."""
    if not models:
        return None
    section = dict(config_routing)
    settings = RoutingSettings.from_config(section)
    unknown = {tier: model for tier, model in settings.tiers.items() if model not in models}
    if not unknown:
        return section
    if "tiers" in section:
        raise RoutingSettingsError(f"routing.tiers: {unknown} name no configured model (models: {list(models)})")
    first = models[0]
    log.info("routing: no model named %s; the tiers %s use %r", sorted(set(unknown.values())), sorted(unknown), first)
    return {**section, "tiers": {tier: first if tier in unknown else model for tier, model in settings.tiers.items()}}


def _auto_router(router: Router) -> Callable[[Turn], str]:
    def route(turn: Turn) -> str:
        decision = router.decide_openai(turn.body.get("messages") or [], tools=turn.body.get("tools"))
        turn.meta["auto_route"] = decision.as_dict()  # sent as x-alice-tier / x-alice-route-reasons
        assert decision.model is not None  # decide_openai never picks the tool tier
        return decision.model

    return route


def _build_model_file(registry: IntentRegistry, embedder: str, fast: str | None, state_dir: Path,
                      settings: ClassifierSettings) -> None:
    """Runs in the child process: build the intent model(s) and write their cache files."""
    IntentClassifier(registry, embedder, state_dir=state_dir, settings=settings, fast=fast).prepare()


def _answer_text(answer: dict[str, Any] | None) -> str:
    choice = ((answer or {}).get("choices") or [{}])[0]
    return str((choice.get("message") or {}).get("content") or "")


class Assistant:
    """The assistant's parts for one gateway, built once at start-up."""

    def __init__(self, gw: Gateway, nlu: NluSettings, routing: dict[str, Any] | None) -> None:
        self.gw = gw
        self.nlu = nlu
        # Without any model the LLM turns get a spoken "no model" reply (ctx.complete is None).
        config = gw.config.model_copy(update={"routing": routing or {}})
        self.ctx: AssistantContext = build_context(config, complete=self.complete if routing is not None else None,
                                                   state_dir=gw.state_dir)
        self.router = self.ctx.router
        self.state = "starting"  # → warming → ready | failed
        self.error: str | None = None
        self._warming: asyncio.Task[None] | None = None
        self._child: Any = None  # the process building the intent model, while it runs
        self._forwarding: asyncio.Task[None] | None = None

    # --- life cycle ---

    async def start(self) -> None:
        await self.ctx.start_tools()
        self.state = "warming"
        self._warming = asyncio.create_task(self._warm(), name="alice-assistant-warm-up")
        events = getattr(self.gw, "events", None)
        if events is not None and self.ctx.toolbox is not None:
            self._forwarding = asyncio.create_task(self._forward_timers(events), name="alice-timer-events")

    async def _warm(self) -> None:
        started = time.perf_counter()
        clf = self.ctx.classifier
        try:
            paths = await asyncio.to_thread(clf.cache_paths)
            if not all(p.exists() for p in paths):
                await self._build_in_child(clf)
            await asyncio.to_thread(self.ctx.warm)
        except Exception as exc:
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("assistant: the intent model could not be prepared; /api/chat answers 503")
            return
        self.state = "ready"
        log.info("assistant ready: intent model (%s) warm after %.1f s", self.nlu.embedder,
                 time.perf_counter() - started)

    async def _build_in_child(self, clf: IntentClassifier) -> None:
        # A separate process: the first build takes a minute or more of CPU on a small machine, and
        # in a thread it held the GIL long enough to stall the serving loop (3 s at worst with e5).
        log.info("assistant: building the intent model (%s) in a child process; /api/chat answers 503 until it is "
                 "ready", self.nlu.embedder)
        spawn = multiprocessing.get_context("spawn")
        child = spawn.Process(target=_build_model_file, name="alice-intent-model", daemon=True,
                              args=(clf.registry, self.nlu.embedder, self.nlu.fast_embedder, clf.state_dir,
                                    clf.settings))
        child.start()
        self._child = child
        try:
            await asyncio.to_thread(child.join)
        finally:
            self._child = None
        if child.exitcode != 0:
            raise RuntimeError(f"building the intent model failed in its child process (exit code {child.exitcode})")

    async def _forward_timers(self, events: Any) -> None:
        assert self.ctx.toolbox is not None
        timers = self.ctx.toolbox.timers
        queue = timers.subscribe()
        try:
            while True:
                ev = await queue.get()
                events.publish("timer.fired", tenant=ev.tenant, timer_id=ev.timer_id, label=ev.label,
                               duration_s=ev.duration_s, due_at=ev.due_at, text=ev.text())
        finally:
            timers.unsubscribe(queue)

    async def close(self) -> None:
        if self._child is not None and self._child.is_alive():
            self._child.kill()  # a model nobody will use: do not wait minutes for it at shutdown
        for task in (self._warming, self._forwarding):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.ctx.close()

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state, "embedder": self.nlu.embedder}
        if self.error is not None:
            out["error"] = self.error
        return out

    # --- the LLM tiers ---

    async def complete(self, messages: list[dict[str, Any]], tier: str, *, turn: Turn | None = None) -> str:
        """The tier's public model answers `messages` through the dispatcher; usage and backend are
        added to the /api/chat turn (if given) for the response headers, the log and the metrics."""
        model = self.router.model_for(tier)
        assert model is not None, f"tier {tier!r} has no model"
        max_tokens = MAX_TOKENS.get(tier, 512)
        brownout = (turn.meta.get("guardian") or {}).get("max_tokens") if turn else None
        call = Turn(request_id=turn.request_id if turn else f"assistant-{time.time_ns()}", surface="assistant",
                    received=time.perf_counter(), tenant=turn.tenant if turn else "default",
                    key_id=turn.key_id if turn else None, model=model, route=model,
                    body={"model": model, "messages": messages,
                          "max_tokens": min(max_tokens, brownout) if brownout else max_tokens})
        guard = getattr(self.gw, "guard", None)
        try:
            await self.gw.dispatcher.complete(call)
        finally:
            if guard is not None and guard.limiter.deployment_rpm:
                await guard.limiter.after(call)  # this call's deployment budgets (no key reservation on it)
            if turn is not None:
                turn.attempts += call.attempts
                turn.upstream_ms += call.upstream_ms
        if turn is not None:
            turn.model, turn.backend, turn.upstream_model = model, call.backend, call.upstream_model
            usage = dict(turn.usage or {})
            for k, v in (call.usage or {}).items():
                if isinstance(v, int):
                    usage[k] = usage.get(k, 0) + v
            turn.usage = usage
        return _answer_text(call.answer)

    # --- POST /api/chat ---

    async def _admit(self, req: Request, turn: Turn) -> tuple[Any, frozenset[str] | None]:
        """The guard's admission as on /v1, in the same order: the key names the tenant (401 without
        one unless running open), then the warm-up check, the body, the key's rpm / tpm / daily
        budgets (one answer's worth of tokens is reserved, then reconciled with what the model tiers
        used) and shedding under overload. Returns the body and the key's (or its tenant's) tool
        list, if the guard sets one."""
        guard = getattr(self.gw, "guard", None)
        principal = guard.auth.authenticate(req.headers) if guard is not None else None
        if principal is not None:
            turn.tenant, turn.key_id = principal.tenant, principal.key_id
        if self.state != "ready":
            raise self._unavailable()
        body = await req.json()
        if isinstance(body, dict):
            turn.body = body
        if guard is None:
            return body, None
        policy = guard.admit.policy(principal)
        await guard.limiter.admit(turn, principal, policy)
        if guard.guardian.settings.enabled:
            guard.guardian.admit(turn)
        return body, None if policy.tools is None else frozenset(policy.tools)

    async def _settle(self, turn: Turn) -> None:
        guard = getattr(self.gw, "guard", None)
        if guard is None or "reservation" not in (turn.meta.get("guard") or {}):
            return
        # The calls' deployment budgets were settled call by call in complete(): hide their attempts.
        attempts, turn.attempts = turn.attempts, []
        try:
            await guard.limiter.after(turn)
        finally:
            turn.attempts = attempts

    async def chat(self, req: Request) -> Response:
        turn = Turn(request_id=req.request_id, surface="assistant", received=req.received, headers=req.headers)
        try:
            body, allowed = await self._admit(req, turn)
            ctx = self.ctx if self.ctx.complete is None else dataclasses.replace(
                self.ctx, complete=functools.partial(self.complete, turn=turn))
            try:
                out = await handle_chat(body, tenant=turn.tenant, ctx=ctx, allowed_tools=allowed)
            except ChatInputError as exc:
                raise BadRequest(str(exc), code="invalid_chat_message") from None
            except (UpstreamError, AllFailed) as exc:  # a planner call whose chain failed
                raise upstream_error(exc) from None
            turn.text, turn.route, turn.intent = body["message"], out["route"], out["intent"]
            turn.confidence, turn.slots = out["confidence"], out["slots"]
            if out["tool"] is not None:
                turn.meta["tool"] = out["tool"]
            turn.complete = True
            overhead = self._finish(turn)
            return json_response(out, headers=[
                (b"x-request-id", turn.request_id.encode()), (b"x-alice-route", turn.route.encode()),
                (b"x-alice-backend", (turn.backend or "none").encode()), (b"x-alice-cache", turn.cache.encode()),
                (b"x-alice-overhead-ms", overhead)])
        except ApiError as exc:
            turn.status, turn.error = exc.status, exc.message
            raise
        except BaseException as exc:
            turn.status, turn.error = 500, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if not turn.total_ms:
                self._finish(turn)
            self.gw.pipeline.observe(turn)  # the request log and the metrics see /api/chat turns too
            await self._settle(turn)

    def _unavailable(self) -> Unavailable:
        if self.state == "failed":
            return Unavailable(f"the assistant could not load its intent model ({self.error}); see the server log",
                               code="assistant_unavailable")
        return Unavailable("the assistant is warming up (loading its intent model); retry shortly",
                           code="assistant_warming_up", retry_after=WARMING_RETRY_AFTER_S)

    @staticmethod
    def _finish(turn: Turn) -> bytes:
        turn.total_ms = (time.perf_counter() - turn.received) * 1000
        turn.overhead_ms = max(0.0, turn.total_ms - turn.upstream_ms)
        return f"{turn.overhead_ms:.3f}".encode()


async def _assistant_off(req: Request) -> Response:
    raise NotFound("the assistant is off on this gateway (nlu.enabled: false)", code="assistant_off")


def install(gw: Gateway) -> None:
    nlu = NluSettings.from_config(gw.config.nlu)
    routing = routing_section(gw.config.routing, list(gw.chains))
    assistant = Assistant(gw, nlu, routing) if nlu.enabled else None
    gw.assistant = assistant  # type: ignore[attr-defined]
    if routing is not None:
        router = assistant.router if assistant is not None else Router(RoutingSettings.from_config(routing),
                                                                       gw.profile)
        gw.auto_router = _auto_router(router)
    if assistant is None:
        gw.status["assistant"] = lambda: {"state": "off"}
        gw.routes.append(("POST", "/api/chat", _assistant_off))
        return
    gw.status["assistant"] = assistant.report
    gw.routes.append(("POST", "/api/chat", assistant.chat))
    gw.on_start.append(assistant.start)
    gw.on_close.append(assistant.close)
