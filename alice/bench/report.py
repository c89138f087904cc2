"""docs/benchmarks.md is assembled from sections, each replaced whole by the benchmark that owns it."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["write_section"]

HEADER = "# Benchmarks\n\nEvery table here was produced by the command shown above it, on the machine described.\n"


def write_section(path: Path, name: str, markdown: str) -> None:
    """Replace (or append) the section delimited by `<!-- bench:NAME -->` markers."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
