"""Tuning profiles: every constant of the original design, by name, in one place.

The `fibonacci` profile holds the original design's Fibonacci / golden-ratio values; the
`standard` profile holds conventional choices (exponential backoff with full jitter, fixed
TTLs, power-of-two buckets) so the benchmarks can compare the two on the same work.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def fibonacci_sequence(limit: int = 17711) -> tuple[int, ...]:
    """1, 1, 2, 3, 5, … up to `limit` inclusive (22 numbers for 17711)."""
    seq = [1, 1]
    while seq[-1] + seq[-2] <= limit:
        seq.append(seq[-1] + seq[-2])
    return tuple(seq)


FIBONACCI = fibonacci_sequence()
GOLDEN_RATIO = 1.618033988749895


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Ratios used for bands and guardian levels (golden ratio and its powers)."""

    low: float  # 0.382: recovery / "distant"
    mid: float  # 0.618: soft limit / "medium"
    high: float  # 1.618: hard limit multiplier
    very_high: float  # 2.618: emergency multiplier


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    sequence: tuple[int, ...]
    golden_ratio: float
    # Routing weights per tier (micro < planner < deep < …).
    tier_weights: dict[str, int]
    # Retry delays, in units of `retry_unit_s` (so tests can shrink time).
    retry_delays: tuple[float, ...]
    retry_unit_s: float
    retry_jitter: float  # fraction of the delay drawn at random (full jitter = 1.0)
    # Per-phase deadlines in seconds: connect, response headers, first token, gap between tokens.
    timeout_connect_s: float
    timeout_headers_s: float
    timeout_first_token_s: float
    timeout_gap_s: float
    timeout_total_s: float
    # Circuit breaker: open after this many consecutive failures; backoff between probes.
    breaker_failure_threshold: int
    breaker_backoff_s: tuple[float, ...]
    # Cache TTL tiers L1…L10 in hours; hits needed to promote one tier up.
    cache_ttl_hours: tuple[float, ...]
    cache_promotion_hits: tuple[int, ...]
    thresholds: Thresholds
    # Latency histogram buckets (ms): gateway path, and model calls (longer).
    latency_buckets_ms: tuple[float, ...]
    model_buckets_ms: tuple[float, ...]
    overhead_buckets_ms: tuple[float, ...]
    # SLO alert thresholds for the micro route (p95, ms).
    slo_p95_warning_ms: float
    slo_p95_critical_ms: float
    extras: dict[str, float] = field(default_factory=dict)


def _fib_between(lo: int, hi: int) -> tuple[float, ...]:
    return tuple(float(x) for x in dict.fromkeys(FIBONACCI) if lo <= x <= hi)


FIBONACCI_PROFILE = Profile(
    name="fibonacci",
    sequence=FIBONACCI,
    golden_ratio=GOLDEN_RATIO,
    tier_weights={
        "micro": 1,
        "planner": 2,
        "deep": 3,
        "hybrid": 5,
        "orchestrated": 8,
        "enterprise": 13,
        "cluster": 21,
        "distributed": 34,
        "massive": 55,
    },
    retry_delays=(1, 1, 2, 3, 5, 8, 13),
    retry_unit_s=0.1,
    retry_jitter=0.382,
    timeout_connect_s=1.0,
    timeout_headers_s=2.0,
    timeout_first_token_s=5.0,
    timeout_gap_s=8.0,
    timeout_total_s=89.0,
    breaker_failure_threshold=5,
    breaker_backoff_s=(1, 2, 3, 5, 8, 13),
    cache_ttl_hours=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
    cache_promotion_hits=(1, 2, 3, 5, 8, 13, 21, 34, 55),
    thresholds=Thresholds(low=0.382, mid=0.618, high=1.618, very_high=2.618),
    latency_buckets_ms=_fib_between(1, 987),
    model_buckets_ms=_fib_between(1, 10946),
    overhead_buckets_ms=(0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.3, 2.1, 3.4, 5.5, 8.9, 14.4),
    slo_p95_warning_ms=144.0,
    slo_p95_critical_ms=377.0,
)

STANDARD_PROFILE = Profile(
    name="standard",
    sequence=FIBONACCI,
    golden_ratio=GOLDEN_RATIO,
    tier_weights={"micro": 1, "planner": 2, "deep": 4},
    retry_delays=(1, 2, 4, 8, 16),
    retry_unit_s=0.1,
    retry_jitter=1.0,
    timeout_connect_s=1.0,
    timeout_headers_s=2.0,
    timeout_first_token_s=5.0,
    timeout_gap_s=10.0,
    timeout_total_s=60.0,
    breaker_failure_threshold=5,
    breaker_backoff_s=(1, 2, 4, 8, 16, 32),
    cache_ttl_hours=(1, 24),
    cache_promotion_hits=(4,),
    thresholds=Thresholds(low=0.5, mid=0.75, high=1.5, very_high=2.0),
    latency_buckets_ms=tuple(float(2**i) for i in range(11)),
    model_buckets_ms=tuple(float(2**i) for i in range(15)),
    overhead_buckets_ms=(0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16),
    slo_p95_warning_ms=150.0,
    slo_p95_critical_ms=400.0,
)

PROFILES = {p.name: p for p in (FIBONACCI_PROFILE, STANDARD_PROFILE)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None
