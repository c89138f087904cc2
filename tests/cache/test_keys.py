from alice.cache.keys import build_key
from alice.cache.text import normalize

BASE = {"model": "chat", "messages": [{"role": "system", "content": "Du är Alice."},
                                      {"role": "user", "content": "Vad är klockan?"}], "temperature": 0.2}


def key(body=None, ns="t1", route="chat", policy="none"):
    return build_key(body or BASE, ns, route, policy)


def test_key_is_stable_and_ignores_transport_fields():
    a = key()
    b = key({**BASE, "stream": True, "stream_options": {"include_usage": True}, "user": "u9", "metadata": {"x": 1}})
    assert a.exact == b.exact and a.partition == b.partition


def test_everything_that_shapes_the_answer_changes_the_key():
    a = key()
    variants = [
        key(ns="t2"),
        key(route="deep"),
        key({**BASE, "temperature": 0.3}),
        key({**BASE, "max_tokens": 10}),
        key({**BASE, "tools": [{"type": "function", "function": {"name": "f"}}]}),
        key({**BASE, "messages": [{"role": "system", "content": "Du är Bob."}, BASE["messages"][1]]}),
        key({**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "Hej"},
                                  {"role": "assistant", "content": "Hej!"}, BASE["messages"][1]]}),
    ]
    assert len({v.exact for v in variants} | {a.exact}) == len(variants) + 1
    # and all but a changed last message change the semantic partition too
    assert a.partition not in {v.partition for v in variants}


def test_partition_is_shared_by_different_last_questions():
    other = key({**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "Vilken dag är det?"}]})
    assert other.partition == key().partition and other.exact != key().exact


def test_normalisation_is_a_policy_per_surface():
    polite = {**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "Hej!  Kan du säga vad klockan är?"}]}
    plain = {**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "vad klockan är"}]}
    assert key(polite, policy="full").exact == key(plain, policy="full").exact
    assert key(polite, policy="none").exact != key(plain, policy="none").exact  # raw OpenAI surface: bytes decide
    assert key(polite, policy="none").query == "vad klockan är"  # the semantic text is always normalised


def test_multi_turn_tools_and_non_text_last_message():
    k = key({**BASE, "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                  {"role": "user", "content": "c"}]})
    assert k.multi_turn and not k.tools
    t = key({**BASE, "messages": [{"role": "user", "content": "a"},
                                  {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
                                  {"role": "tool", "content": "42", "tool_call_id": "1"}]})
    assert t.tools and t.query is None


def test_normalize_policies():
    assert normalize("Hej!  Snälla,   vad är  huvudstaden i Norge?", "full") == "vad är huvudstaden i norge"
    assert normalize("Can you tell me the time, please?", "full") == "the time"
    assert normalize("Ｈej  där", "unicode") == "Hej där"
    assert normalize("Hej!", "full") == "hej"  # politeness alone is the question
    assert normalize(" Exact  bytes ", "none") == " Exact  bytes "
