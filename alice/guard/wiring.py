"""`install(gw)`: plugs the guard into the gateway.

Stages (appended in this order):  Admit (auth → caps → limits → guardian) → Screen (injection)
                                  → Idempotency
Observer: the guardian (an admitted request has finished: one fewer in flight)
After-hooks: token reconciliation + deployment accounting
Before-reply hook: idempotency store/release (done before the client has the answer's last frame)
Dispatcher gate: per-deployment rpm budgets (only when a deployment sets `rpm`)
Dispatcher outbound: PII redacted for cloud deployments, restored in the reply (guard.pii)
Cache screen: a turn carrying PII is not cached (set at start, once the cache area is installed)
Routes: GET /api/guardian/state (admin), GET /openapi.json
Exposed: `gw.guard` (auth, limiter, …; admin routes check it through alice/api/access.py)
and `gw.guardian` (`.state`, read by the metrics exporter).
"""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING, Any

from alice.api import access, openapi
from alice.api.http import Request, Response, json_response
from alice.guard.admission import Admit
from alice.guard.auth import Authenticator
from alice.guard.brownout import Guardian, GuardianState
from alice.guard.idempotency import Idempotency
from alice.guard.keys import KeyRing
from alice.guard.limits import Limiter
from alice.guard.pii import PiiDetector
from alice.guard.redaction import PiiPolicy, carries_pii
from alice.guard.screening import ScreenStage
from alice.guard.settings import GuardSettings, parse_settings
from alice.guard.stores import GuardStores, make_stores

if TYPE_CHECKING:
    from alice.app import Gateway
    from alice.pipeline import Turn

__all__ = ["Guard", "install"]

log = logging.getLogger("alice.guard")


class Guard:
    """The guard's parts for one gateway, built once at start-up."""

    def __init__(self, gw: Gateway, settings: GuardSettings, stores: GuardStores) -> None:
        self.gw = gw
        self.settings = settings
        self.stores = stores
        self.ring = KeyRing(stores.keys, admin_key_env=settings.admin_key_env, refresh_s=settings.keys_refresh_s)
        self.auth = Authenticator(self.ring, host=gw.config.server.host, open_on_loopback=settings.open_on_loopback)
        deployment_rpm = {d.name: d.rpm for d in gw.config.deployments if d.rpm is not None}
        self.limiter = Limiter(stores.windows, window_s=settings.window_s, deployment_rpm=deployment_rpm)
        self.guardian = Guardian(settings.guardian, gw.profile)
        self.guardian.listeners.append(self._publish)
        self.admit = Admit(self.auth, self.limiter, self.guardian, settings)
        self.idempotency = Idempotency(stores.idempotency, settings.idempotency)
        self.pii = PiiDetector(entities=settings.pii.entities)

    def _publish(self, old: GuardianState, new: GuardianState, info: dict[str, Any]) -> None:
        events = getattr(self.gw, "events", None)
        if events is None:
            return  # no event bus installed: the transition is logged by the guardian
        kind, severity = Guardian.event_for(old, new)
        events.publish(kind, severity=severity, **info)

    def _cache_screen(self, turn: Turn) -> str | None:
        return "pii" if carries_pii(turn, self.pii) else None

    async def start(self) -> None:
        cache = getattr(self.gw, "cache", None)  # installed after the guard, so looked up only now
        if cache is not None:
            cache.screen = self._cache_screen
        await self.stores.start()
        await self.ring.start()
        self.auth.check_startup()
        await self.guardian.start()
        log.info("guard: %s state, %d active key(s)%s", "shared (Redis)" if self.stores.shared else "embedded",
                 self.ring.active_count, ", running open" if self.auth.open else "")

    async def close(self) -> None:
        await self.guardian.close()
        await self.ring.close()
        await self.stores.close()

    async def state_route(self, req: Request) -> Response:
        access.require_admin(self.gw, req)
        return json_response(self.guardian.snapshot())


def _screen_stage(settings: GuardSettings) -> ScreenStage | None:
    if importlib.util.find_spec("alice.guard.injection") is None:
        log.warning("alice.guard.injection is not available: prompt-injection screening is off")
        return None
    from alice.guard.injection import Screen

    inj = settings.injection
    return ScreenStage(Screen("flag", use_classifier=inj.classifier, threshold=inj.threshold))


def install(gw: Gateway) -> None:
    settings = parse_settings(gw.config.guard)
    guard = Guard(gw, settings, make_stores(gw.config, settings))
    gw.guard = guard  # type: ignore[attr-defined]
    gw.guardian = guard.guardian  # type: ignore[attr-defined]
    pipeline = gw.pipeline
    pipeline.stages.append(guard.admit)
    screen = _screen_stage(settings)
    if screen is not None:
        pipeline.stages.append(screen)
    if settings.idempotency.enabled:
        pipeline.stages.append(guard.idempotency)
        pipeline.before_reply.append(guard.idempotency)
    pipeline.observers.append(guard.guardian)
    pipeline.after_hooks.append(guard.limiter)
    if guard.limiter.deployment_rpm:
        gw.dispatcher.gate = guard.limiter.gate
    if settings.pii.cloud == "redact":
        gw.dispatcher.outbound = PiiPolicy(settings.pii, guard.pii)
    gw.routes.append(("GET", "/api/guardian/state", guard.state_route))
    gw.routes.extend(openapi.routes(gw))
    gw.on_start.append(guard.start)
    gw.on_close.append(guard.close)
