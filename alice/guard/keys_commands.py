"""`alice keys create | list | revoke`: manage API keys in the same store the gateway reads
(SQLite under state.dir, or Redis when state.redis_url is set). Running gateways pick changes up
within guard.keys_refresh_s."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["create", "keys_app", "list_keys", "revoke"]

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)

ConfigPath = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file")]  # noqa: UP045
OptInt = Optional[int]  # noqa: UP045


def _stores(config: Path | None):  # type: ignore[no-untyped-def]
    from alice.config import ConfigError, load_config
    from alice.guard.settings import parse_settings
    from alice.guard.stores import make_stores

    try:
        cfg = load_config(config)
        return make_stores(cfg, parse_settings(cfg.guard))
    except (ConfigError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


async def _run(config: Path | None, op):  # type: ignore[no-untyped-def]
    stores = _stores(config)
    try:
        if stores.redis is not None:
            await stores.redis.ping()
        return await op(stores.keys)
    finally:
        if stores.redis is not None:
            await stores.redis.aclose()


@keys_app.command("create")
def create(
    tenant: Annotated[Optional[str], typer.Option(help="tenant the key belongs to")] = None,  # noqa: UP045
    rpm: Annotated[OptInt, typer.Option(min=1, help="requests per minute")] = None,
    tpm: Annotated[OptInt, typer.Option(min=1, help="tokens per minute")] = None,
    daily_tokens: Annotated[OptInt, typer.Option(min=1, help="tokens per day (tenant budget)")] = None,
    models: Annotated[Optional[str], typer.Option(help="allowed public models, comma-separated")] = None,  # noqa: UP045
    tools: Annotated[Optional[str], typer.Option(help="allowed tools, comma-separated")] = None,  # noqa: UP045
    admin: Annotated[bool, typer.Option("--admin", help="may call the admin endpoints")] = False,
    config: ConfigPath = None,
) -> None:
    """Create a key and print it. It is shown only this once; only its hash is stored."""
    from alice.guard.keys import hash_key, new_key
    from alice.state.keys import KeyRecord

    if tenant is None and not admin:
        typer.echo("--tenant is required (or --admin for an admin key)", err=True)
        raise typer.Exit(2)
    key_id, key = new_key()
    record = KeyRecord(id=key_id, tenant=tenant or "admin", hash=hash_key(key), admin=admin, rpm=rpm, tpm=tpm,
                       daily_tokens=daily_tokens, models=_names(models), tools=_names(tools))
    asyncio.run(_run(config, lambda store: store.create(record)))
    typer.echo(key)
    typer.echo(f"created key {key_id} for tenant {record.tenant}; store it now, it is not shown again", err=True)


@keys_app.command("list")
def list_keys(
    all_: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
    config: ConfigPath = None,
) -> None:
    """List keys (ids and limits, never the keys themselves)."""
    records = asyncio.run(_run(config, lambda store: store.load()))
    rows = [r for r in records if all_ or r.active]
    if not rows:
        typer.echo("no keys")
        return
    typer.echo(f"{'id':<13} {'tenant':<16} {'admin':<5} {'rpm':>6} {'tpm':>8} {'daily':>9}  {'models':<20} "
               f"{'created':<16} revoked")
    for r in rows:
        created = dt.datetime.fromtimestamp(r.created, dt.UTC).strftime("%Y-%m-%d %H:%M")
        revoked = dt.datetime.fromtimestamp(r.revoked, dt.UTC).strftime("%Y-%m-%d %H:%M") if r.revoked else "-"
        typer.echo(f"{r.id:<13} {r.tenant:<16} {'yes' if r.admin else 'no':<5} {r.rpm or '-':>6} {r.tpm or '-':>8} "
                   f"{r.daily_tokens or '-':>9}  {','.join(r.models) if r.models is not None else '*':<20} "
                   f"{created:<16} {revoked}")


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `alice keys list`)")],
    config: ConfigPath = None,
) -> None:
    """Revoke a key; running gateways refuse it within guard.keys_refresh_s."""
    if not asyncio.run(_run(config, lambda store: store.revoke(key_id))):
        typer.echo(f"no key with id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
