"""`install(gw)`: plugs telemetry into the gateway (observer, in-flight stage, routes, tasks)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from alice.state.requestlog_store import RequestLogStore
from alice.telemetry.core import Telemetry
from alice.telemetry.multiproc import mark_dead
from alice.telemetry.settings import LogSettings, parse_settings

if TYPE_CHECKING:
    from alice.app import Gateway

__all__ = ["install", "make_store"]

log = logging.getLogger("alice.telemetry")


def make_store(cfg: LogSettings, state_dir: Path, postgres_dsn: str | None) -> RequestLogStore:
    if cfg.store == "postgres":
        dsn = cfg.postgres_dsn or postgres_dsn
        if not dsn:
            raise ValueError("telemetry.log.store is 'postgres' but neither telemetry.log.postgres_dsn "
                             "nor state.postgres_dsn is set")
        from alice.state.requestlog_postgres import PostgresRequestLog

        return PostgresRequestLog(dsn, cfg.table)
    from alice.state.requestlog_sqlite import SqliteRequestLog

    return SqliteRequestLog(Path(cfg.path) if cfg.path else state_dir / "requests.sqlite3", cfg.table)


def install(gw: Gateway) -> None:
    from alice.api import monitoring

    settings = parse_settings(gw.config.telemetry)
    if not settings.enabled:
        return
    store = make_store(settings.log, gw.state_dir, gw.config.state.postgres_dsn) if settings.log.enabled else None
    tel = Telemetry(gw, settings, store)
    if gw.config.server.workers > 1 and tel.metrics is not None and not tel.metrics.multiprocess:
        log.warning("server.workers > 1 but PROMETHEUS_MULTIPROC_DIR was not set before start: /metrics will "
                    "show only the worker that answers (see alice/telemetry/multiproc.py)")
    gw.telemetry = tel  # type: ignore[attr-defined]
    gw.events = tel.events  # type: ignore[attr-defined]  # other areas publish here
    # First stage, so that every request that enters the pipeline is counted in flight.
    gw.pipeline.stages.insert(0, tel)
    gw.pipeline.observers.append(tel)
    gw.routes.extend(monitoring.routes(tel))
    gw.on_start.append(tel.start)
    gw.on_close.append(tel.close)
    if tel.metrics is not None and tel.metrics.multiprocess:
        async def _mark_dead() -> None:
            mark_dead()

        gw.on_close.append(_mark_dead)
