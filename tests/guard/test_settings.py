"""The `guard:` config section: defaults, clear errors, and the served OpenAPI document."""

from __future__ import annotations

import pytest
import schemathesis

from alice.api.openapi import build_spec
from alice.guard.settings import parse_settings


def test_defaults():
    s = parse_settings({})
    assert s.window_s == 60 and s.open_on_loopback and s.admin_key_env == "ALICE_ADMIN_KEY"
    assert s.defaults.max_messages == 256 and s.defaults.injection == "flag"
    assert s.guardian.enabled and s.guardian.signals.machine_cpu is None
    assert s.idempotency.in_progress_wait_s == 1.0


@pytest.mark.parametrize(("raw", "where"), [
    ({"window_s": 0}, "guard.window_s"),
    ({"tenants": {"acme": {"rpm": -1}}}, "guard.tenants.acme.rpm"),
    ({"tenants": {"acme": {"injection": "maybe"}}}, "guard.tenants.acme.injection"),
    ({"guardian": {"signals": {"cpu": 1}}}, "guard.guardian.signals.cpu"),
    ({"surprise": True}, "guard.surprise"),
])
def test_bad_values_name_their_path(raw, where):
    with pytest.raises(ValueError, match="invalid guard configuration") as err:
        parse_settings(raw)
    assert where in str(err.value)


def test_tenant_policy_falls_back_to_defaults():
    s = parse_settings({"defaults": {"rpm": 60}, "tenants": {"acme": {"tpm": 1000}}})
    acme, other = s.policy_for("acme"), s.policy_for("other")
    assert (acme.rpm, acme.tpm, acme.max_messages) == (60, 1000, 256)
    assert (other.rpm, other.tpm) == (60, None)


def test_openapi_document_is_valid_and_lists_the_models():
    spec = build_spec(["chat", "auto"])
    assert {"/v1/chat/completions", "/v1/models", "/health", "/ready", "/api/chat", "/api/guardian/state",
            "/openapi.json"} <= set(spec["paths"])
    assert spec["components"]["schemas"]["ChatCompletionRequest"]["properties"]["model"]["enum"] == ["chat", "auto"]
    loaded = schemathesis.openapi.from_dict(spec)
    labels = {result.ok().label for result in loaded.get_all_operations()}
    assert "POST /v1/chat/completions" in labels and "GET /api/guardian/state" in labels
