"""The default intent classifier, built once per test session (its cache file is shared with
tests/assistant through the same directory, so the second build only loads the file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alice.nlu.classifier import IntentClassifier
from alice.nlu.registry import load_registry


@pytest.fixture(scope="session")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> IntentClassifier:
    # ALICE_TEST_NLU_CACHE keeps the built model between runs while developing; CI builds it fresh.
    cache = Path(os.environ.get("ALICE_TEST_NLU_CACHE") or tmp_path_factory.getbasetemp() / "alice-nlu-cache")
    clf = IntentClassifier(load_registry(), "e5", state_dir=cache, fast="static")  # as served: the cascade
    clf.prepare()
    return clf
