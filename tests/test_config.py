from pathlib import Path

import pytest

from alice.config import ConfigError, load_config

ISSUE_SHAPE = """
profile: fibonacci            # or: standard
server: {host: 127.0.0.1, port: 8000}
deployments:
  - {name: primary, provider: openai, base_url: "http://127.0.0.1:9100/v1", model: "upstream-name", weight: 1.618, context_window: 8192}
  - {name: backup,  provider: openai, base_url: "http://127.0.0.1:9100/v1", model: "other-name",  api_key_env: BACKUP_KEY}
models:
  chat: [primary, backup]     # public model name -> ordered fallback chain of deployments
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "alice.yaml"
    p.write_text(text)
    return p


def test_issue_shape_loads(tmp_path):
    cfg = load_config(write(tmp_path, ISSUE_SHAPE), environ={})
    assert cfg.models == {"chat": ["primary", "backup"]}
    assert cfg.deployment("primary").weight == 1.618
    assert cfg.deployment("primary").context_window == 8192
    assert cfg.deployment("backup").api_key_env == "BACKUP_KEY"


def test_api_key_read_from_named_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKUP_KEY", "sk-test")
    cfg = load_config(write(tmp_path, ISSUE_SHAPE), environ={})
    assert cfg.deployment("backup").api_key == "sk-test"


def test_env_overrides_keep_types_and_ignore_unknown(tmp_path):
    env = {"ALICE_SERVER__PORT": "9001", "ALICE_PROFILE": "standard", "ALICE_DEPLOYMENTS__1__WEIGHT": "2.5",
           "ALICE_HOME": "/somewhere", "ALICE_NOT__A__KEY": "x"}
    cfg = load_config(write(tmp_path, ISSUE_SHAPE), environ=env)
    assert cfg.server.port == 9001
    assert cfg.profile == "standard"
    assert cfg.deployment("backup").weight == 2.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models: {chat: [ghost]}\n", "unknown deployment 'ghost'"),
        ("profile: golden\n", "unknown profile"),
        ("deployments: [{name: a, provider: openai, model: m}]\n", "needs base_url"),
        ("deployments: [{name: a, provider: openai, model: m, base_url: 'http://x', weight: -1}]\n", "deployments.0.weight"),
        ("server: {port: 70000}\n", "server.port"),
        ("surprise: 1\n", "surprise"),
        ("- just a list\n", "must be a mapping"),
        ("key: [unclosed\n", "not valid YAML"),
        ("server: {workers: 2}\n", "server.workers > 1 needs state.redis_url"),
    ],
)
def test_invalid_config_is_explained(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), environ={})
    assert message in str(err.value)


def test_default_config_uses_bundled_managed_model():
    cfg = load_config(None, environ={})
    (dep,) = cfg.deployments
    assert dep.provider == "managed" and dep.model == "bundled:smollm2-135m"
    assert cfg.models["chat"] == [dep.name]
