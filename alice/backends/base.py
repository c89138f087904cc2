"""The backend abstraction: one deployment, two calls (complete, stream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from alice.backends.resilience import Deadlines
from alice.config import Deployment

__all__ = ["Backend", "Chunk", "Completion"]


@dataclass(slots=True)
class Completion:
    """A whole (non-streamed) answer: the upstream's raw bytes and the parsed object."""

    raw: bytes
    data: dict[str, Any]


@dataclass(slots=True)
class Chunk:
    """One SSE event of a streamed answer. `raw` is the exact `data: …` payload from upstream, so it
    can be passed through without re-serialising when nothing changes it."""

    raw: bytes
    data: dict[str, Any]


class Backend(Protocol):
    deployment: Deployment

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ready(self) -> bool: ...

    async def complete(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> Completion: ...

    def stream(self, body: dict[str, Any], deadlines: Deadlines, request_id: str) -> AsyncIterator[Chunk]: ...
