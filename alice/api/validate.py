"""Schema checks for /v1/chat/completions that name the offending field (400, never 500)."""

from __future__ import annotations

from typing import Any

from alice.api.errors import BadRequest

__all__ = ["validate_chat_body"]

ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def _number(body: dict[str, Any], name: str, lo: float, hi: float) -> None:
    v = body.get(name)
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise BadRequest(f"'{name}' must be a number between {lo:g} and {hi:g}", param=name)


def _positive_int(body: dict[str, Any], name: str) -> None:
    v = body.get(name)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        raise BadRequest(f"'{name}' must be a positive integer", param=name)


def validate_chat_body(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("'model' is required and must be a non-empty string", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' is required and must be a non-empty array", param="messages")
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise BadRequest(f"'{where}' must be an object", param=where)
        role = m.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise BadRequest(f"'{where}.role' must be one of {sorted(ROLES)}", param=f"{where}.role")
        content = m.get("content")
        if content is None:
            if role not in ("assistant", "tool", "function"):
                raise BadRequest(f"'{where}.content' is required", param=f"{where}.content")
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise BadRequest(f"'{where}.content[{j}]' must be an object with a 'type'",
                                     param=f"{where}.content[{j}]")
        elif not isinstance(content, str):
            raise BadRequest(f"'{where}.content' must be a string or an array of parts", param=f"{where}.content")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise BadRequest("'stream' must be a boolean", param="stream")
    so = body.get("stream_options")
    if so is not None and not isinstance(so, dict):
        raise BadRequest("'stream_options' must be an object", param="stream_options")
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    _positive_int(body, "max_tokens")
    _positive_int(body, "max_completion_tokens")
    _positive_int(body, "n")
    if body.get("n", 1) != 1:
        raise BadRequest("'n' other than 1 is not supported", param="n")
