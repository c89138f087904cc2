"""The Admit stage: authenticate → request caps → rate limits → guardian (brownout / shedding).

It sets `turn.tenant` and `turn.key_id`, and leaves for later stages in `turn.meta["guard"]`:
`allowed_models`, `allowed_tools` (None = all), `fingerprint` (of the body as the client sent
it, when an Idempotency-Key came), `reservation` (booked tokens), `in_flight`.
"""

from __future__ import annotations

from typing import Any

from alice.api.errors import BadRequest, Forbidden, PayloadTooLarge
from alice.guard.auth import Authenticator
from alice.guard.brownout import Guardian
from alice.guard.idempotency import HEADER, fingerprint
from alice.guard.keys import Principal
from alice.guard.limits import Limiter, guard_meta
from alice.guard.settings import GuardSettings, Policy
from alice.pipeline import Turn
from alice.state.keys import KeyRecord

__all__ = ["Admit", "check_caps"]


def check_caps(body: dict[str, Any], policy: Policy) -> None:
    messages = body.get("messages")
    if policy.max_messages and isinstance(messages, list) and len(messages) > policy.max_messages:
        raise PayloadTooLarge(f"too many messages: {len(messages)}; at most {policy.max_messages} are allowed",
                              param="messages", code="too_many_messages")
    if policy.max_tokens:
        for name in ("max_tokens", "max_completion_tokens"):
            v = body.get(name)
            if isinstance(v, int) and v > policy.max_tokens:
                raise BadRequest(f"'{name}' is {v}; at most {policy.max_tokens} is allowed for this key",
                                 param=name, code="max_tokens_too_large")


def _key_policy(record: KeyRecord) -> Policy:
    return Policy(rpm=record.rpm, tpm=record.tpm, daily_tokens=record.daily_tokens, models=record.models,
                  tools=record.tools)


class Admit:
    def __init__(self, auth: Authenticator, limiter: Limiter, guardian: Guardian, settings: GuardSettings) -> None:
        self.auth = auth
        self.limiter = limiter
        self.guardian = guardian
        self.settings = settings
        self._policies: dict[str, tuple[KeyRecord | None, Policy]] = {}

    def policy(self, principal: Principal) -> Policy:
        """Key fields over the tenant's over the defaults; cached until the key's record changes."""
        name = principal.key_id or f"tenant:{principal.tenant}"
        cached = self._policies.get(name)
        if cached is not None and cached[0] is principal.record:
            return cached[1]
        base = self.settings.policy_for(principal.tenant)
        policy = _key_policy(principal.record).over(base) if principal.record is not None else base
        self._policies[name] = (principal.record, policy)
        return policy

    async def __call__(self, turn: Turn) -> None:
        meta = guard_meta(turn)
        if HEADER in turn.headers:
            meta["fingerprint"] = fingerprint(turn.body)  # before any stage rewrites the body
        principal = self.auth.authenticate(turn.headers)
        turn.tenant, turn.key_id = principal.tenant, principal.key_id
        policy = self.policy(principal)
        if policy.models is not None and turn.model not in policy.models:
            raise Forbidden(f"this key may not use model '{turn.model}'; allowed: {', '.join(policy.models) or 'none'}",
                            param="model", code="model_not_allowed")
        meta["allowed_models"] = policy.models
        meta["allowed_tools"] = policy.tools
        meta["injection"] = policy.injection  # the Screen stage's mode for this tenant (off | flag | block)
        check_caps(turn.body, policy)
        await self.limiter.admit(turn, principal, policy)
        if self.guardian.settings.enabled:
            self.guardian.admit(turn)
