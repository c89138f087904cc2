from itertools import pairwise

import pytest

from alice.cache.bands import BAND_NAMES, Bands
from alice.cache.tiers import TtlLadder, intent_cap_s, text_cap_s
from alice.profiles import GOLDEN_RATIO, get_profile


def test_bands_are_golden_ratio_steps_in_distance():
    b = Bands.build(0.01, GOLDEN_RATIO)
    distances = [1 - f for f in b.floors]
    assert [round(d2 / d1, 6) for d1, d2 in pairwise(distances)] == [round(GOLDEN_RATIO, 6)] * 4
    assert BAND_NAMES[b.band(0.995)] == "exact" and BAND_NAMES[b.band(0.985)] == "golden_close"
    assert BAND_NAMES[b.band(0.0)] == "distant" and b.action(0.0) == "miss"


def test_band_overrides_and_validation():
    b = Bands.build(0.01, GOLDEN_RATIO, {"golden_close": 0.98}, {"golden_medium": "miss"})
    assert b.floors[1] == 0.98 and b.actions[2] == "miss"
    with pytest.raises(ValueError, match="descend"):
        Bands.build(0.01, GOLDEN_RATIO, {"exact": 0.5})


def test_ladder_from_profiles():
    fib = get_profile("fibonacci")
    ladder = TtlLadder.from_profile(fib.cache_ttl_hours, fib.cache_promotion_hits)
    assert [t / 3600 for t in ladder.ttl_s] == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    assert not ladder.promote(0, 0) and ladder.promote(0, 1) and not ladder.promote(3, 4) and ladder.promote(3, 5)
    assert not ladder.promote(9, 10**6)  # the top tier stays
    assert ladder.ttl(9, cap_s=600) == 600
    std = get_profile("standard")
    assert TtlLadder.from_profile(std.cache_ttl_hours, std.cache_promotion_hits).ttl_s == (3600.0, 86400.0)


def test_intent_and_text_caps():
    caps = {"time": 0, "weather": 600, "timer": 0}
    assert intent_cap_s("weather.forecast", caps) == 600 and intent_cap_s("home.timer_set", caps) == 0
    assert intent_cap_s("fact.capital", caps) is None and intent_cap_s(None, caps) is None
    assert text_cap_s("vad är klockan", caps) == 0 and text_cap_s("hur blir vädret i lund", caps) == 600
    assert text_cap_s("vem skrev röda rummet", caps) is None
