"""Plug the cache into the gateway: the lookup stage, the write-back hook, the stats and purge
routes (both for operators: admin key, see alice/api/access.py).

After `install(gw)`, `gw.cache` is the `SmartCache` (its `stats()` feeds the telemetry area).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from alice.api import access
from alice.api.http import Request, Response, json_response
from alice.cache.engine import SmartCache
from alice.cache.settings import load_settings
from alice.pipeline import Turn

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["CacheStage", "CacheWriteBack", "install"]


class CacheStage:
    """Pipeline stage: answer from L1 / L2 / L3 when the cache can."""

    def __init__(self, cache: SmartCache) -> None:
        self.cache = cache

    async def __call__(self, turn: Turn) -> None:
        await self.cache.lookup(turn)


class CacheWriteBack:
    """After-hook: store a complete answer or a deterministic failure."""

    def __init__(self, cache: SmartCache) -> None:
        self.cache = cache

    async def after(self, turn: Turn) -> None:
        await self.cache.write_back(turn)


def install(gw: Gateway) -> None:
    settings = load_settings(gw.config.cache)
    cache = SmartCache(settings, gw.profile, state_dir=gw.state_dir, redis_url=gw.config.state.redis_url)
    gw.cache = cache  # type: ignore[attr-defined]
    if settings.enabled:
        gw.pipeline.stages.append(CacheStage(cache))
        gw.pipeline.after_hooks.append(CacheWriteBack(cache))
    gw.on_start.append(functools.partial(cache.start, verifier_in_background=True))
    gw.on_close.append(cache.close)

    async def cache_stats(req: Request) -> Response:
        return json_response(cache.stats())

    async def cache_purge(req: Request) -> Response:
        tenant = (parse_qs(req.query.decode("latin-1")).get("tenant") or [None])[0]
        namespace = cache.namespace(tenant) if tenant is not None else None
        return json_response({"purged": await cache.purge(namespace), "namespace": namespace})

    gw.routes.append(("GET", "/api/monitoring/cache", access.admin(gw, cache_stats)))
    gw.routes.append(("POST", "/api/cache/purge", access.admin(gw, cache_purge)))
