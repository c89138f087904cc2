import pytest

from alice.nlu.settings import NluSettings, NluSettingsError


def test_the_cascade_is_on_by_default_and_can_be_switched_off() -> None:
    assert NluSettings.from_config({}).fast_embedder == "static"
    assert NluSettings.from_config({"fast_embedder": None}).fast_embedder is None
    with pytest.raises(NluSettingsError, match="fast_embedder"):
        NluSettings.from_config({"fast_embedder": "bert"})
