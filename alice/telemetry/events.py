"""Operational events: breaker open/close, backend down/up, brownout, SLO burn, budget exhaustion.

`EventBus.publish(kind, severity=…, **fields)` is synchronous and never blocks: it writes one
structured log line (logger `alice.events`, JSON), keeps the event in a short in-memory history
for the dashboard, and queues it for each configured sink. Every sink drains its own bounded
queue in its own task, so a slow webhook never delays the broker, and none of them the request
path. A full queue drops the event for that sink and logs it.

Sinks: an HTTP webhook (aiohttp POST, retried with backoff), a RabbitMQ topic exchange
(aio-pika, routing key = event kind) and a Redis stream (XADD, capped length).

Other areas publish through `gw.events` (e.g. the guard: `gw.events.publish("brownout.enter",
severity="warning", level=…)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from alice.telemetry.settings import AmqpSettings, RedisStreamSettings, WebhookSettings

__all__ = ["AmqpSink", "Event", "EventBus", "RedisStreamSink", "Sink", "WebhookSink"]

log = logging.getLogger("alice.events")

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # dotted: breaker.open, backend.down, brownout.enter, slo.burn, slo.budget_exhausted, …
    severity: str  # info | warning | critical
    time: float
    fields: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "severity": self.severity, "time": self.time, **self.fields}

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


class Sink(Protocol):
    name: str

    async def start(self) -> None: ...

    async def send(self, event: Event) -> None: ...

    async def close(self) -> None: ...


class _Outlet:
    """One sink with its queue and draining task."""

    def __init__(self, sink: Sink, size: int) -> None:
        self.sink = sink
        self.queue: asyncio.Queue[Event] = asyncio.Queue(size)
        self.task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    async def run(self) -> None:
        try:
            await self.sink.start()
        except Exception:
            log.exception("event sink %s could not start; its events will be retried per event", self.sink.name)
        while True:
            event = await self.queue.get()
            try:
                await self.sink.send(event)
                self.sent += 1
            except Exception as exc:
                self.failed += 1
                log.warning("event sink %s dropped %s %s: %s", self.sink.name, event.kind, event.id, exc)
            finally:
                self.queue.task_done()


class EventBus:
    def __init__(self, sinks: list[Sink] | None = None, *, queue_size: int = 1000, history: int = 200,
                 on_publish: Callable[[Event], None] | None = None) -> None:
        self._outlets = [_Outlet(s, queue_size) for s in sinks or []]
        self.recent: deque[Event] = deque(maxlen=history)
        self.on_publish = on_publish
        self._started = False

    @property
    def sinks(self) -> list[Sink]:
        return [o.sink for o in self._outlets]

    def publish(self, kind: str, *, severity: str = "info", **fields: Any) -> Event:
        event = Event(kind, severity if severity in _LEVELS else "info", time.time(), fields)
        self.recent.append(event)
        log.log(_LEVELS[event.severity], "%s", event.to_json().decode())
        if self.on_publish is not None:
            self.on_publish(event)
        for outlet in self._outlets:
            try:
                outlet.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.error("event sink %s is full; dropped %s %s", outlet.sink.name, event.kind, event.id)
        return event

    async def start(self) -> None:
        for outlet in self._outlets:
            outlet.task = asyncio.ensure_future(outlet.run())
        self._started = True

    async def drain(self, within_s: float) -> bool:
        """Wait until every queued event was handled (sent or given up); False on timeout."""
        try:
            async with asyncio.timeout(within_s):
                for outlet in self._outlets:
                    await outlet.queue.join()
        except TimeoutError:
            return False
        return True

    async def close(self, drain_s: float = 3.0) -> None:
        if self._started and not await self.drain(drain_s):
            log.warning("events: shutting down with undelivered events")
        for outlet in self._outlets:
            if outlet.task is not None:
                outlet.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await outlet.task
            with contextlib.suppress(Exception):
                await outlet.sink.close()

    def stats(self) -> dict[str, dict[str, int]]:
        return {o.sink.name: {"sent": o.sent, "failed": o.failed, "queued": o.queue.qsize()} for o in self._outlets}


class WebhookSink:
    """POST each event as JSON; retried with exponential backoff on errors and non-2xx answers."""

    name = "webhook"

    def __init__(self, cfg: WebhookSettings) -> None:
        self.cfg = cfg
        self._session: Any = None

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s),
                                              headers={"content-type": "application/json", **self.cfg.headers})

    async def send(self, event: Event) -> None:
        import aiohttp

        body = event.to_json()
        last: Exception | None = None
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                await asyncio.sleep(self.cfg.backoff_s * 2 ** (attempt - 1))
            try:
                async with self._session.post(self.cfg.url, data=body) as resp:
                    if resp.status < 300:
                        return
                    last = RuntimeError(f"webhook answered {resp.status}")
                    if 400 <= resp.status < 500 and resp.status not in (408, 429):
                        break  # the receiver refuses this event: retrying will not help
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = exc
        raise last or RuntimeError("webhook failed")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class AmqpSink:
    """Publish to a durable topic exchange; routing key = event kind (e.g. `breaker.open`).
    The connection is robust (aio-pika reconnects); a send while disconnected raises and the
    event is dropped after being logged."""

    name = "amqp"

    def __init__(self, cfg: AmqpSettings) -> None:
        self.cfg = cfg
        self._conn: Any = None
        self._exchange: Any = None

    async def start(self) -> None:
        await self._connect()

    async def _connect(self) -> None:
        import aio_pika

        self._conn = await aio_pika.connect_robust(self.cfg.url, timeout=5)
        channel = await self._conn.channel()
        self._exchange = await channel.declare_exchange(self.cfg.exchange, aio_pika.ExchangeType.TOPIC, durable=True)

    async def send(self, event: Event) -> None:
        import aio_pika

        if self._exchange is None:
            await self._connect()
        message = aio_pika.Message(event.to_json(), content_type="application/json", message_id=event.id,
                                   timestamp=int(event.time), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await self._exchange.publish(message, routing_key=event.kind)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()


class RedisStreamSink:
    """XADD each event to a capped stream (fields: kind, severity, data = the JSON event)."""

    name = "redis"

    def __init__(self, cfg: RedisStreamSettings, url: str) -> None:
        self.cfg = cfg
        self.url = url
        self._redis: Any = None

    async def start(self) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(self.url)

    async def send(self, event: Event) -> None:
        await self._redis.xadd(self.cfg.stream, {"kind": event.kind, "severity": event.severity,
                                                 "data": event.to_json()},
                               maxlen=self.cfg.maxlen, approximate=True)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
