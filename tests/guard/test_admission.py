"""The Admit stage: auth (401/403, open mode, start-up refusal), request caps, limits, policies."""

from __future__ import annotations

import pytest

from alice.api.errors import BadRequest, Forbidden, PayloadTooLarge, RateLimited, Unauthorized, Unavailable
from alice.guard.admission import Admit
from alice.guard.auth import Authenticator, GuardStartupError, is_loopback
from alice.guard.brownout import Guardian, GuardianState
from alice.guard.keys import KeyRing, hash_key, new_key, parse_key
from alice.guard.limits import Limiter
from alice.guard.settings import parse_settings
from alice.profiles import get_profile
from alice.state.keys import KeyRecord, SqliteKeyStore
from alice.state.windows import MemoryWindows
from tests.guard.conftest import make_turn


@pytest.fixture(autouse=True)
def _no_admin_env(monkeypatch):
    monkeypatch.delenv("ALICE_ADMIN_KEY", raising=False)


async def build(tmp_path, guard_cfg=None, host="127.0.0.1", keys=()):
    settings = parse_settings(guard_cfg or {})
    store = SqliteKeyStore(tmp_path / "keys.sqlite3")
    made = []
    for fields in keys:
        _, key = new_key()
        await store.create(KeyRecord(id=parse_key(key), hash=hash_key(key), **fields))
        made.append(key)
    ring = KeyRing(store, admin_key_env=settings.admin_key_env, refresh_s=60)
    await ring.reload(force=True)
    auth = Authenticator(ring, host=host, open_on_loopback=settings.open_on_loopback)
    limiter = Limiter(MemoryWindows(), window_s=settings.window_s, deployment_rpm={})
    guardian = Guardian(settings.guardian, get_profile("fibonacci"))
    return Admit(auth, limiter, guardian, settings), made


def bearer(key):
    return {"authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("10.0.0.5", False),
                                            ("example.org", False), ("[::1]", True)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


async def test_open_on_loopback_without_keys(tmp_path):
    admit, _ = await build(tmp_path)
    admit.auth.check_startup()
    turn = make_turn()
    await admit(turn)
    assert turn.tenant == "default" and turn.key_id is None
    stray = make_turn(headers=bearer("sk-not-a-real-key"))  # e.g. the OpenAI client's placeholder
    await admit(stray)
    assert stray.tenant == "default"


async def test_refuses_to_start_on_a_public_bind_without_keys(tmp_path):
    admit, _ = await build(tmp_path, host="0.0.0.0")
    with pytest.raises(GuardStartupError, match="alice keys create"):
        admit.auth.check_startup()


async def test_public_bind_with_keys_starts_and_requires_them(tmp_path):
    admit, [key] = await build(tmp_path, host="0.0.0.0", keys=[{"tenant": "acme"}])
    admit.auth.check_startup()
    with pytest.raises(Unauthorized, match="missing API key"):
        await admit(make_turn())
    turn = make_turn(headers=bearer(key))
    await admit(turn)
    assert turn.tenant == "acme" and turn.key_id == parse_key(key)


async def test_loopback_closed_when_open_mode_is_off(tmp_path):
    admit, _ = await build(tmp_path, {"open_on_loopback": False})
    admit.auth.check_startup()  # starts (with a warning) …
    with pytest.raises(Unauthorized):
        await admit(make_turn())  # … but nobody gets in


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "bearer alice_000000000000_x", "Token x",
                                    "Bearer " + "a" * 5000, "Bearer alice_\x00\x01"])
async def test_bad_authorization_headers_are_401(tmp_path, header):
    admit, _ = await build(tmp_path, keys=[{"tenant": "acme"}])
    with pytest.raises(Unauthorized) as err:
        await admit(make_turn(headers={"authorization": header}))
    assert err.value.status == 401


async def test_scheme_is_case_insensitive(tmp_path):
    admit, [key] = await build(tmp_path, keys=[{"tenant": "acme"}])
    await admit(make_turn(headers={"authorization": f"bearer   {key}  "}))


