"""The canonical request key.

Everything that shapes an answer is in the key: the namespace (tenant, or a shared namespace
configured explicitly), the public model or route, the system prompt, tools, sampling
parameters and the whole message history. Fields that only shape the transport (`stream`,
`stream_options`, `user`, `metadata`, `store`) are not.

    partition = H(namespace, route, parameters, system + earlier messages)   the semantic scope
    exact     = H(partition, last message)                                    the L1 key
    query     = the last user message, `full`-normalised                      what L2 embeds

User text is normalised with the surface's policy (see `text.py`) before hashing, so on the
assistant surface "Hej! Vad är klockan?" and "vad är klockan" share a key; on the raw OpenAI
surface the default policy is `none` and the bytes decide.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from alice.cache.text import Policy, normalize

__all__ = ["TRANSPORT_FIELDS", "RequestKey", "build_key", "message_text"]

TRANSPORT_FIELDS = frozenset({"stream", "stream_options", "user", "metadata", "store", "model", "messages"})
_SORT = orjson.OPT_SORT_KEYS


@dataclass(frozen=True, slots=True)
class RequestKey:
    namespace: str
    exact: str
    partition: str
    query: str | None  # None when the last message is not a user's text (tool result, prefill)
    multi_turn: bool
    tools: bool  # the request offers tools or carries tool calls / results


def message_text(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if len(texts) == len(content):
            return "\n".join(texts)
    return None  # images, audio: only the exact tier applies


def _canonical(message: dict[str, Any], policy: Policy) -> dict[str, Any]:
    if message.get("role") != "user" or policy == "none":
        return message
    text = message_text(message)
    return message if text is None else {**message, "content": normalize(text, policy)}


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(len(p).to_bytes(4, "little"))
        h.update(p)
    return h.hexdigest()


def build_key(body: dict[str, Any], namespace: str, route: str, policy: Policy) -> RequestKey:
    messages: list[dict[str, Any]] = body.get("messages") or []
    params = {k: v for k, v in body.items() if k not in TRANSPORT_FIELDS}
    last = messages[-1] if messages else {}
    earlier = [_canonical(m, policy) for m in messages[:-1]]
    partition = _digest(namespace.encode(), route.encode(), orjson.dumps(params, option=_SORT),
                        orjson.dumps(earlier, option=_SORT))
    exact = _digest(partition.encode(), orjson.dumps(_canonical(last, policy), option=_SORT))
    text = message_text(last) if last.get("role") == "user" else None
    tools = bool(params.get("tools") or params.get("functions")) or any(
        m.get("role") in ("tool", "function") or m.get("tool_calls") for m in messages
    )
    multi_turn = any(m.get("role") not in ("system", "developer") for m in messages[:-1])
    return RequestKey(namespace, exact, partition, normalize(text, "full") if text else None, multi_turn, tools)
