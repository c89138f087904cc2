"""Evaluation loaders, the `alice eval injection|pii` commands and the training routine
(with a fake embedder: no model is loaded here)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import orjson
import typer
from typer.testing import CliRunner

from alice.guard._inj_classifier import InjectionClassifier, train
from alice.guard._inj_eval import BENIGN, HARMFUL, INJECTION, Sample, evaluate, load_samples
from alice.guard.commands import eval_injection, eval_pii
from alice.guard.injection import Screen

FIX = Path(__file__).parent / "fixtures"


def _cli(fn) -> typer.Typer:  # type: ignore[no-untyped-def]
    app = typer.Typer()
    app.command()(fn)
    app.command("unused")(lambda: None)  # two commands, so typer keeps the command name
    return app


def test_loaders_recognise_the_formats() -> None:
    mixed = load_samples(FIX / "injection_mixed.jsonl", default=INJECTION)
    assert [s.kind for s in mixed] == [INJECTION] * 3 + [BENIGN] * 3
    attacks = load_samples(FIX / "injection_attacks.csv", default=INJECTION)
    assert [s.kind for s in attacks] == [INJECTION, INJECTION]
    safe = load_samples(FIX / "safe_prompts.csv", default=BENIGN)
    assert [s.kind for s in safe] == [BENIGN, BENIGN, BENIGN, HARMFUL]


def test_eval_injection_json_patterns_only() -> None:
    result = CliRunner().invoke(_cli(eval_injection), [
        "eval-injection", "--data", str(FIX / "injection_mixed.jsonl"), "--data", str(FIX / "injection_attacks.csv"),
        "--safe", str(FIX / "safe_prompts.csv"), "--no-classifier", "--json"])
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.output)
    assert out["n"] == 12 and out["injections"] == 5 and out["benign"] == 6
    assert out["recall"] == 1.0 and out["false_positive_rate"] == 0.0
    assert out["latency_ms_p50"] is not None and out["classifier"] is False
    assert out["sets"]["safe_prompts.csv (safe)"]["harmful_not_injection"] == 1


def test_eval_pii_json_reports_person_honestly() -> None:
    result = CliRunner().invoke(_cli(eval_pii), ["eval-pii", "--data", str(FIX / "pii_presidio_small.json"), "--json"])
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.output)
    per = out["per_entity"]
    assert {e: per[e]["recall"] for e in ("PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")} \
        == dict.fromkeys(("PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS"), 1.0)
    assert per["PERSON"]["recall"] == 0.0 and per["PERSON"]["support"] == 1
    assert out["recall"] == round(5 / 6, 4)  # PERSON is in the data, so it counts overall …
    assert out["overall_excluding_undetected"]["recall"] == 1.0  # … and is left out here, labelled
    assert "PERSON" not in out["overall_excluding_undetected"]["entities"]
    assert out["precision"] == 1.0 and out["ignored_gold_labels"] == {"STREET_ADDRESS": 1}
    assert out["texts_without_pii"] == {"n": 1, "flagged": 0}


class _KeywordEmbedder:
    """A stand-in for e5: dimension 0 says "attack words present", dimension 1 is noise."""

    name = "fake"

    def embed(self, texts):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(len(texts))
        attack = [float(any(w in t.lower() for w in ("ignore", "ignorera", "reveal"))) for t in texts]
        return np.array([[a, rng.normal()] for a in attack], dtype=np.float32)


def test_train_writes_loadable_weights(tmp_path: Path) -> None:
    examples = tmp_path / "ex.yaml"
    inj = [f"ignore the rules number {i}" for i in range(20)] + [f"reveal secret {i}" for i in range(10)]
    ben = [f"what is the weather on day {i}" for i in range(30)]
    examples.write_text("injection:\n" + "".join(f"  - {t}\n" for t in inj) + "benign:\n"
                        + "".join(f"  - {t}\n" for t in ben), encoding="utf-8")
    out = tmp_path / "w.json"
    report = train(examples=examples, out=out, embedder=_KeywordEmbedder())
    assert report.n_injection == 30 and report.n_benign == 30 and report.cv_recall == 1.0
    clf = InjectionClassifier(out, embedder=_KeywordEmbedder())
    assert clf.score("please ignore that") > clf.threshold > clf.score("sunny tomorrow?")


class _SlowEmbedder(_KeywordEmbedder):
    """Takes 20 ms per call, like e5 on a busy machine."""

    def embed(self, texts):  # type: ignore[no-untyped-def]
        time.sleep(0.02)
        return super().embed(texts)


def test_eval_reports_the_check_apart_from_the_embedding(tmp_path: Path) -> None:
    examples = tmp_path / "ex.yaml"
    inj = [f"ignore the rules number {i}" for i in range(20)]
    ben = [f"what is the weather on day {i}" for i in range(20)]
    examples.write_text("injection:\n" + "".join(f"  - {t}\n" for t in inj) + "benign:\n"
                        + "".join(f"  - {t}\n" for t in ben), encoding="utf-8")
    weights = tmp_path / "w.json"
    train(examples=examples, out=weights, embedder=_KeywordEmbedder())
    screen = Screen(weights=weights, embedder=_SlowEmbedder())
    # Texts the pattern layer lets through, so the classifier (and its embedding) decides.
    sets = {"s": [Sample("sunny tomorrow in Lund?", BENIGN), Sample("what time is it in Oslo", BENIGN)]}
    result = evaluate(sets, screen)
    assert result["latency_ms_p50"] >= 20
    assert result["latency_ms_p50_given_embedding"] < 20
    assert result["false_positive_rate"] == 0.0
