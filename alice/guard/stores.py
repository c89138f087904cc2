"""Pick the guard's state adapters: embedded (in-process + SQLite under state.dir) by default,
shared (Redis) when `state.redis_url` is set. The gateway and the `alice keys` CLI use the same
choice, so a key created on the command line is the key the running replicas check."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from alice.api.errors import Unavailable
from alice.guard.settings import GuardSettings
from alice.state.idempotency import IdempotencyStore, MemoryIdempotency, RedisIdempotency
from alice.state.keys import KeyStore, RedisKeyStore, SqliteKeyStore
from alice.state.windows import MemoryWindows, WindowStore
from alice.state.windows_redis import RedisWindows

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from alice.config import Config

__all__ = ["GuardStores", "make_stores", "redis_client", "store_errors"]

log = logging.getLogger("alice.guard")


REDIS_CONNECTIONS = 64


def redis_client(url: str) -> Redis:
    """A client whose pool *waits* for a free connection: the default pool raises "Too many
    connections" once 100 requests are in flight at the same moment."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(url, max_connections=REDIS_CONNECTIONS, timeout=5,
                                           socket_connect_timeout=2, health_check_interval=30)
    return Redis.from_pool(pool)  # closing the client closes its pool


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """A state store that cannot answer fails the request closed and explicitly (503 + Retry-After):
    limits are never silently skipped, and the client is told to come back rather than given a 500."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        log.error("%s: the state store failed: %s", what, exc)
        raise Unavailable(f"{what} is unavailable for a moment (state store); retry shortly",
                          code="state_store_unavailable", retry_after=1.0) from None


@dataclass(slots=True)
class GuardStores:
    keys: KeyStore
    windows: WindowStore
    idempotency: IdempotencyStore
    redis: Redis | None = None

    @property
    def shared(self) -> bool:
        return self.redis is not None

    async def start(self) -> None:
        if self.redis is not None:
            try:
                await self.redis.ping()
            except Exception as exc:
                raise RuntimeError(f"the shared state store (state.redis_url) is not reachable: {exc}") from None
        await self.windows.start()

    async def close(self) -> None:
        await self.windows.close()
        await self.keys.close()
        if self.redis is not None:
            await self.redis.aclose()


def make_stores(config: Config, settings: GuardSettings) -> GuardStores:
    state_dir = Path(config.state.dir)
    if config.state.redis_url:
        redis = redis_client(config.state.redis_url)
        prefix = settings.redis_prefix
        return GuardStores(RedisKeyStore(redis, prefix), RedisWindows(redis, prefix),
                           RedisIdempotency(redis, prefix), redis)
    keys_path = Path(settings.keys_path) if settings.keys_path else state_dir / "keys.sqlite3"
    return GuardStores(SqliteKeyStore(keys_path), MemoryWindows(state_dir / "guard.sqlite3"),
                       MemoryIdempotency(settings.idempotency.max_records))
