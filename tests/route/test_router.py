import pytest

from alice.route import MicroQuota, Router, RoutingSettings, RoutingSettingsError, split_actions


def router(**kw) -> Router:
    return Router(RoutingSettings(**kw), "fibonacci")


def test_tool_route_when_the_intent_has_a_tool_and_confidence_suffices() -> None:
    d = router().decide("vad är klockan", intent="time.now", confidence=0.97, intent_route="tool", has_tool=True)
    assert d.tier == "tool" and d.model is None and "no LLM call" in d.reasons[0]
    low = router().decide("klockan kanske", intent="time.now", confidence=0.3, intent_route="tool", has_tool=True)
    assert low.tier == "micro" and any("below tool confidence" in r for r in low.reasons)


@pytest.mark.parametrize("text, tier, reason", [
    ("sätt en timer på 5 minuter och säg vad klockan är", "planner", "multi-step"),
    ("tänd i köket och släck i hallen", "planner", "multi-step"),
    ("skriv ett mejl till Anna och säg att jag blir sen", "micro", "short"),
    ("Skriv en Python-funktion som vänder en sträng", "deep", "code"),
    ("Jämför för- och nackdelar med värmepump och bergvärme", "deep", "reasoning"),
    ("Varför är himlen blå?", "micro", "short"),
    ("berätta " + "mycket " * 50, "deep", "long request"),
])
def test_task_aware_tiers(text: str, tier: str, reason: str) -> None:
    d = router().decide(text, intent="info.query", confidence=0.9, intent_route="micro")
    assert d.tier == tier and any(reason in r for r in d.reasons), d.reasons


def test_long_context_and_long_conversations_go_deep() -> None:
    assert router().decide("och sen?", context_chars=10_000).tier == "deep"
    assert router().decide("och sen?", messages=30).tier == "deep"


def test_micro_quota_is_a_sliding_window_of_the_last_100_decisions() -> None:
    q = MicroQuota(0.6, window=100)
    for _ in range(60):
        assert q.allows_micro()
        q.record("micro")
    assert not q.allows_micro() and q.share() == 1.0
    for _ in range(39):
        q.record("deep")
    assert not q.allows_micro()  # a 61st micro among 100 decisions would exceed 60 %
    q.record("deep")  # the window is full: the next decision pushes the oldest micro out
    assert q.allows_micro()
    q.record("micro")
    assert q.share() == 0.6


def test_quota_overflow_goes_to_the_cheapest_tier_above_micro_by_profile_weight() -> None:
    r = router(micro_max_share=0.02, quota_window=100)
    tiers = [r.decide("hej hej").tier for _ in range(4)]
    assert tiers == ["micro", "micro", "planner", "planner"]
    assert r.weights == {"micro": 1, "planner": 2, "deep": 3}
    assert r.decide("hej", intent="greeting.hello", confidence=1.0, intent_route="tool").weight == 0


def test_micro_share_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MICRO_MAX_SHARE", "0.25")
    assert Router(RoutingSettings()).quota.max_share == 0.25
    monkeypatch.delenv("MICRO_MAX_SHARE")
    assert Router(RoutingSettings(), "standard").quota.max_share == 0.75  # the profile's default


def test_route_for_openai_uses_the_same_router_and_the_tier_models() -> None:
    r = router(tiers={"micro": "small", "planner": "chat", "deep": "big"})
    assert r.route_for_openai([{"role": "user", "content": "hej"}]) == "micro"
    assert r.model_for("micro") == "small"
    code = [{"role": "system", "content": "x"}, {"role": "user", "content": [{"type": "text",
                                                                           "text": "fix this bug in my code"}]}]
    assert r.route_for_openai(code) == "deep"
    assert r.route_for_openai([{"role": "user", "content": "hej"}], tools=[{"type": "function"}]) == "planner"
    d = r.decide_openai([{"role": "user", "content": "boka ett möte och sätt en timer"}])
    assert d.tier == "planner" and d.model == "chat" and d.as_dict()["task"]["actions"] == 2


def test_settings_are_validated() -> None:
    with pytest.raises(RoutingSettingsError, match="missing"):
        RoutingSettings.from_config({"tiers": {"micro": "chat"}})
    with pytest.raises(RoutingSettingsError, match="micro_max_share"):
        RoutingSettings.from_config({"micro_max_share": 2})
    assert RoutingSettings.from_config({}).tiers == {"micro": "chat", "planner": "chat", "deep": "chat"}


def test_split_actions() -> None:
    assert split_actions("vad är klockan och hur blir vädret") == ["vad är klockan", "hur blir vädret"]
    assert len(split_actions("boka ett möte med Anna och Erik")) == 1
