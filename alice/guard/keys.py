"""API keys: their format, their hash, and the in-memory ring a running gateway checks them against.

A key is `alice_<id>_<secret>`: `id` (12 hex) names the record and is safe to show and log;
`secret` is 32 random bytes (urlsafe base64). Only sha256(key) is stored. With 256 bits of
entropy a plain sha256 is enough (no password stretching needed), and the stored hash is compared
with `hmac.compare_digest`, whose time does not depend on where the strings differ.

The ring reloads from the store whenever the store's version counter moves (polled every
`keys_refresh_s`), so `alice keys create|revoke` take effect on running replicas within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass

from alice.state.keys import KeyRecord, KeyStore

__all__ = ["ENV_ADMIN_ID", "KeyRing", "Principal", "hash_key", "new_key", "parse_key"]

log = logging.getLogger("alice.guard")

PREFIX = "alice_"
ID_LEN = 12
ENV_ADMIN_ID = "env-admin"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (key id, whole key)."""
    key_id = secrets.token_hex(ID_LEN // 2)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def parse_key(key: str) -> str | None:
    """The id part of a well-formed key, else None."""
    if len(key) < len(PREFIX) + ID_LEN + 2 or not key.startswith(PREFIX) or key[len(PREFIX) + ID_LEN] != "_":
        return None
    return key[len(PREFIX): len(PREFIX) + ID_LEN]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant, the key id (None when running open) and the key's record."""

    tenant: str
    key_id: str | None
    record: KeyRecord | None
    admin: bool = False


class KeyRing:
    def __init__(self, store: KeyStore, *, admin_key_env: str | None, refresh_s: float) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self._records: dict[str, KeyRecord] = {}
        self._version = -1
        self._task: asyncio.Task[None] | None = None
        admin = os.environ.get(admin_key_env) if admin_key_env else None
        self._admin_hash = hash_key(admin) if admin else None
        self._admin = KeyRecord(id=ENV_ADMIN_ID, tenant="admin", hash=self._admin_hash or "", admin=True)

    @property
    def active_count(self) -> int:
        return sum(1 for r in self._records.values() if r.active)

    @property
    def usable(self) -> bool:
        """Someone can authenticate: an active key or an admin key in the environment."""
        return self._admin_hash is not None or self.active_count > 0

    @property
    def empty(self) -> bool:
        """No key was ever created (revoked ones count: revoking the last key never reopens a
        gateway) and there is no admin key in the environment."""
        return self._admin_hash is None and not self._records

    async def reload(self, force: bool = False) -> None:
        version = await self.store.version()
        if force or version != self._version:
            records = await self.store.load()
            self._records = {r.id: r for r in records}
            if self._version >= 0:
                log.info("API keys reloaded: %d active", self.active_count)
            self._version = version

    async def start(self) -> None:
        await self.reload(force=True)
        self._task = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.reload()
            except Exception:
                log.exception("could not reload API keys; keeping the %d loaded", len(self._records))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def verify(self, key: str) -> KeyRecord | None:
        """The active record this key belongs to, or None."""
        digest = hash_key(key)
        if self._admin_hash is not None and hmac.compare_digest(digest, self._admin_hash):
            return self._admin
        key_id = parse_key(key)
        record = self._records.get(key_id) if key_id else None
        if record is None or not hmac.compare_digest(digest, record.hash):
            return None
        return record if record.active else None
