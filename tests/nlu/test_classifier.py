import zlib
from pathlib import Path

import numpy as np
import orjson
import pytest

from alice.nlu._softmax import precise_from
from alice.nlu.classifier import ClassifierSettings, IntentClassifier
from alice.nlu.embed import CachingEmbedder
from alice.nlu.evaluate import evaluate, tool_precision
from alice.nlu.registry import load_registry

FIXTURES = Path(__file__).parent / "fixtures"


def _rows(name: str) -> list[tuple[str, str]]:
    return [(r["text"], r["intent"]) for r in map(orjson.loads, (FIXTURES / name).read_bytes().splitlines())]


def test_heldout_swedish_accuracy_tool_precision_and_oos_recall(classifier: IntentClassifier) -> None:
    rows = _rows("heldout_sv.jsonl")
    assert len(rows) >= 150
    result = evaluate(classifier, rows)
    assert result["accuracy"] >= 0.95, result["errors"]
    assert tool_precision(result, classifier.registry) >= 0.95
    assert result["oos_recall"] >= 0.8


def test_second_blind_swedish_set_and_english(classifier: IntentClassifier) -> None:
    assert evaluate(classifier, _rows("blind_sv.jsonl"))["accuracy"] >= 0.93
    assert evaluate(classifier, _rows("heldout_en.jsonl"))["accuracy"] >= 0.9


@pytest.mark.parametrize("text", [
    "vad är klockan", "Vad är klockan i Göteborg?", "hur mycket är klockan nu", "klockan?", "vad e klockan",
    "vilken tid är det", "what time is it", "vad är klockan ute", "säg tiden", "vad är klockan på Gotland",
])
def test_no_time_question_is_routed_to_weather(classifier: IntentClassifier, text: str) -> None:
    assert classifier.classify(text).intent == "time.now"


def test_weather_questions_that_mention_the_clock_stay_weather(classifier: IntentClassifier) -> None:
    assert classifier.classify("hur blir vädret klockan 15 imorgon").intent == "weather.lookup"


def test_confidence_is_a_probability_and_candidates_are_ranked(classifier: IntentClassifier) -> None:
    r = classifier.classify("sätt en timer på fem minuter")
    assert r.intent == "timer.start" and 0.5 < r.confidence <= 1.0
    confs = [c for _, c in r.candidates]
    assert confs == sorted(confs, reverse=True) and len(confs) == 3


def test_shared_embedding_is_used_instead_of_embedding_again(classifier: IntentClassifier) -> None:
    emb = classifier.embed("tänd i köket")
    assert emb.shape == (classifier.embedder.dim,)
    assert classifier.classify("tänd i köket", emb).intent == "home.lights"


class _CountingEmbedder:
    """A deterministic hashed bag of words: fast, and counts its calls."""

    name = "fake"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0  # not hash(): the same in every process
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out


def test_example_embeddings_are_cached_in_the_state_dir_and_reused(tmp_path: Path) -> None:
    reg = load_registry()
    settings = ClassifierSettings(folds=0, epochs=30)
    first = _CountingEmbedder()
    clf = IntentClassifier(reg, first, state_dir=tmp_path, settings=settings)
    assert first.calls == 0  # nothing happens at construction
    clf.prepare()
    assert first.calls > 0 and clf.cache_path() is not None and clf.cache_path().exists()
    second = _CountingEmbedder()
    again = IntentClassifier(reg, second, state_dir=tmp_path, settings=settings)
    again.prepare()
    assert second.calls == 0  # loaded from the file
    text = "starta en timer"
    assert again.classify(text).intent == clf.classify(text).intent


async def test_tie_break_hook_decides_low_confidence_turns_only(tmp_path: Path) -> None:
    calls: list[str] = []
    picked: list[str] = []

    async def tie_break(text, candidates):
        calls.append(text)
        picked.append(candidates[1][0])  # deliberately not the model's first choice
        return picked[-1]

    clf = IntentClassifier(load_registry(), _CountingEmbedder(), settings=ClassifierSettings(
        folds=0, epochs=30, tie_break_below=1.01, oos_threshold=0.0), tie_break=tie_break)
    r = await clf.aclassify("blablabla qwerty")
    assert calls == ["blablabla qwerty"] and r.intent == picked[0] and f"tie-break:{picked[0]}" in r.reasons
    off = IntentClassifier(load_registry(), _CountingEmbedder(), settings=ClassifierSettings(folds=0, epochs=30))
    assert off.tie_break is None


