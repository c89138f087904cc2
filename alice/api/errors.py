"""Errors rendered as OpenAI error bodies at the HTTP edge.

    ApiError                 status + OpenAI `error.type` / `error.code` / `error.param`
    ├── BadRequest           400 invalid_request_error (malformed JSON, schema)
    ├── NotFound             404 (unknown model or path)
    ├── MethodNotAllowed     405
    ├── PayloadTooLarge      413
    ├── RateLimited          429 + Retry-After
    ├── Unauthorized         401
    ├── Forbidden            403
    └── Unavailable          503 (+ Retry-After) / 502 via status
"""

from __future__ import annotations

import orjson

__all__ = [
    "ApiError",
    "BadRequest",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "error_body",
]


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})


class ApiError(Exception):
    status = 500
    type_ = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        # An upstream's own error body, passed through as is (e.g. a content-filter refusal).
        self.body = body

    def render(self) -> bytes:
        return self.body or error_body(self.message, self.type_, self.code, self.param)

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after is None:
            return []
        return [(b"retry-after", str(max(1, round(self.retry_after))).encode())]


class BadRequest(ApiError):
    status = 400
    type_ = "invalid_request_error"


class Unauthorized(ApiError):
    status = 401
    type_ = "authentication_error"
    code = "invalid_api_key"


class Forbidden(ApiError):
    status = 403
    type_ = "permission_error"


class NotFound(ApiError):
    status = 404
    type_ = "invalid_request_error"


class MethodNotAllowed(ApiError):
    status = 405
    type_ = "invalid_request_error"


class PayloadTooLarge(ApiError):
    status = 413
    type_ = "invalid_request_error"
    code = "request_too_large"


class RateLimited(ApiError):
    status = 429
    type_ = "rate_limit_error"
    code = "rate_limit_exceeded"


class Unavailable(ApiError):
    status = 503
    type_ = "service_unavailable"
