"""Putting redacted values back: whole texts, and streams whose placeholders may be split."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["PLACEHOLDER_RE", "StreamRestorer", "restore"]

PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z_]*_\d+>")


def restore(text: str, mapping: Mapping[str, str]) -> str:
    """Replace every known placeholder in `text` by its original value; unknown ones stay."""
    if not mapping or "<" not in text:
        return text
    return PLACEHOLDER_RE.sub(lambda m: mapping.get(m.group(), m.group()), text)


class StreamRestorer:
    """Restores placeholders in a stream of text chunks (one instance per streamed choice).

    A placeholder may arrive split over chunks ("<PHONE_NU", "MBER_1>"), so the tail of the
    buffer that could still become a placeholder is held back until it completes or cannot.
    The hold is at most one placeholder long, so the stream is never delayed by more than that.
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._mapping = dict(mapping)
        self._buf = ""

    def _could_continue(self, tail: str) -> bool:
        return any(len(tail) < len(p) and p.startswith(tail) for p in self._mapping)

    def feed(self, chunk: str) -> str:
        """Text that is safe to send now (restored); a possible partial placeholder is kept."""
        if not self._mapping:
            return chunk
        buf = self._buf + chunk
        # Placeholders contain no "<", so only the last "<" can open an unfinished one.
        cut = buf.rfind("<")
        if cut != -1 and self._could_continue(buf[cut:]):
            self._buf = buf[cut:]
            buf = buf[:cut]
        else:
            self._buf = ""
        return restore(buf, self._mapping)

    def flush(self) -> str:
        """Whatever is still held (the stream ended): restored where possible, else verbatim."""
        out, self._buf = restore(self._buf, self._mapping), ""
        return out
