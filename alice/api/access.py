"""Who may call the HTTP surfaces besides chat (whose Admit stage authenticates in the pipeline).

    admin(gw, handler)   operator endpoints (/api/monitoring/*, /api/cache/purge, …): an admin key
                         when keys are configured; running open, only callers on this machine
    keyed(gw, handler)   client surfaces (/v1/models, /api/feedback): any valid API key when keys
                         are configured, like /v1/chat/completions

Keys are checked by the guard (`gw.guard.auth`). Running open means bound to loopback with no key
at all, for a single local user, so a caller from elsewhere (e.g. through a proxy) is not that
user. Without a guard (a gateway assembled in a test) only the loopback rule applies.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from alice.api.errors import Forbidden
from alice.api.http import Handler, Request, Response

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["admin", "keyed", "require_admin", "require_local"]


def require_local(req: Request) -> None:
    """Only a caller on the loopback interface may pass."""
    client = req.scope.get("client")
    host = client[0] if client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise Forbidden("this endpoint is only allowed from this machine", code="admin_only")


def require_admin(gw: Gateway, req: Request) -> None:
    auth = _auth(gw)
    if auth is not None:
        auth.require_admin(req.headers)  # 401 without a valid key, 403 for a key that is not admin
        if not auth.open:
            return
    require_local(req)


def _auth(gw: Gateway) -> Any:
    guard = getattr(gw, "guard", None)
    return guard.auth if guard is not None else None


def admin(gw: Gateway, handler: Handler) -> Handler:
    async def checked(req: Request) -> Response | None:
        require_admin(gw, req)
        return await handler(req)

    return checked


def keyed(gw: Gateway, handler: Handler) -> Handler:
    async def checked(req: Request) -> Response | None:
        auth = _auth(gw)
        if auth is not None:
            auth.authenticate(req.headers)
        return await handler(req)

    return checked
