"""CLI: `alice log tail|query|purge` and `alice report` (registered in alice/cli.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

__all__ = ["log_app", "report"]

T = TypeVar("T")

log_app = typer.Typer(help="The request log: tail, query, purge.", no_args_is_help=True)

ConfigPath = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file")]  # noqa: UP045
Json = Annotated[bool, typer.Option("--json", help="one JSON object per line")]


def _with_store(config: Path | None, fn: Callable[[Any], Awaitable[T]]) -> T:
    from alice.config import ConfigError, load_config
    from alice.telemetry.settings import parse_settings
    from alice.telemetry.wiring import make_store

    try:
        cfg = load_config(config)
        settings = parse_settings(cfg.telemetry)
        store = make_store(settings.log, Path(cfg.state.dir), cfg.state.postgres_dsn)
    except (ConfigError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    path = getattr(store, "path", None)
    if path is not None and not Path(path).exists():
        typer.echo(f"no request log at {path} (is state.dir right? pass -c CONFIG)", err=True)
        raise typer.Exit(1)

    async def run() -> T:
        await store.open()
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _line(r: dict[str, Any]) -> str:
    when = time.strftime("%H:%M:%S", time.localtime(r["ts"])) + f".{int(r['ts'] % 1 * 1000):03d}"
    return (f"{when} {r['id']} {r['status']} {r['route'] or '-'} {r['backend'] or '-'} cache={r['cache']} "
            f"{r['total_ms']:.1f}ms overhead={r['overhead_ms']:.3f}ms tenant={r['tenant']}"
            + (f" error={r['error']!r}" if r["error"] else ""))


def _emit(rows: list[dict[str, Any]], as_json: bool) -> None:
    import orjson

    for r in rows:
        typer.echo(orjson.dumps(r).decode() if as_json else _line(r))


@log_app.command("tail")
def log_tail(
    config: ConfigPath = None,
    lines: Annotated[int, typer.Option("--lines", "-n", help="how many recent requests to show first")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new requests")] = False,
    as_json: Json = False,
) -> None:
    """Show the latest requests, and with -f keep following the log."""

    async def tail(store: Any) -> None:
        last = await store.last_seq()
        rows = await store.tail(max(0, last - lines), lines)
        _emit(rows, as_json)
        last = rows[-1]["seq"] if rows else last
        while follow:
            await asyncio.sleep(0.5)
            rows = await store.tail(last, 1000)
            _emit(rows, as_json)
            if rows:
                last = rows[-1]["seq"]

    try:
        _with_store(config, tail)
    except KeyboardInterrupt:
        pass


@log_app.command("query")
def log_query(
    config: ConfigPath = None,
    status: Annotated[Optional[str], typer.Option(help="502, 5xx, error or ok")] = None,  # noqa: UP045
    route: Annotated[Optional[str], typer.Option(help="route (public model / tier)")] = None,  # noqa: UP045
    tenant: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    since: Annotated[Optional[str], typer.Option(help="90s, 15m, 2h, 7d or an epoch time")] = None,  # noqa: UP045
    limit: int = 50,
    as_json: Json = False,
) -> None:
    """Find requests by status, route, tenant and time (newest first)."""
    from alice.state.requestlog_store import Query, parse_since, parse_status

    try:
        q = Query(status=parse_status(status), route=route, tenant=tenant, since=parse_since(since), limit=limit)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None

    async def query(store: Any) -> list[dict[str, Any]]:
        return list(await store.query(q))

    _emit(_with_store(config, query), as_json)


@log_app.command("purge")
def log_purge(
    config: ConfigPath = None,
    days: Annotated[Optional[float], typer.Option(help="keep this many days (default: the retention setting)")] = None,  # noqa: UP045
) -> None:
    """Delete request-log rows (and feedback) older than the retention period."""
    from alice.config import load_config
    from alice.telemetry.settings import parse_settings

    keep = days if days is not None else parse_settings(load_config(config).telemetry).log.retention_days

    async def purge(store: Any) -> int:
        return int(await store.purge(time.time() - keep * 86400))

    typer.echo(f"purged {_with_store(config, purge)} rows older than {keep:g} days")


def report(
    config: ConfigPath = None,
    since: Annotated[str, typer.Option(help="request-log period: 90s, 15m, 2h, 7d")] = "1h",
    url: Annotated[Optional[str], typer.Option(help="also read a running Alice's monitoring API")] = None,  # noqa: UP045
    window: Annotated[int, typer.Option(help="live window for --url, seconds")] = 300,
    admin_key: Annotated[Optional[str], typer.Option(envvar="ALICE_ADMIN_KEY",  # noqa: UP045
                                                     help="admin key for --url (when keys are configured)")] = None,
    no_log: Annotated[bool, typer.Option("--no-log", help="skip the request log")] = False,
) -> None:
    """Terminal summary: request log (latency, errors, routes, tenants, feedback) and live figures."""
    from rich.console import Console

    from alice.state.requestlog_store import parse_since
    from alice.telemetry.report import fetch_api, render_api, render_log, summarise_log

    console = Console()
    if not no_log:
        start = parse_since(since)

        async def summarise(store: Any) -> dict[str, Any]:
            return await summarise_log(store, start)

        render_log(_with_store(config, summarise), console)
    if url:
        try:
            data = asyncio.run(fetch_api(url, window, admin_key))
        except Exception as exc:
            typer.echo(f"could not read {url}: {exc}", err=True)
            raise typer.Exit(1) from None
        render_api(data, console)
