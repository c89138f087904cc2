"""What one deployment may see of a request, and how its reply is put back: the per-deployment
body hook of the dispatcher (`Dispatcher.outbound`).

A fallback chain may mix local and cloud deployments, so the decision is made per deployment,
at the moment it is called. The backends only apply what the hook returns; what is changed and
why (e.g. PII redaction for cloud deployments) belongs to the area that sets the hook.
"""

from __future__ import annotations

from typing import Any, Protocol

from alice.backends.base import Chunk, Completion

__all__ = ["Outbound", "StreamReply"]


class StreamReply(Protocol):
    """Puts one streamed reply back, chunk by chunk (one instance per stream)."""

    def chunk(self, chunk: Chunk) -> Chunk:
        """The chunk to send on (the same object when nothing in it changes)."""
        ...

    def end(self) -> Chunk | None:
        """A last chunk for anything still held back when the upstream stream ended."""
        ...


class Outbound(Protocol):
    body: dict[str, Any]  # the request body this deployment receives

    def completion(self, completion: Completion) -> Completion:
        """The whole reply as the client must see it."""
        ...

    def stream(self) -> StreamReply: ...
