from alice.profiles import FIBONACCI_PROFILE, GOLDEN_RATIO, STANDARD_PROFILE, fibonacci_sequence, get_profile


def test_fibonacci_sequence_to_17711_has_22_numbers():
    seq = fibonacci_sequence()
    assert len(seq) == 22
    assert seq[:8] == (1, 1, 2, 3, 5, 8, 13, 21)
    assert seq[-1] == 17711


def test_fibonacci_profile_holds_the_original_constants():
    p = FIBONACCI_PROFILE
    assert p.golden_ratio == GOLDEN_RATIO == 1.618033988749895
    assert p.tier_weights == {"micro": 1, "planner": 2, "deep": 3, "hybrid": 5, "orchestrated": 8,
                              "enterprise": 13, "cluster": 21, "distributed": 34, "massive": 55}
    assert p.retry_delays == (1, 1, 2, 3, 5, 8, 13)
    assert (p.timeout_connect_s, p.timeout_headers_s, p.timeout_first_token_s, p.timeout_gap_s) == (1, 2, 5, 8)
    assert p.breaker_backoff_s == (1, 2, 3, 5, 8, 13)
    assert p.cache_ttl_hours == (1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
    assert (p.thresholds.mid, p.thresholds.high, p.thresholds.very_high, p.thresholds.low) == (
        0.618, 1.618, 2.618, 0.382)
    assert p.latency_buckets_ms[0] == 1 and p.latency_buckets_ms[-1] == 987
    assert p.model_buckets_ms[-1] == 10946


def test_standard_profile_is_conventional():
    p = STANDARD_PROFILE
    assert p.retry_jitter == 1.0  # full jitter
    assert all(b == 2 ** i for i, b in enumerate(p.latency_buckets_ms))
    assert get_profile("standard") is p
