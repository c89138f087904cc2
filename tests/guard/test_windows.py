"""Sliding windows, daily budgets and deployment budgets: the in-process adapter (fake clock)
and the Redis adapter (real redis-server, Lua), held to the same behaviour."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from alice.state.windows import MemoryWindows, day_number
from alice.state.windows_redis import RedisWindows


def rid() -> str:
    return uuid.uuid4().hex


async def admit(w, subject="k", **kw):
    args = {"window_s": 60.0, "rpm": None, "tpm": None, "tokens": 1, "daily_subject": None, "daily": None, **kw}
    return await w.admit(rid(), subject, **args)


# --- in-process ---------------------------------------------------------------------------------


async def test_rpm_admits_exactly_the_limit_then_slides(clock):
    w = MemoryWindows(clock=clock)
    results = [await admit(w, rpm=5) for _ in range(8)]
    assert [r.ok for r in results] == [True] * 5 + [False] * 3
    assert results[-1].reason == "rpm"
    assert results[-1].retry_after == pytest.approx(60.0)
    clock.advance(30)
    assert not (await admit(w, rpm=5)).ok
    clock.advance(30.001)  # the first five leave the window
    assert (await admit(w, rpm=5)).ok


async def test_rpm_retry_after_counts_from_the_oldest_entry(clock):
    w = MemoryWindows(clock=clock)
    assert (await admit(w, rpm=2)).ok
    clock.advance(20)
    assert (await admit(w, rpm=2)).ok
    clock.advance(5)
    refused = await admit(w, rpm=2)
    assert not refused.ok and refused.retry_after == pytest.approx(35.0)


async def test_subjects_are_independent(clock):
    w = MemoryWindows(clock=clock)
    assert (await admit(w, "a", rpm=1)).ok
    assert not (await admit(w, "a", rpm=1)).ok
    assert (await admit(w, "b", rpm=1)).ok


async def test_tpm_reservation_and_reconcile(clock):
    w = MemoryWindows(clock=clock)
    first = rid()
    v = await w.admit(first, "k", window_s=60, rpm=None, tpm=1000, tokens=600, daily_subject=None, daily=None)
    assert v.ok
    assert not (await admit(w, tpm=1000, tokens=600)).ok  # 600 + 600 > 1000
    await w.reconcile(first, "k", None, -500)  # the call used only 100
    assert (await admit(w, tpm=1000, tokens=600)).ok  # 100 + 600 <= 1000
    refused = await admit(w, tpm=1000, tokens=600)
    assert refused.reason == "tpm" and refused.retry_after == pytest.approx(60.0)


async def test_tpm_retry_after_waits_for_enough_tokens_to_leave(clock):
    w = MemoryWindows(clock=clock)
    assert (await admit(w, tpm=100, tokens=10)).ok
    clock.advance(10)
    assert (await admit(w, tpm=100, tokens=80)).ok
    clock.advance(10)
    refused = await admit(w, tpm=100, tokens=50)  # needs 40 freed: only when the 80 leaves (t=10+60)
    assert not refused.ok and refused.retry_after == pytest.approx(50.0)


async def test_refused_request_books_nothing(clock):
    w = MemoryWindows(clock=clock)
    assert (await admit(w, rpm=10, tpm=100, tokens=90)).ok
    assert not (await admit(w, rpm=10, tpm=100, tokens=20)).ok
    assert (await admit(w, rpm=10, tpm=100, tokens=10)).ok  # the refused 20 was not booked


async def test_daily_budget_per_tenant_and_rollover(clock):
    clock.now = 86400 * 20000 + 86000  # 400 s before midnight UTC
    w = MemoryWindows(clock=clock)
    assert (await admit(w, "key1", tokens=700, daily_subject="acme", daily=1000)).ok
    refused = await admit(w, "key2", tokens=400, daily_subject="acme", daily=1000)  # another key, same tenant
    assert refused.reason == "daily" and refused.retry_after == pytest.approx(400.0)
    assert (await admit(w, "key3", tokens=400, daily_subject="other", daily=1000)).ok
    clock.advance(401)
    assert (await admit(w, "key2", tokens=400, daily_subject="acme", daily=1000)).ok


async def test_daily_counters_survive_a_restart(tmp_path, clock):
    clock.now = 86400 * 20000 + 100
    w = MemoryWindows(tmp_path / "guard.sqlite3", clock=clock)
    await w.start()
    await admit(w, tokens=300, daily_subject="acme", daily=1000)
    await w.close()
    again = MemoryWindows(tmp_path / "guard.sqlite3", clock=clock)
    await again.start()
    assert again.daily_used("acme") == 300
    assert not (await admit(again, tokens=800, daily_subject="acme", daily=1000)).ok
    await again.close()


async def test_deployment_budget_takes_first_with_room_then_releases(clock):
    w = MemoryWindows(clock=clock)
    budgets = [("a", 2), ("b", 1)]
    picks = [(await w.take_deployment(rid(), budgets, 60))[0] for _ in range(3)]
    assert picks == [0, 0, 1]
    index, wait = await w.take_deployment(rid(), budgets, 60)
    assert index == -1 and wait == pytest.approx(60.0)
    booking = rid()
    clock.advance(61)
    assert (await w.take_deployment(booking, budgets, 60))[0] == 0
    await w.release_deployment(booking, "a")
    assert w.deployment_count("a", 60) == 0
    await w.record_deployment("a", 2, 60)
    assert w.deployment_count("a", 60) == 2


async def test_concurrent_admissions_never_overshoot(clock):
    w = MemoryWindows(clock=clock)
    results = await asyncio.gather(*(admit(w, rpm=100) for _ in range(300)))
    assert sum(r.ok for r in results) == 100


# --- Redis: the same rules, atomically in Lua ------------------------------------------------------


@pytest.mark.integration
async def test_redis_rpm_exact_under_concurrency(redis, prefix):
    w = RedisWindows(redis, prefix)
    results = await asyncio.gather(*(admit(w, rpm=100) for _ in range(250)))
    assert sum(r.ok for r in results) == 100
    refused = [r for r in results if not r.ok]
    assert {r.reason for r in refused} == {"rpm"}
    assert all(0 < r.retry_after <= 60 for r in refused)


@pytest.mark.integration
async def test_redis_window_slides(redis, prefix):
    w = RedisWindows(redis, prefix)
    assert [(await admit(w, rpm=2, window_s=0.4)).ok for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.45)
    assert (await admit(w, rpm=2, window_s=0.4)).ok


@pytest.mark.integration
async def test_redis_tpm_reserve_reconcile_and_expiry(redis, prefix):
    w = RedisWindows(redis, prefix)
    first = rid()
    assert (await w.admit(first, "k", window_s=0.5, rpm=None, tpm=1000, tokens=600, daily_subject=None,
                          daily=None)).ok
    assert not (await admit(w, tpm=1000, tokens=600, window_s=0.5)).ok
    await w.reconcile(first, "k", None, -500)
    assert (await admit(w, tpm=1000, tokens=600, window_s=0.5)).ok
    assert int(await redis.get(f"{prefix}rl:k:sum")) == 700
    await asyncio.sleep(0.55)
    assert (await admit(w, tpm=1000, tokens=900, window_s=0.5)).ok  # expired entries gave their tokens back
    assert int(await redis.get(f"{prefix}rl:k:sum")) == 900


@pytest.mark.integration
async def test_redis_daily_budget_and_reconcile(redis, prefix):
    w = RedisWindows(redis, prefix)
    booking = rid()
    assert (await w.admit(booking, "key1", window_s=60, rpm=None, tpm=None, tokens=800, daily_subject="acme",
                          daily=1000)).ok
    refused = await admit(w, "key2", tokens=300, daily_subject="acme", daily=1000)
    assert refused.reason == "daily" and 0 < refused.retry_after <= 86400
    await w.reconcile(booking, "key1", "acme", -200)
    assert int(await redis.get(f"{prefix}day:acme:{day_number()}")) == 600
    assert (await admit(w, "key2", tokens=300, daily_subject="acme", daily=1000)).ok


@pytest.mark.integration
async def test_redis_deployment_budgets(redis, prefix):
    w = RedisWindows(redis, prefix)
    budgets = [("a", 2), ("b", 1)]
    picks = await asyncio.gather(*(w.take_deployment(rid(), budgets, 60) for _ in range(5)))
    assert sorted(i for i, _ in picks) == [-1, -1, 0, 0, 1]
    booking = rid()
    await redis.delete(f"{prefix}dep:a")
    assert (await w.take_deployment(booking, budgets, 60))[0] == 0
    await w.release_deployment(booking, "a")
    assert await redis.zcard(f"{prefix}dep:a") == 0
    await w.record_deployment("a", 2, 60)
    assert await redis.zcard(f"{prefix}dep:a") == 2
