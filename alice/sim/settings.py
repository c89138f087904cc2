"""The sim's knobs: one small immutable object, filled from CLI flags (or by tests directly)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_ANSWER", "DEFAULT_LOG_MAX", "SimSettings"]

# Every healthy answer is exactly this text (unless --answer is given), so a gateway test can tell a
# truncated answer from a whole one by comparing with the answer of the `ok` model. 20 words.
DEFAULT_ANSWER = (
    "Hej! Jag är Alice-simulatorn och svarar alltid med exakt samma mening. "
    "Hello, I always answer with this full exact sentence."
)
DEFAULT_LOG_MAX = 100_000  # attempts kept by /control/log; older ones fall off (bounded memory)


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How the sim behaves. Times are in the unit their name says; 0 disables a delay."""

    latency_ms: float = 0.0  # waited before every attempt is acted on (answers and faults alike)
    tokens_per_s: float = 0.0  # generation speed: gap between stream deltas, or total wait; 0 = instant
    answer: str = DEFAULT_ANSWER  # text of every healthy answer (`echo` excepted)
    ttft_ms: float = 3000.0  # `slow-ttft`: wait before the response headers
    stall_s: float = 30.0  # `stream-stall` silence before resuming; how long `no-done` holds the stream open
    flap_window_s: float = 5.0  # `flap`: 503 for this long after its first request (since start or reset)
    retry_after_s: float = 1.0  # `429-retry-after`: value of the Retry-After header
    context_window: int = 4096  # quoted in the `context-length` error message
    log_attempts: bool = True  # False: /control/log stays empty and the hot path skips hashing bodies
    log_max: int = DEFAULT_LOG_MAX
    # True: each logged attempt also keeps the request's messages, so a test can see exactly what an
    # upstream received (e.g. that PII was redacted on the way). Off by default: it costs memory.
    log_messages: bool = False

    def __post_init__(self) -> None:
        for name in ("latency_ms", "tokens_per_s", "ttft_ms", "stall_s", "flap_window_s", "retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"sim setting {name} must be >= 0, got {getattr(self, name)!r}")
        if self.context_window < 1 or self.log_max < 1:
            raise ValueError("sim settings context_window and log_max must be >= 1")
