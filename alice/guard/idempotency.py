"""`Idempotency-Key`: a retried request gets the stored answer instead of a second upstream call.

    same key, same body, answered   → the stored completion is replayed (no upstream call)
    same key, different body        → 422
    same key, first one still running → wait up to `in_progress_wait_s` for it, then 409

Keys are scoped by tenant (two tenants may use the same key), and the records live in the state
store, so with Redis a retry that lands on another replica is replayed too. Only successful,
complete answers are stored: after an error or a cut stream the key is released so that the
client's retry really runs. An answer that was complete upstream but cut off by the client leaving is
stored too: the client's retry gets it without a second call.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any

import orjson

from alice.api.errors import ApiError, BadRequest
from alice.guard.limits import guard_meta
from alice.guard.settings import IdempotencySettings
from alice.guard.stores import store_errors
from alice.pipeline import Turn
from alice.state.idempotency import IdempotencyStore

__all__ = ["HEADER", "Idempotency", "IdempotencyConflict", "IdempotencyInProgress", "fingerprint"]

HEADER = "idempotency-key"
MAX_KEY_LEN = 255
POLL_S = 0.02


class IdempotencyConflict(ApiError):
    status = 422
    type_ = "invalid_request_error"
    code = "idempotency_key_reused"


class IdempotencyInProgress(ApiError):
    status = 409
    type_ = "invalid_request_error"
    code = "idempotency_in_progress"


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def scoped_key(tenant: str, key: str) -> str:
    return hashlib.sha256(f"{tenant}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()


class Idempotency:
    """The stage (claims or replays) and the before-reply hook (stores or releases)."""

    def __init__(self, store: IdempotencyStore, settings: IdempotencySettings) -> None:
        self.store = store
        self.settings = settings

    async def __call__(self, turn: Turn) -> None:
        key = turn.headers.get(HEADER)
        if key is None:
            return
        if not 0 < len(key) <= MAX_KEY_LEN or not key.isprintable():
            raise BadRequest(f"the Idempotency-Key header must be 1 to {MAX_KEY_LEN} printable characters",
                             param="Idempotency-Key", code="invalid_idempotency_key")
        meta = guard_meta(turn)
        fp = meta.get("fingerprint") or fingerprint(turn.body)
        scoped, owner = scoped_key(turn.tenant, key), uuid.uuid4().hex
        deadline = time.monotonic() + self.settings.in_progress_wait_s
        while True:
            with store_errors("idempotency"):
                existing = await self.store.begin(scoped, fp, owner, self.settings.lease_s)
            if existing is None:
                meta["idempotency"] = (scoped, owner)
                return
            if existing.fingerprint != fp:
                raise IdempotencyConflict("this Idempotency-Key was already used with a different request body; "
                                          "use a new key for a new request", param="Idempotency-Key")
            if existing.state == "done" and existing.answer is not None:
                meta["replayed"] = True
                turn.answer = existing.answer
                return
            if time.monotonic() >= deadline:
                raise IdempotencyInProgress("a request with this Idempotency-Key is still in progress; retry "
                                            "after it has finished", param="Idempotency-Key", retry_after=1.0)
            await asyncio.sleep(POLL_S)

    async def after(self, turn: Turn) -> None:
        claim = (turn.meta.get("guard") or {}).get("idempotency")
        if claim is None:
            return
        scoped, owner = claim
        # Stored when the upstream answer is whole, even if the client left before reading all of it:
        # its retry is exactly what the key is for, and it should not cost a second call.
        if turn.complete and turn.answer is not None and turn.status in (200, 499):
            await self.store.finish(scoped, owner, turn.answer, self.settings.ttl_s)
        else:
            await self.store.release(scoped, owner)
