"""L3 negative tier: which failures are deterministic enough to be answered again from the cache.

Only an upstream's own deterministic refusal qualifies: the prompt is too long for every
deployment (context length), a content filter refused it, or the upstream called the request
invalid (4xx other than auth and rate limits). Never 429, 5xx, timeouts, breakers, or Alice's
own refusals (auth, rate limit, guard): those change from one second to the next.

The API layer records the raised `ApiError` as `turn.meta["api_error"]`; its `__context__` is the
classified upstream error (`alice.backends.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alice.api.errors import ApiError
from alice.backends.errors import ClientError, ContentFiltered, ContextLength

if TYPE_CHECKING:
    from alice.pipeline import Turn

__all__ = ["CachedFailure", "deterministic_failure"]

_NOT_DETERMINISTIC = {401, 403, 408, 409, 425, 429}


def deterministic_failure(turn: Turn) -> tuple[str, ApiError] | None:
    """(kind, error) if the turn failed deterministically upstream, else None."""
    exc = turn.meta.get("api_error")
    if not isinstance(exc, ApiError) or isinstance(exc, CachedFailure):
        return None
    cause = exc.__context__
    if isinstance(cause, ContextLength):
        return "context_length", exc
    if isinstance(cause, ContentFiltered):
        return "content_filter", exc
    if isinstance(cause, ClientError) and 400 <= exc.status < 500 and exc.status not in _NOT_DETERMINISTIC:
        return "invalid_request", exc
    return None


class CachedFailure(ApiError):
    """A deterministic upstream failure replayed from the negative tier, with its own status and body."""

    type_ = "invalid_request_error"

    def __init__(self, status: int, body: bytes, route: str) -> None:
        super().__init__("replayed from the negative cache", status=status, body=body)
        self.route = route

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"x-alice-cache", b"negative"), (b"x-alice-route", self.route.encode())]
