import orjson
import typer
from typer.testing import CliRunner

from alice.nlu.commands import eval_intents

# The command as `alice eval intents` registers it (alice/cli.py), without the rest of the CLI.
app = typer.Typer()
app.command()(eval_intents)


def test_eval_intents_prints_one_json_object(tmp_path, classifier) -> None:
    data = tmp_path / "d.jsonl"
    rows = [{"text": "vad är klockan nu", "intent": "time.now"}, {"text": "tänd i hallen", "intent": "home.lights"},
            {"text": "beställ en pizza", "intent": "none"}, {"text": "hur blir vädret i Lund", "intent": "weather.lookup"}]
    data.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    # the session classifier's cache directory: same registry, embedder and settings, so no rebuild
    result = CliRunner().invoke(app, ["--data", str(data), "--json",
                                      "--state-dir", str(classifier.state_dir)])
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.output)
    assert out["n"] == 4 and out["accuracy"] == 1.0 and out["oos_recall"] == 1.0
    assert set(out["per_intent"]["time.now"]) >= {"precision", "recall"}


def test_eval_intents_rejects_labels_outside_the_registry(tmp_path, classifier) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_bytes(orjson.dumps({"text": "spela musik", "intent": "music.play"}))
    result = CliRunner().invoke(app, ["--data", str(data), "--state-dir",
                                      str(classifier.state_dir)])
    assert result.exit_code != 0 and "music.play" in str(result.exception)
