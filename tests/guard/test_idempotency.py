"""Idempotency-Key: replay, 422 on a different body, 409 while in progress, tenant scoping, release
after errors — against the in-process store and against Redis (two "replicas")."""

from __future__ import annotations

import asyncio

import pytest

from alice.api.errors import BadRequest
from alice.guard.idempotency import Idempotency, IdempotencyConflict, IdempotencyInProgress
from alice.guard.settings import IdempotencySettings
from alice.state.idempotency import MemoryIdempotency, RedisIdempotency
from tests.guard.conftest import make_turn

ANSWER = {"id": "c1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant",
                                                                                           "content": "hej"}}]}


def body(text="hej"):
    return {"model": "chat", "messages": [{"role": "user", "content": text}]}


def turn_with(key, text="hej", tenant="acme"):
    t = make_turn(body(text), {"idempotency-key": key})
    t.tenant = tenant
    return t


def finished(turn, answer=ANSWER, status=200):
    turn.answer, turn.status, turn.complete = answer, status, status == 200
    return turn


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def stores(request, prefix):
    """Two stage instances sharing one store: two replicas of the gateway."""
    if request.param == "memory":
        store = MemoryIdempotency()
        yield store, store
        return
    from alice.guard.stores import redis_client

    url = request.getfixturevalue("redis_server")
    a, b = redis_client(url), redis_client(url)
    yield RedisIdempotency(a, prefix), RedisIdempotency(b, prefix)
    await a.aclose()
    await b.aclose()


def stage(store, **kw):
    return Idempotency(store, IdempotencySettings(**{"in_progress_wait_s": 0.1, **kw}))


async def test_same_key_same_body_is_replayed_across_replicas(stores):
    one, two = stage(stores[0]), stage(stores[1])
    first = turn_with("k-1")
    await one(first)
    assert first.answer is None  # the first request goes upstream
    await one.after(finished(first))
    retry = turn_with("k-1")
    await two(retry)
    assert retry.answer == ANSWER and retry.meta["guard"]["replayed"] is True


async def test_same_key_different_body_is_422(stores):
    one, two = stage(stores[0]), stage(stores[1])
    first = turn_with("k-2")
    await one(first)
    await one.after(finished(first))
    with pytest.raises(IdempotencyConflict) as err:
        await two(turn_with("k-2", text="something else"))
    assert err.value.status == 422


async def test_still_in_progress_is_409_after_the_wait(stores):
    one, two = stage(stores[0]), stage(stores[1], in_progress_wait_s=0.15)
    await one(turn_with("k-3"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(IdempotencyInProgress) as err:
        await two(turn_with("k-3"))
    assert err.value.status == 409
    assert loop.time() - started >= 0.15


async def test_a_waiting_duplicate_gets_the_answer_when_it_lands(stores):
    one, two = stage(stores[0]), stage(stores[1], in_progress_wait_s=2.0)
    first = turn_with("k-4")
    await one(first)

    async def finish_later():
        await asyncio.sleep(0.2)
        await one.after(finished(first))

    task = asyncio.ensure_future(finish_later())
    dup = turn_with("k-4")
    await two(dup)
    await task
    assert dup.answer == ANSWER


async def test_keys_are_scoped_by_tenant(stores):
    one = stage(stores[0])
    a = turn_with("shared", tenant="acme")
    await one(a)
    await one.after(finished(a))
    b = turn_with("shared", text="other body", tenant="globex")
    await one(b)  # no 422: another tenant's key space
    assert b.answer is None


async def test_failed_request_releases_the_key(stores):
    one, two = stage(stores[0]), stage(stores[1])
    first = turn_with("k-5")
    await one(first)
    await one.after(finished(first, answer=None, status=502))
    retry = turn_with("k-5")
    await two(retry)
    assert retry.answer is None and "idempotency" in retry.meta["guard"]  # runs for real this time


async def test_no_header_does_nothing(stores):
    t = make_turn()
    await stage(stores[0])(t)
    assert "guard" not in t.meta


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\nkey"])
async def test_invalid_keys_are_400(key):
    with pytest.raises(BadRequest):
        await stage(MemoryIdempotency())(turn_with(key))


async def test_memory_store_is_bounded_and_expires(clock):
    store = MemoryIdempotency(max_records=2, clock=clock)
    for k in ("a", "b", "c"):
        assert await store.begin(k, "fp", "o", lease_s=10) is None
    assert await store.get("a") is None and await store.get("c") is not None
    clock.advance(11)
    assert await store.get("c") is None  # the lease ran out: the owner is presumed dead



async def test_complete_answer_is_stored_even_if_the_client_left(stores):
    one, two = stage(stores[0]), stage(stores[1])
    first = turn_with("k-6")
    await one(first)
    first.answer, first.status, first.complete = ANSWER, 499, True  # upstream finished; the client had gone
    await one.after(first)
    retry = turn_with("k-6")
    await two(retry)
    assert retry.answer == ANSWER
