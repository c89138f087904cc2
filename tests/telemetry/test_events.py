import asyncio
import time
import uuid

import orjson
import pytest
from aiohttp import web

from alice.telemetry.events import AmqpSink, Event, EventBus, RedisStreamSink, WebhookSink
from alice.telemetry.settings import AmqpSettings, RedisStreamSettings, WebhookSettings

from .conftest import AMQP_URL, reachable


class SlowSink:
    name = "slow"

    def __init__(self) -> None:
        self.got: list[Event] = []

    async def start(self) -> None: ...

    async def send(self, event: Event) -> None:
        await asyncio.sleep(0.2)
        self.got.append(event)

    async def close(self) -> None: ...


async def test_publish_never_waits_for_sinks_and_keeps_history(caplog: pytest.LogCaptureFixture) -> None:
    sink = SlowSink()
    seen: list[str] = []
    bus = EventBus([sink], on_publish=lambda e: seen.append(e.kind))
    await bus.start()
    t0 = time.perf_counter()
    with caplog.at_level("INFO", logger="alice.events"):
        for i in range(3):
            bus.publish("breaker.open", severity="warning", deployment=f"d{i}")
    assert time.perf_counter() - t0 < 0.05
    assert [e.fields["deployment"] for e in bus.recent] == ["d0", "d1", "d2"]
    assert seen == ["breaker.open"] * 3
    line = orjson.loads(caplog.records[0].getMessage())  # structured: one JSON object per event
    assert line["kind"] == "breaker.open" and line["deployment"] == "d0" and line["severity"] == "warning"
    assert await bus.drain(2.0)
    assert len(sink.got) == 3
    await bus.close()


async def test_full_queue_drops_instead_of_blocking() -> None:
    sink = SlowSink()
    bus = EventBus([sink], queue_size=2)
    for _ in range(5):
        bus.publish("x")  # not started: the queue fills and the rest are dropped
    assert bus.stats()["slow"]["queued"] == 2


async def test_webhook_retries_until_delivered(unused_tcp_port: int) -> None:
    calls: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        calls.append(await request.json())
        return web.Response(status=503 if len(calls) < 3 else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        sink = WebhookSink(WebhookSettings(url=f"http://127.0.0.1:{unused_tcp_port}/hook", retries=3, backoff_s=0.01))
        bus = EventBus([sink])
        await bus.start()
        bus.publish("slo.burn", severity="critical", objective="success")
        assert await bus.drain(5.0)
        assert len(calls) == 3 and calls[-1]["kind"] == "slo.burn" and calls[-1]["objective"] == "success"
        assert bus.stats()["webhook"] == {"sent": 1, "failed": 0, "queued": 0}
        calls.clear()
        sink.cfg = WebhookSettings(url=f"http://127.0.0.1:{unused_tcp_port}/nope", retries=2, backoff_s=0.01)
        bus.publish("x")
        assert await bus.drain(5.0)
        assert bus.stats()["webhook"]["failed"] == 1  # 404: not retried, given up
        await bus.close()
    finally:
        await runner.cleanup()


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
async def test_amqp_exchange_on_the_local_broker() -> None:
    if not reachable("127.0.0.1", 5672):
        pytest.skip("no RabbitMQ broker on 127.0.0.1:5672")
    import aio_pika

    exchange = f"alice.events.test-{uuid.uuid4().hex[:8]}"
    conn = await aio_pika.connect_robust(AMQP_URL)
    try:
        channel = await conn.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(ex, routing_key="breaker.#")
        bus = EventBus([AmqpSink(AmqpSettings(url=AMQP_URL, exchange=exchange))])
        await bus.start()
        bus.publish("breaker.open", severity="warning", deployment="d1", previous="closed")
        bus.publish("slo.burn", objective="latency")  # not bound: must not arrive
        bus.publish("breaker.closed", deployment="d1", previous="half_open")
        assert await bus.drain(10.0)
        got = []
        for _ in range(2):
            msg = await queue.get(timeout=5)
            await msg.ack()
            got.append((msg.routing_key, orjson.loads(msg.body)))
        assert [k for k, _ in got] == ["breaker.open", "breaker.closed"]
        assert got[0][1]["deployment"] == "d1" and got[0][1]["previous"] == "closed"
        assert await queue.get(timeout=1, fail=False) is None
        await bus.close()
        await ex.delete()
    finally:
        await conn.close()


@pytest.mark.integration
async def test_redis_stream(redis_server: str) -> None:
    import redis.asyncio as redis

    stream = f"alice:events:test-{uuid.uuid4().hex[:8]}"
    bus = EventBus([RedisStreamSink(RedisStreamSettings(stream=stream, maxlen=100), redis_server)])
    await bus.start()
    bus.publish("backend.down", severity="warning", deployment="d1")
    assert await bus.drain(5.0)
    r = redis.from_url(redis_server)
    entries = await r.xrange(stream)
    assert len(entries) == 1
    fields = entries[0][1]
    assert fields[b"kind"] == b"backend.down"
    assert orjson.loads(fields[b"data"])["deployment"] == "d1"
    await r.aclose()
    await bus.close()
