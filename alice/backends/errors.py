"""What can go wrong talking to an upstream, classified once at the boundary.

    UpstreamError
    ├── Retryable            may succeed on a retry or on another deployment
    │   ├── ConnectFailed    refused / reset before a response
    │   ├── PhaseTimeout     a per-phase deadline passed (connect, headers, first_token, gap, total)
    │   ├── ServerError      5xx
    │   ├── Throttled        429 (+ Retry-After)
    │   ├── BreakerOpen      the deployment's breaker refuses calls
    │   └── Malformed        a body or stream chunk that is not valid JSON / SSE
    └── Final                deterministic: never retried on the same model
        ├── ContextLength    prompt too long: skip to a larger context window
        ├── ContentFiltered  refusal: propagate the reason, try nowhere else
        └── ClientError      any other 4xx: returned to the client as is
"""

from __future__ import annotations

import orjson

__all__ = [
    "BreakerOpen",
    "ClientError",
    "ConnectFailed",
    "ContentFiltered",
    "ContextLength",
    "Final",
    "Malformed",
    "PhaseTimeout",
    "Retryable",
    "ServerError",
    "Throttled",
    "UpstreamError",
    "classify_http_error",
]


class UpstreamError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: bytes | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.deployment: str | None = None


class Retryable(UpstreamError):
    pass


class ConnectFailed(Retryable):
    pass


class PhaseTimeout(Retryable):
    def __init__(self, phase: str, seconds: float) -> None:
        super().__init__(f"upstream {phase} deadline of {seconds:g}s passed")
        self.phase = phase


class ServerError(Retryable):
    pass


class Throttled(Retryable):
    pass


class BreakerOpen(Retryable):
    pass


class Malformed(Retryable):
    pass


class Final(UpstreamError):
    pass


class ContextLength(Final):
    pass


class ContentFiltered(Final):
    pass


class ClientError(Final):
    pass


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: rare from LLM APIs; treat as absent


def _error_fields(body: bytes) -> tuple[str, str]:
    try:
        err = orjson.loads(body).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return "", body[:200].decode("utf-8", "replace")
    if not isinstance(err, dict):
        return "", str(err)
    return str(err.get("code") or err.get("type") or ""), str(err.get("message") or "")


def classify_http_error(status: int, body: bytes, retry_after: str | None) -> UpstreamError:
    code, message = _error_fields(body)
    text = f"upstream returned {status}: {message or code or 'no message'}"
    lowered = f"{code} {message}".lower()
    if status == 429:
        return Throttled(text, status=status, body=body, retry_after=_parse_retry_after(retry_after))
    if status >= 500:
        return ServerError(text, status=status, body=body, retry_after=_parse_retry_after(retry_after))
    if "context_length" in lowered or "maximum context length" in lowered or "context window" in lowered:
        return ContextLength(text, status=status, body=body)
    if "content_filter" in lowered or "content_policy" in lowered or "content management policy" in lowered:
        return ContentFiltered(text, status=status, body=body)
    return ClientError(text, status=status, body=body)
