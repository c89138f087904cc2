"""Token reservation and reconciliation, and per-deployment budgets through the chain's skip."""

from __future__ import annotations

import pytest

from alice.api.errors import RateLimited
from alice.backends.deployment import Attempt
from alice.backends.errors import Throttled
from alice.backends.fallback import AllFailed, Chain
from alice.guard.keys import Principal
from alice.guard.limits import Limiter, estimate_reservation
from alice.guard.settings import Policy
from alice.state.windows import MemoryWindows
from tests.guard.conftest import make_turn

ACME = Principal(tenant="acme", key_id="k1", record=None)


def body(text="x" * 400, **kw):
    return {"model": "chat", "messages": [{"role": "user", "content": text}], **kw}


def test_reservation_is_prompt_estimate_plus_max_tokens():
    policy = Policy(default_completion_tokens=512)
    assert estimate_reservation(body(max_tokens=50), policy) == 100 + 50
    assert estimate_reservation(body(max_completion_tokens=70, max_tokens=50), policy) == 170
    assert estimate_reservation(body(), policy) == 100 + 512
    assert estimate_reservation(body(), Policy(max_tokens=64, default_completion_tokens=512)) == 164


async def test_reconcile_gives_back_what_the_call_did_not_use(clock):
    windows = MemoryWindows(clock=clock)
    limiter = Limiter(windows, window_s=60, deployment_rpm={})
    policy = Policy(tpm=1000, daily_tokens=10_000)
    first = make_turn(body(max_tokens=500))
    await limiter.admit(first, ACME, policy)  # books 600
    with pytest.raises(RateLimited) as err:
        await limiter.admit(make_turn(body(max_tokens=500)), ACME, policy)
    assert err.value.code == "rate_limit_tpm"
    first.usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    await limiter.after(first)
    assert windows.daily_used("acme") == 120
    await limiter.admit(make_turn(body(max_tokens=500)), ACME, policy)  # 120 + 600 <= 1000


@pytest.mark.parametrize("how", ["cache_hit", "replayed", "refused"])
async def test_answers_without_upstream_tokens_cost_nothing(clock, how):
    windows = MemoryWindows(clock=clock)
    limiter = Limiter(windows, window_s=60, deployment_rpm={})
    turn = make_turn(body(max_tokens=100))
    await limiter.admit(turn, ACME, Policy(daily_tokens=1000))
    assert windows.daily_used("acme") == 200
    if how == "cache_hit":
        turn.cache, turn.usage = "exact", {"total_tokens": 150}
    elif how == "replayed":
        turn.meta["guard"]["replayed"], turn.usage = True, {"total_tokens": 150}
    else:
        turn.status = 503
    await limiter.after(turn)
    assert windows.daily_used("acme") == 0


async def test_no_limits_means_no_store_work(clock):
    windows = MemoryWindows(clock=clock)
    limiter = Limiter(windows, window_s=60, deployment_rpm={})
    turn = make_turn()
    await limiter.admit(turn, ACME, Policy())
    assert "reservation" not in turn.meta.get("guard", {})


class Dep:
    def __init__(self, name):
        self.name, self.model, self.context_window = name, name, 4096


class Runner:
    def __init__(self, name):
        self.name = name
        self.deployment = Dep(name)


async def run_chain(chain, skip):
    calls = []

    async def call(runner):
        calls.append(runner.name)
        return runner.name

    _, got = await chain.run(call, [], skip)
    return got


async def test_gate_skips_saturated_deployments_in_order(clock):
    windows = MemoryWindows(clock=clock)
    limiter = Limiter(windows, window_s=60, deployment_rpm={"a": 2, "b": 1})
    chain = Chain("chat", [Runner("a"), Runner("b"), Runner("c")])
    served = []
    for _ in range(5):
        turn = make_turn()
        served.append(await run_chain(chain, await limiter.gate(turn, chain)))
    assert served == ["a", "a", "b", "c", "c"]  # c has no budget: it takes the overflow


async def test_gate_all_saturated_is_a_throttled_failure(clock):
    windows = MemoryWindows(clock=clock)
    limiter = Limiter(windows, window_s=60, deployment_rpm={"a": 1})
    chain = Chain("chat", [Runner("a")])
    await limiter.gate(make_turn(), chain)
    with pytest.raises(AllFailed) as err:
        await limiter.gate(make_turn(), chain)
    assert isinstance(err.value.last, Throttled) and err.value.last.retry_after == pytest.approx(60)


async def test_gate_not_needed_when_first_deployment_is_unbudgeted(clock):
    limiter = Limiter(MemoryWindows(clock=clock), window_s=60, deployment_rpm={"b": 1})
    assert await limiter.gate(make_turn(), Chain("chat", [Runner("a"), Runner("b")])) is None


async def test_deployment_accounting_after_the_call(clock):
    windows = MemoryWindows(clock=clock)
    limiter = Limiter(windows, window_s=60, deployment_rpm={"a": 10, "b": 10})
    chain = Chain("chat", [Runner("a"), Runner("b")])
    # Booked on a, which failed twice (a retry) and fell over to b: 2 calls on a, 1 on b.
    turn = make_turn()
    await limiter.gate(turn, chain)
    turn.attempts = [Attempt("a", "ServerError", 1.0, 500), Attempt("a", "ServerError", 1.0, 500),
                     Attempt("b", "ok", 1.0, 200)]
    await limiter.after(turn)
    assert windows.deployment_count("a", 60) == 2 and windows.deployment_count("b", 60) == 1
    # Booked on a but never called (its breaker was open): the booking is released.
    unused = make_turn()
    await limiter.gate(unused, chain)
    assert windows.deployment_count("a", 60) == 3
    await limiter.after(unused)
    assert windows.deployment_count("a", 60) == 2


class BrokenStore(MemoryWindows):
    async def admit(self, *a, **kw):
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Connection refused")


async def test_a_failing_state_store_is_an_explicit_503_not_a_500(clock):
    from alice.api.errors import Unavailable

    limiter = Limiter(BrokenStore(clock=clock), window_s=60, deployment_rpm={})
    with pytest.raises(Unavailable) as err:
        await limiter.admit(make_turn(), ACME, Policy(rpm=5))
    assert err.value.status == 503 and err.value.retry_after == 1.0 and err.value.code == "state_store_unavailable"
