"""Operational endpoints: /health (alive), /ready (backends reachable), breaker states (admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alice.api import access
from alice.api.http import Request, Response, Router, json_response

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["mount"]


def mount(router: Router, gw: Gateway) -> None:
    async def health(req: Request) -> Response:
        return json_response({"status": "ok", "profile": gw.profile.name})

    async def ready(req: Request) -> Response:
        state = await gw.ready()
        return json_response(state, 200 if state["ready"] else 503)

    async def breakers(req: Request) -> Response:
        return json_response({name: r.breaker.snapshot() for name, r in gw.runners.items()})

    router.add("GET", "/health", health)
    router.add("GET", "/ready", ready)
    router.add("GET", "/api/monitoring/circuit-breakers", access.admin(gw, breakers))
