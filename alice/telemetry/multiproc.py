"""Prometheus multiprocess mode for `alice serve` with several worker processes.

prometheus-client decides at import time whether values live in per-process mmap files, from
the environment variable PROMETHEUS_MULTIPROC_DIR. So the parent process must set it, on an
empty directory, before any worker starts: `prepare(state_dir)` does that. Each worker marks
itself dead on shutdown so its live gauges (in-flight, lag, breaker states) stop counting;
its counters and histograms stay in the totals, as Prometheus expects.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

__all__ = ["ENV", "mark_dead", "prepare"]

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(state_dir: str | Path) -> Path:
    """Create an empty metrics directory under the state dir and point the environment at it.
    Call in the parent before starting workers (e.g. when `server.workers > 1`)."""
    path = Path(state_dir) / "prometheus-multiproc"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[ENV] = str(path)
    return path


def mark_dead(pid: int | None = None) -> None:
    path = os.environ.get(ENV)
    if path and Path(path).is_dir():
        multiprocess.mark_process_dead(pid or os.getpid(), path)