async def test_model_not_allowed_is_403(tmp_path):
    admit, [key] = await build(tmp_path, keys=[{"tenant": "acme", "models": ["chat"]}])
    await admit(make_turn(headers=bearer(key)))
    with pytest.raises(Forbidden) as err:
        await admit(make_turn({"model": "deep", "messages": [{"role": "user", "content": "x"}]}, bearer(key)))
    assert err.value.status == 403 and err.value.code == "model_not_allowed"


async def test_admin_endpoint_needs_admin_key(tmp_path):
    admit, [user, admin] = await build(tmp_path, keys=[{"tenant": "acme"}, {"tenant": "ops", "admin": True}])
    with pytest.raises(Forbidden):
        admit.auth.require_admin(bearer(user))
    with pytest.raises(Unauthorized):
        admit.auth.require_admin({})
    assert admit.auth.require_admin(bearer(admin)).admin


async def test_policy_layers_key_over_tenant_over_defaults(tmp_path):
    cfg = {"defaults": {"rpm": 100, "max_messages": 10},
           "tenants": {"acme": {"rpm": 50, "tpm": 9000, "max_tokens": 300}}}
    admit, [key] = await build(tmp_path, cfg, keys=[{"tenant": "acme", "rpm": 7}])
    turn = make_turn(headers=bearer(key))
    await admit(turn)
    policy = admit.policy(admit.auth.authenticate(bearer(key)))
    assert (policy.rpm, policy.tpm, policy.max_tokens, policy.max_messages) == (7, 9000, 300, 10)
    assert policy.default_completion_tokens == 512  # built-in default


async def test_caps_messages_and_max_tokens(tmp_path):
    admit, _ = await build(tmp_path, {"defaults": {"max_messages": 3, "max_tokens": 100}})
    many = {"model": "chat", "messages": [{"role": "user", "content": "x"}] * 4}
    with pytest.raises(PayloadTooLarge) as err:
        await admit(make_turn(many))
    assert err.value.status == 413 and err.value.param == "messages"
    for name in ("max_tokens", "max_completion_tokens"):
        with pytest.raises(BadRequest) as err:
            await admit(make_turn({"model": "chat", "messages": [{"role": "user", "content": "x"}], name: 101}))
        assert err.value.param == name
    await admit(make_turn({"model": "chat", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100}))


async def test_rpm_limit_gives_429_with_retry_after(tmp_path):
    admit, [key] = await build(tmp_path, keys=[{"tenant": "acme", "rpm": 2}])
    for _ in range(2):
        await admit(make_turn(headers=bearer(key)))
    with pytest.raises(RateLimited) as err:
        await admit(make_turn(headers=bearer(key)))
    assert err.value.status == 429 and err.value.code == "rate_limit_rpm"
    assert dict(err.value.headers())[b"retry-after"] == b"60"


async def test_request_larger_than_the_token_limit_is_400_not_429(tmp_path):
    admit, [key] = await build(tmp_path, keys=[{"tenant": "acme", "tpm": 100}])
    body = {"model": "chat", "messages": [{"role": "user", "content": "x"}], "max_tokens": 500}
    with pytest.raises(BadRequest) as err:
        await admit(make_turn(body, bearer(key)))
    assert err.value.code == "tokens_exceed_limit"


async def test_emergency_sheds_with_503_and_brownout_caps_tokens(tmp_path):
    admit, _ = await build(tmp_path, {"guardian": {"brownout_max_tokens": 64}})
    admit.guardian.state = GuardianState.EMERGENCY
    with pytest.raises(Unavailable) as err:
        await admit(make_turn())
    assert err.value.status == 503 and err.value.retry_after == 5.0
    admit.guardian.state = GuardianState.BROWNOUT
    turn = make_turn({"model": "chat", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1000})
    await admit(turn)
    assert turn.body["max_tokens"] == 64
    assert turn.meta["guardian"] == {"state": "brownout", "degrade": True, "max_tokens": 64}
    assert admit.guardian.in_flight == 1
    admit.guardian.observe(turn)
    admit.guardian.observe(turn)  # observing twice never double-counts
    assert admit.guardian.in_flight == 0
