"""OpenAI chat-completion wire format, rendered straight to bytes.

The parts of a response that depend only on (model, answer text) — the JSON of the model name, the
message, one delta per token — are rendered once and cached, so the hot path of the `ok` model only
splices the per-request id, timestamp and usage numbers between precomputed byte strings.

Tokens are words: a delta carries one word with the whitespace before it, so the deltas concatenate
to the exact answer text. Usage counts words (prompt: all message contents; completion: the answer),
an approximation documented as such in docs, not a tokenizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

__all__ = [
    "DONE",
    "MALFORMED",
    "Rendered",
    "completion_body",
    "count_words",
    "error_body",
    "last_user_text",
    "prompt_words",
    "render",
    "split_tokens",
    "stream_frames",
]

DONE = b"data: [DONE]\n\n"
MALFORMED = b"data: {not json\n\n"

_TOKEN = re.compile(r"\s*\S+|\s+")
_ROLE_CHOICE = b'[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'
_STOP_CHOICE = b'[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]'


def split_tokens(text: str) -> list[str]:
    """Word-sized deltas whose concatenation is exactly `text`."""
    return _TOKEN.findall(text)


def count_words(text: str) -> int:
    return len(text.split())


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: only the text parts count
        return " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def prompt_words(messages: Any) -> int:
    if not isinstance(messages, list):
        return 0
    return sum(count_words(_content_text(m.get("content"))) for m in messages if isinstance(m, dict))


def last_user_text(messages: Any) -> str:
    if isinstance(messages, list):
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "user":
                return _content_text(m.get("content"))
    return ""


@dataclass(frozen=True, slots=True)
class Rendered:
    """The request-independent parts of one answer by one model name."""

    model_json: bytes
    message_choices: bytes
    delta_choices: tuple[bytes, ...]
    completion_tokens: int


@lru_cache(maxsize=1024)
def render(model: str, text: str) -> Rendered:
    message = [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                "finish_reason": "stop"}]
    deltas = tuple(orjson.dumps([{"index": 0, "delta": {"content": tok}, "logprobs": None, "finish_reason": None}])
                   for tok in split_tokens(text))
    return Rendered(orjson.dumps(model), orjson.dumps(message), deltas, count_words(text))


def _usage(prompt_tokens: int, completion_tokens: int) -> bytes:
    return b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}' % (
        prompt_tokens, completion_tokens, prompt_tokens + completion_tokens)


def completion_body(r: Rendered, rid: bytes, created: int, prompt_tokens: int) -> bytes:
    """A whole `chat.completion` object."""
    return b"".join((
        b'{"id":"', rid, b'","object":"chat.completion","created":%d,"model":' % created, r.model_json,
        b',"choices":', r.message_choices, b',"usage":', _usage(prompt_tokens, r.completion_tokens), b"}",
    ))


def stream_frames(r: Rendered, rid: bytes, created: int, prompt_tokens: int, include_usage: bool) -> list[bytes]:
    """SSE frames of a whole stream without the final `[DONE]`: role, one per token, stop, [usage]."""
    head = b'data: {"id":"%s","object":"chat.completion.chunk","created":%d,"model":%s,"choices":' % (
        rid, created, r.model_json)
    frames = [head + _ROLE_CHOICE + b"}\n\n"]
    frames.extend(head + d + b"}\n\n" for d in r.delta_choices)
    frames.append(head + _STOP_CHOICE + b"}\n\n")
    if include_usage:  # OpenAI: an extra chunk with empty choices carries the usage
        frames.append(head + b'[],"usage":' + _usage(prompt_tokens, r.completion_tokens) + b"}\n\n")
    return frames


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})