def test_precise_from_finds_the_lowest_confidence_with_enough_precision() -> None:
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 1, 0, 0], dtype=bool)
    assert precise_from(conf, correct, 1.0, min_support=2) == 0.8
    assert precise_from(conf, correct, 0.8, min_support=2) == 0.7  # 4 of 5 from 0.7 up
    assert precise_from(conf, np.zeros(6, dtype=bool), 0.5, min_support=1) > 1.0  # never right: never kept


class _NamedEmbedder(_CountingEmbedder):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def test_cascade_keeps_confident_fast_answers_and_embeds_the_rest_with_the_main_model(tmp_path: Path) -> None:
    main, fast = _NamedEmbedder("main"), _NamedEmbedder("fast")
    settings = ClassifierSettings(epochs=60, cascade_precision=0.95)
    clf = IntentClassifier(load_registry(), main, state_dir=tmp_path, settings=settings, fast=fast)
    clf.prepare()
    assert clf.fast is not None and clf.fast.accept_from <= 1.0 and len(clf.cache_paths()) == 2
    main_calls = main.calls
    kept = clf.classify("sätt en timer på fem minuter")  # an example itself: the fast model is sure
    assert kept.intent == "timer.start" and kept.reasons[0].startswith("cascade:fast:")
    assert main.calls == main_calls  # the main embedding was never computed
    unsure = clf.classify("qwerty asdf zxcv")
    assert not unsure.reasons[0].startswith("cascade:") and main.calls == main_calls + 1
    strict = IntentClassifier(load_registry(), main, settings=ClassifierSettings(epochs=60, cascade_precision=1.01),
                              fast=fast)
    assert strict.quick("sätt en timer på fem minuter") is None  # a precision no threshold reaches: always e5


def test_similarity_floor_is_fitted_from_the_none_examples_and_rejects_unlike_texts() -> None:
    settings = ClassifierSettings(epochs=60, oos_threshold=0.0, oos_recall_target=1.0, oos_max_in_scope_loss=0.5,
                                  oos_floor_min_gain=0.0)
    clf = IntentClassifier(load_registry(), _CountingEmbedder(), settings=settings)
    assert clf.similarity_floor > 0
    r = clf.classify("timer xylofon zebror kvantfysik banjo")  # one word of an intent, the rest unseen
    assert r.candidates[0][0] != "none"  # the model alone would have taken it
    assert r.out_of_scope and any(x.startswith("below-similarity-floor:") for x in r.reasons)
    assert clf.classify("sätt en timer på fem minuter").intent == "timer.start"  # an example: similarity 1
    for no_floor in (ClassifierSettings(epochs=60, oos_recall_target=0.0),  # the none class alone reaches it
                     ClassifierSettings(epochs=60, oos_recall_target=1.0, oos_floor_min_gain=1.0)):  # gain too small
        assert IntentClassifier(load_registry(), _CountingEmbedder(), settings=no_floor).similarity_floor == 0.0


@pytest.mark.parametrize("text", ["Berätta kort om Stockholm", "berätta om Malmö", "tell me about Uppsala"])
def test_requests_to_tell_about_a_place_are_info_queries(classifier: IntentClassifier, text: str) -> None:
    assert classifier.classify(text).intent == "info.query"


def test_caching_embedder_reuses_rows_of_repeated_texts() -> None:
    inner = _CountingEmbedder()
    cached = CachingEmbedder(inner, size=2)
    first = cached.embed(["tänd i köket", "släck i hallen"])
    again = cached.embed(["släck i hallen", "tänd i köket"])
    assert inner.calls == 1 and cached.hits == 2
    assert np.array_equal(again, first[::-1]) and again.shape == (2, inner.dim)
    cached.embed(["vad är klockan"])  # evicts the least recently used text ("släck i hallen")
    cached.embed(["släck i hallen"])
    assert inner.calls == 3
    off = CachingEmbedder(inner, size=0)
    off.embed(["tänd i köket"])
    off.embed(["tänd i köket"])
    assert inner.calls == 5 and off.hits == 0
