"""Rate limits: requests and tokens per minute per key, daily token budgets per tenant, and request
budgets per deployment (a backend's own RPM capacity) that routing respects.

Tokens are reserved before the call (prompt estimate + max_tokens) and reconciled after it from
`turn.usage` by the after-hook, so a burst cannot overrun a token limit while answers are still
being written. Answers that cost no upstream tokens (cache hits, idempotent replays, refused
requests) give their whole reservation back.

Per-deployment budgets: right before the chain runs, `gate` books one call on the first
deployment (in chain order) that has room and tells the chain to skip the saturated ones before
it. Calls the booking did not foresee (fall-overs, retries) are counted after the fact, and a
booking that was never used (breaker open) is released.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from alice.api.errors import BadRequest, RateLimited
from alice.backends.assemble import estimate_usage
from alice.backends.errors import Throttled
from alice.backends.fallback import AllFailed
from alice.guard.keys import Principal
from alice.guard.settings import Policy
from alice.guard.stores import store_errors
from alice.pipeline import Turn
from alice.state.windows import WindowStore

if TYPE_CHECKING:
    from alice.backends.deployment import DeploymentRunner
    from alice.backends.fallback import Chain

__all__ = ["Limiter", "estimate_reservation", "guard_meta"]

_MESSAGES = {
    "rpm": "requests per minute",
    "tpm": "tokens per minute",
    "daily": "tokens per day",
}


def guard_meta(turn: Turn) -> dict[str, Any]:
    meta = turn.meta.get("guard")
    if meta is None:
        meta = turn.meta["guard"] = {}
    return meta


def requested_completion(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        v = body.get(name)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def estimate_reservation(body: dict[str, Any], policy: Policy) -> int:
    """Prompt tokens (estimated from the text) plus the most the answer may cost."""
    prompt = int(estimate_usage(body.get("messages"), "")["prompt_tokens"])
    completion = requested_completion(body) or policy.max_tokens or policy.default_completion_tokens or 0
    return max(1, prompt + completion)


class Limiter:
    def __init__(self, store: WindowStore, *, window_s: float, deployment_rpm: dict[str, int]) -> None:
        self.store = store
        self.window_s = window_s
        self.deployment_rpm = deployment_rpm

    async def admit(self, turn: Turn, principal: Principal, policy: Policy) -> None:
        if not (policy.rpm or policy.tpm or policy.daily_tokens):
            return
        tokens = estimate_reservation(turn.body, policy) if (policy.tpm or policy.daily_tokens) else 0
        for limit, name in ((policy.tpm, "tokens per minute"), (policy.daily_tokens, "tokens per day")):
            if limit and tokens > limit:
                raise BadRequest(f"this request needs about {tokens} tokens (prompt + max_tokens), more than the "
                                 f"{limit} {name} allowed for this key; send a shorter prompt or a lower max_tokens",
                                 param="max_tokens", code="tokens_exceed_limit")
        subject = principal.key_id or f"tenant:{principal.tenant}"
        rid = uuid.uuid4().hex
        with store_errors("rate limiting"):
            verdict = await self.store.admit(rid, subject, window_s=self.window_s, rpm=policy.rpm, tpm=policy.tpm,
                                             tokens=tokens, daily=policy.daily_tokens,
                                             daily_subject=principal.tenant if policy.daily_tokens else None)
        if not verdict.ok:
            limit = {"rpm": policy.rpm, "tpm": policy.tpm, "daily": policy.daily_tokens}[verdict.reason]
            raise RateLimited(f"rate limit reached: {limit} {_MESSAGES[verdict.reason]} for this key; retry after "
                              f"{max(1, round(verdict.retry_after))} s", retry_after=max(1.0, verdict.retry_after),
                              code=f"rate_limit_{verdict.reason}")
        guard_meta(turn)["reservation"] = (rid, subject, principal.tenant if policy.daily_tokens else None, tokens)

    async def gate(self, turn: Turn, chain: Chain) -> Callable[[DeploymentRunner], bool] | None:
        """Book a call on the first deployment with room; the predicate skips the saturated ones."""
        budgets: list[tuple[str, int]] = []
        for runner in chain.runners:
            rpm = self.deployment_rpm.get(runner.name)
            if rpm is None:
                break  # an unbudgeted deployment always has room: nothing after it matters
            budgets.append((runner.name, rpm))
        if not budgets:
            return None
        rid = uuid.uuid4().hex
        with store_errors("deployment budgets"):
            index, wait = await self.store.take_deployment(rid, budgets, self.window_s)
        if index < 0 and len(budgets) == len(chain.runners):
            raise AllFailed(Throttled(f"every deployment of '{chain.public_name}' is at its request budget",
                                      retry_after=max(1.0, wait)), [])
        saturated = {name for name, _ in (budgets[:index] if index >= 0 else budgets)}
        guard_meta(turn)["deployment_booking"] = (rid, budgets[index][0] if index >= 0 else None)
        return lambda runner: runner.name in saturated

    async def after(self, turn: Turn) -> None:
        meta = turn.meta.get("guard") or {}
        reservation = meta.get("reservation")
        if reservation is not None:
            rid, subject, daily_subject, booked = reservation
            await self.store.reconcile(rid, subject, daily_subject, self.used_tokens(turn) - booked)
        booking = meta.get("deployment_booking")
        if self.deployment_rpm and (booking is not None or turn.attempts):
            await self._settle_deployments(turn, booking)

    @staticmethod
    def used_tokens(turn: Turn) -> int:
        meta = turn.meta.get("guard") or {}
        if turn.cache != "miss" or meta.get("replayed") or not turn.usage:
            return 0
        total = turn.usage.get("total_tokens")
        if not isinstance(total, int):
            total = int(turn.usage.get("prompt_tokens") or 0) + int(turn.usage.get("completion_tokens") or 0)
        return max(0, total)

    async def _settle_deployments(self, turn: Turn, booking: tuple[str, str | None] | None) -> None:
        calls = Counter(a.deployment for a in turn.attempts if a.deployment in self.deployment_rpm)
        rid, booked = booking if booking is not None else (None, None)
        if booked is not None:
            if calls[booked]:
                calls[booked] -= 1
            else:
                await self.store.release_deployment(rid or "", booked)
        for name, n in calls.items():
            if n > 0:
                await self.store.record_deployment(name, n, self.window_s)
