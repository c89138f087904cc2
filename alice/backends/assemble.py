"""Convert between a streamed answer (chunks) and a whole one (chat.completion)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["Assembler", "completion_to_frames", "error_frame", "estimate_tokens", "estimate_usage", "frame"]

DONE = b"data: [DONE]\n\n"


def frame(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def error_frame(message: str, type_: str = "upstream_error", code: str | None = None) -> bytes:
    return frame(orjson.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}}))


def estimate_tokens(text: str) -> int:
    # ~4 characters per token for English, a little fewer for Swedish: a documented estimate.
    return max(1, round(len(text) / 4)) if text else 0


def _message_text(messages: Any) -> str:
    parts: list[str] = []
    for m in messages or ():
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return "\n".join(parts)


def estimate_usage(messages: Any, completion_text: str) -> dict[str, Any]:
    p, c = estimate_tokens(_message_text(messages)), estimate_tokens(completion_text)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c, "estimated": True}


class Assembler:
    """Accumulates stream chunks into the chat.completion they add up to."""

    __slots__ = ("content", "created", "finish_reason", "id", "model", "role", "tool_calls", "usage")

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self.role = "assistant"
        self.content: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.tool_calls: list[dict[str, Any]] = []

    def add(self, data: dict[str, Any]) -> None:
        if not self.id:
            self.id = str(data.get("id") or "")
            self.model = str(data.get("model") or "")
            self.created = int(data.get("created") or 0)
        if data.get("usage"):
            self.usage = data["usage"]
        for choice in data.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.content.append(delta["content"])
            if delta.get("tool_calls"):
                self.tool_calls.extend(delta["tool_calls"])
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    @property
    def text(self) -> str:
        return "".join(self.content)

    def completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": self.role, "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        out: dict[str, Any] = {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason or "stop"}],
        }
        if self.usage:
            out["usage"] = self.usage
        return out


def completion_to_frames(completion: dict[str, Any], include_usage: bool) -> list[bytes]:
    """Render a whole answer (e.g. a cache hit) as the SSE frames a streaming client expects."""
    base = {"id": completion.get("id", ""), "object": "chat.completion.chunk",
            "created": completion.get("created", 0), "model": completion.get("model", "")}
    choice = (completion.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    frames = [
        frame(orjson.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                  "finish_reason": None}]})),
        frame(orjson.dumps({**base, "choices": [{"index": 0, "delta": {"content": message.get("content") or ""},
                                                  "finish_reason": None}]})),
        frame(orjson.dumps({**base, "choices": [{"index": 0, "delta": {},
                                                  "finish_reason": choice.get("finish_reason", "stop")}]})),
    ]
    if include_usage and completion.get("usage"):
        frames.append(frame(orjson.dumps({**base, "choices": [], "usage": completion["usage"]})))
    frames.append(DONE)
    return frames
