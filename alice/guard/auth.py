"""Who is calling: `Authorization: Bearer <key>` → a `Principal` (tenant + key), or a 401.

Open mode: bound to a loopback address with no key configured at all, Alice serves one local
user as tenant "default" without keys. Bound anywhere else it refuses to start without keys
(`check_startup`), so a gateway on a network is never open by accident. Open mode ends as soon
as a key exists (the ring notices within `keys_refresh_s`) and does not come back when keys are
revoked.
"""

from __future__ import annotations

import ipaddress
import logging

from alice.api.errors import Forbidden, Unauthorized
from alice.guard.keys import KeyRing, Principal

__all__ = ["Authenticator", "GuardStartupError", "is_loopback"]

log = logging.getLogger("alice.guard")

OPEN = Principal(tenant="default", key_id=None, record=None)
MAX_KEY_LEN = 512


class GuardStartupError(RuntimeError):
    """The gateway must not start as configured (e.g. public bind without keys)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class Authenticator:
    def __init__(self, ring: KeyRing, *, host: str, open_on_loopback: bool) -> None:
        self.ring = ring
        self.host = host
        self.may_run_open = open_on_loopback and is_loopback(host)

    @property
    def open(self) -> bool:
        return self.may_run_open and self.ring.empty

    def check_startup(self) -> None:
        if self.ring.usable:
            return
        if not is_loopback(self.host):
            raise GuardStartupError(
                f"refusing to start: Alice is bound to {self.host}, which is not a loopback address, and no API "
                "key is configured. Create one with `alice keys create --tenant NAME -c CONFIG` (or set the admin "
                "key variable named by guard.admin_key_env), or bind to 127.0.0.1 for a single local user."
            )
        if self.open:
            log.warning("no API keys configured: running open on %s for a single local user (tenant 'default')",
                        self.host)
        else:
            log.warning("no usable API key (none configured, or all revoked, and guard.open_on_loopback may be "
                        "false): every request will get 401")

    def authenticate(self, headers: dict[str, str]) -> Principal:
        token = _bearer(headers)
        if token is None:
            if self.open:
                return OPEN
            raise Unauthorized("missing API key: send it as 'Authorization: Bearer <key>'")
        record = self.ring.verify(token) if len(token) <= MAX_KEY_LEN else None
        if record is None:
            if self.open:
                return OPEN  # running open: a stray key (e.g. the OpenAI client's dummy) is harmless
            raise Unauthorized("invalid or revoked API key")
        return Principal(tenant=record.tenant, key_id=record.id, record=record, admin=record.admin)

    def require_admin(self, headers: dict[str, str]) -> Principal:
        """For admin endpoints: an admin key, or nothing at all when running open."""
        principal = self.authenticate(headers)
        if principal.admin or self.open:
            return principal
        raise Forbidden("this endpoint needs an admin key", code="admin_required")
