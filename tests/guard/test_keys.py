"""API keys: format, hashing, the stores (SQLite and Redis), the ring and the `alice keys` CLI."""

from __future__ import annotations

import re

import pytest
import yaml
from typer.testing import CliRunner

from alice.guard.keys import KeyRing, hash_key, new_key, parse_key
from alice.guard.keys_commands import keys_app
from alice.state.keys import KeyRecord, RedisKeyStore, SqliteKeyStore


def record_for(key: str, tenant: str = "acme", **kw) -> KeyRecord:
    key_id = parse_key(key)
    assert key_id is not None
    return KeyRecord(id=key_id, tenant=tenant, hash=hash_key(key), **kw)


def test_new_keys_are_unique_high_entropy_and_parse():
    keys = {new_key()[1] for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"alice_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key)
        assert parse_key(key) == key[6:18]


@pytest.mark.parametrize("bad", ["", "sk-123", "alice_", "alice_0123456789ab", "alice_0123456789abX", "x" * 80])
def test_malformed_keys_do_not_parse(bad):
    assert parse_key(bad) is None


def test_hash_is_sha256_hex_and_never_the_key():
    _, key = new_key()
    digest = hash_key(key)
    assert len(digest) == 64 and key not in digest
    assert hash_key(key) == digest and hash_key(key + "x") != digest


async def test_sqlite_store_create_load_revoke_and_version(tmp_path):
    store = SqliteKeyStore(tmp_path / "keys.sqlite3")
    assert await store.version() == 0 and await store.load() == []
    _, key = new_key()
    rec = record_for(key, rpm=10, models=["chat"])
    await store.create(rec)
    assert await store.version() == 1
    [loaded] = await store.load()
    assert loaded == rec and loaded.active
    assert await store.revoke(rec.id) is True
    assert await store.version() == 2
    assert (await store.load())[0].revoked is not None
    assert await store.revoke("nope") is False


@pytest.mark.integration
async def test_redis_store_create_load_revoke_and_version(redis, prefix):
    store = RedisKeyStore(redis, prefix)
    _, key = new_key()
    rec = record_for(key, tpm=500)
    await store.create(rec)
    with pytest.raises(ValueError):
        await store.create(rec)
    assert await store.version() == 1
    assert await store.load() == [rec]
    assert await store.revoke(rec.id)
    assert await store.version() == 2
    assert not (await store.load())[0].active


async def test_ring_verifies_only_active_exact_keys(tmp_path, monkeypatch):
    monkeypatch.delenv("ALICE_ADMIN_KEY", raising=False)
    store = SqliteKeyStore(tmp_path / "keys.sqlite3")
    _, key = new_key()
    rec = record_for(key)
    await store.create(rec)
    ring = KeyRing(store, admin_key_env="ALICE_ADMIN_KEY", refresh_s=60)
    await ring.reload(force=True)
    assert ring.verify(key) == rec
    assert ring.verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None  # right id, wrong secret
    assert ring.verify(new_key()[1]) is None
    assert ring.verify("not a key") is None
    await store.revoke(rec.id)
    await ring.reload()
    assert ring.verify(key) is None
    assert not ring.usable and not ring.empty  # a revoked key still counts: the gateway stays closed


async def test_ring_admin_key_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_ADMIN", "s3cret-admin-value")
    ring = KeyRing(SqliteKeyStore(tmp_path / "k.sqlite3"), admin_key_env="MY_ADMIN", refresh_s=60)
    await ring.reload(force=True)
    assert ring.usable and not ring.empty
    admin = ring.verify("s3cret-admin-value")
    assert admin is not None and admin.admin and admin.tenant == "admin"
    assert ring.verify("s3cret-admin-valuf") is None


async def test_ring_polls_for_new_keys(tmp_path, monkeypatch):
    monkeypatch.delenv("ALICE_ADMIN_KEY", raising=False)
    store = SqliteKeyStore(tmp_path / "keys.sqlite3")
    ring = KeyRing(store, admin_key_env="ALICE_ADMIN_KEY", refresh_s=0.05)
    await ring.start()
    try:
        _, key = new_key()
        await store.create(record_for(key))
        import asyncio

        for _ in range(40):
            if ring.verify(key) is not None:
                break
            await asyncio.sleep(0.025)
        assert ring.verify(key) is not None
    finally:
        await ring.close()


def test_cli_create_list_revoke(tmp_path):
    cfg = tmp_path / "alice.yaml"
    cfg.write_text(yaml.safe_dump({"state": {"dir": str(tmp_path / "state")}}))
    runner = CliRunner()
    created = runner.invoke(keys_app, ["create", "--tenant", "acme", "--rpm", "60", "--tpm", "1000",
                                       "--daily-tokens", "5000", "--models", "chat, auto", "-c", str(cfg)])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    key_id = parse_key(key)
    assert key_id is not None
    listed = runner.invoke(keys_app, ["list", "-c", str(cfg)])
    assert listed.exit_code == 0
    assert key_id in listed.stdout and "acme" in listed.stdout and "chat,auto" in listed.stdout
    assert key not in listed.stdout  # the key itself is never shown again
    assert key.split("_", 2)[2] not in (tmp_path / "state" / "keys.sqlite3").read_bytes().decode("latin-1")
    revoked = runner.invoke(keys_app, ["revoke", key_id, "-c", str(cfg)])
    assert revoked.exit_code == 0
    assert "no keys" in runner.invoke(keys_app, ["list", "-c", str(cfg)]).stdout
    assert key_id in runner.invoke(keys_app, ["list", "--all", "-c", str(cfg)]).stdout
    assert runner.invoke(keys_app, ["revoke", "000000000000", "-c", str(cfg)]).exit_code == 1


def test_cli_needs_a_tenant_unless_admin(tmp_path):
    cfg = tmp_path / "alice.yaml"
    cfg.write_text(yaml.safe_dump({"state": {"dir": str(tmp_path / "state")}}))
    runner = CliRunner()
    assert runner.invoke(keys_app, ["create", "-c", str(cfg)]).exit_code == 2
    admin = runner.invoke(keys_app, ["create", "--admin", "-c", str(cfg)])
    assert admin.exit_code == 0
    assert "yes" in runner.invoke(keys_app, ["list", "-c", str(cfg)]).stdout
