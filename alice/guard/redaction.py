"""PII policy per destination: the dispatcher's outbound hook.

    deployment.locality = local   the body goes as the client sent it
                        = cloud   every message text (and tool-call arguments) with PII replaced by
                                  placeholders like `<EMAIL_ADDRESS_1>`; with `guard.pii.restore` the
                                  placeholders in the reply are replaced by the originals again,
                                  also in streams (a placeholder may be split over chunks)

The mapping from placeholders to originals lives only in the call (one `Redacted` per deployment
call); it is never stored. The cache and the request log take care of themselves: a turn that
carries PII is not cached (`carries_pii`), and the log writes redacted text only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from alice.backends.base import Chunk, Completion
from alice.guard.limits import guard_meta
from alice.guard.pii import PiiDetector, Redactor, StreamRestorer, restore
from alice.guard.settings import PiiSettings

if TYPE_CHECKING:
    from alice.backends.deployment import DeploymentRunner
    from alice.pipeline import Turn

__all__ = ["PiiPolicy", "Redacted", "carries_pii"]


def _texts(message: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(container, key) of every text a message carries: content (string or text parts) and the
    arguments of its tool calls."""
    content = message.get("content")
    if isinstance(content, str):
        yield message, "content"
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part, "text"
    for call in message.get("tool_calls") or ():
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
            yield fn, "arguments"


def _copy_message(message: Any) -> Any:
    # Only the containers that `_texts` may write into are copied; the client's body stays untouched.
    if not isinstance(message, dict):
        return message
    out = dict(message)
    if isinstance(out.get("content"), list):
        out["content"] = [dict(p) if isinstance(p, dict) else p for p in out["content"]]
    if isinstance(out.get("tool_calls"), list):
        out["tool_calls"] = [
            {**c, "function": dict(c["function"])} if isinstance(c, dict) and isinstance(c.get("function"), dict)
            else c for c in out["tool_calls"]]
    return out


def redact_body(body: dict[str, Any], redactor: Redactor) -> dict[str, Any] | None:
    """A copy of `body` with PII in its messages redacted, or None if there was none."""
    messages = [_copy_message(m) for m in body.get("messages") or ()]
    found = False
    for message in messages:
        if not isinstance(message, dict):
            continue
        for holder, key in _texts(message):
            text = holder[key]
            redacted = redactor.redact(text)
            if redacted != text:
                holder[key], found = redacted, True
    return {**body, "messages": messages} if found else None


def carries_pii(turn: Turn, detector: PiiDetector) -> bool:
    """True if the request's messages or the answer contain PII (such a turn is not cached)."""
    messages = [*(turn.body.get("messages") or ())]
    for choice in (turn.answer or {}).get("choices") or ():
        if isinstance(choice, dict) and isinstance(choice.get("message"), dict):
            messages.append(choice["message"])
    return any(detector.detect(m[k]) for msg in messages if isinstance(msg, dict) for m, k in _texts(msg))


class Redacted:
    """One call to a cloud deployment: the redacted body and how the reply is put back."""

    def __init__(self, body: dict[str, Any], mapping: dict[str, str]) -> None:
        self.body = body
        self.mapping = mapping

    def completion(self, completion: Completion) -> Completion:
        if not self.mapping:
            return completion
        data, changed = completion.data, False
        for choice in data.get("choices") or ():
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict):
                continue
            for holder, key in _texts(message):
                restored = restore(holder[key], self.mapping)
                if restored != holder[key]:
                    holder[key], changed = restored, True
        return Completion(orjson.dumps(data), data) if changed else completion

    def stream(self) -> StreamRestore:
        return StreamRestore(self.mapping)


class StreamRestore:
    """Restores placeholders in the deltas of one stream: content per choice, arguments per tool
    call. Text that may be the start of a placeholder is held back until it completes, and is
    sent at the latest with the choice's finish_reason (or in one extra chunk at the end)."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self._open: dict[tuple[int, int | None], StreamRestorer] = {}  # (choice, tool call or None)
        self._last: dict[str, Any] = {}

    def _restorer(self, key: tuple[int, int | None]) -> StreamRestorer:
        r = self._open.get(key)
        if r is None:
            r = self._open[key] = StreamRestorer(self.mapping)
        return r

    def chunk(self, chunk: Chunk) -> Chunk:
        if not self.mapping:
            return chunk
        data = chunk.data
        self._last = data
        changed = False
        for choice in data.get("choices") or ():
            if not isinstance(choice, dict) or not isinstance(choice.get("delta"), dict):
                continue
            i, delta = choice.get("index", 0), choice["delta"]
            if isinstance(delta.get("content"), str):
                changed |= _feed(delta, "content", self._restorer((i, None)).feed)
            for call in delta.get("tool_calls") or ():
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    changed |= _feed(fn, "arguments", self._restorer((i, call.get("index", 0))).feed)
            if choice.get("finish_reason"):
                changed |= self._flush_choice(i, delta)
        return Chunk(orjson.dumps(data), data) if changed else chunk

    def _flush_choice(self, index: int, delta: dict[str, Any]) -> bool:
        changed = False
        for (i, call), r in list(self._open.items()):
            if i != index:
                continue
            del self._open[(i, call)]
            held = r.flush()
            if not held:
                continue
            changed = True
            if call is None:
                delta["content"] = (delta.get("content") or "") + held
            else:
                delta.setdefault("tool_calls", []).append({"index": call, "function": {"arguments": held}})
        return changed

    def end(self) -> Chunk | None:
        choices = []
        for i in sorted({i for i, _ in self._open}):
            delta: dict[str, Any] = {}
            if self._flush_choice(i, delta):
                choices.append({"index": i, "delta": delta, "finish_reason": None})
        if not choices:
            return None
        last = self._last
        data = {"id": last.get("id"), "object": "chat.completion.chunk", "created": last.get("created"),
                "model": last.get("model"), "choices": choices}
        return Chunk(orjson.dumps(data), data)


def _feed(holder: dict[str, Any], key: str, feed: Callable[[str], str]) -> bool:
    text = holder[key]
    out = feed(text)
    if out == text:
        return False
    holder[key] = out
    return True


class PiiPolicy:
    """The hook (`Dispatcher.outbound`): redacts the body for cloud deployments."""

    def __init__(self, settings: PiiSettings, detector: PiiDetector) -> None:
        self.settings = settings
        self.detector = detector

    def __call__(self, turn: Turn, runner: DeploymentRunner, body: dict[str, Any]) -> Redacted | None:
        if runner.deployment.locality != "cloud":
            return None
        redactor = Redactor(self.detector, reversible=self.settings.restore)
        redacted = redact_body(body, redactor)
        if redacted is None:
            return None
        # What was redacted (entity counts, never the values), for the log and for tests.
        guard_meta(turn)["pii"] = {"deployment": runner.name, "redacted": redactor.counts}
        return Redacted(redacted, redactor.mapping)
