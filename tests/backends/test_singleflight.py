import asyncio

import pytest

from alice.backends.singleflight import SingleFlight


async def test_concurrent_calls_share_one_execution():
    sf = SingleFlight()
    calls = 0

    async def work():
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "answer"

    results = await asyncio.gather(*(sf.call("k", work) for _ in range(100)))
    assert calls == 1
    assert [r for r, _ in results] == ["answer"] * 100
    assert sum(shared for _, shared in results) == 99
    assert len(sf) == 0


async def test_one_caller_leaving_does_not_cancel_the_others():
    sf = SingleFlight()

    async def work():
        await asyncio.sleep(0.1)
        return 42

    first = asyncio.ensure_future(sf.call("k", work))
    second = asyncio.ensure_future(sf.call("k", work))
    await asyncio.sleep(0.01)
    first.cancel()
    assert (await second)[0] == 42


async def test_errors_reach_every_caller():
    sf = SingleFlight()

    async def work():
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    results = await asyncio.gather(*(sf.call("k", work) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)


async def test_broadcast_replays_from_the_start_to_late_joiners():
    sf = SingleFlight()
    started = 0

    async def produce(bc):
        nonlocal started
        started += 1
        for i in range(5):
            bc.publish(f"{i}".encode())
            await asyncio.sleep(0.01)
        bc.close()

    bc, shared = sf.stream("k", produce)
    assert not shared
    first = asyncio.ensure_future(_collect(SingleFlight.follow(bc)))
    await asyncio.sleep(0.025)
    bc2, shared2 = sf.stream("k", produce)
    assert shared2 and bc2 is bc
    late = await _collect(SingleFlight.follow(bc2))
    assert await first == late == [b"0", b"1", b"2", b"3", b"4"]
    assert started == 1


async def test_broadcast_error_before_first_frame_is_raised():
    sf = SingleFlight()

    async def produce(bc):
        bc.close(RuntimeError("upstream down"))

    bc, _ = sf.stream("k", produce)
    with pytest.raises(RuntimeError, match="upstream down"):
        await _collect(SingleFlight.follow(bc))


async def test_last_subscriber_leaving_cancels_the_producer():
    sf = SingleFlight()
    cancelled = asyncio.Event()

    async def produce(bc):
        try:
            bc.publish(b"x")
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    bc, _ = sf.stream("k", produce)
    it = SingleFlight.follow(bc)
    assert await anext(it) == b"x"
    await it.aclose()
    await asyncio.wait_for(cancelled.wait(), 1)


async def _collect(it):
    return [f async for f in it]
