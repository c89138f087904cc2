"""The pipeline's write-back order: before-reply hooks run once, on the response path or after it."""

from __future__ import annotations

from alice.pipeline import Pipeline, Turn


class Hook:
    def __init__(self, fail: bool = False) -> None:
        self.seen: list[str] = []
        self.fail = fail

    async def after(self, turn: Turn) -> None:
        self.seen.append(turn.request_id)
        if self.fail:
            raise RuntimeError("store down")


def turn(rid: str = "r1") -> Turn:
    return Turn(request_id=rid, surface="openai", received=0.0)


async def test_settled_turns_do_not_run_before_reply_hooks_again():
    early, late = Hook(), Hook()
    p = Pipeline(after=[late], before_reply=[early])
    t = turn()
    await p.settle(t)
    assert early.seen == ["r1"] and late.seen == [] and t.settled
    await p.after(t)
    assert early.seen == ["r1"] and late.seen == ["r1"]


async def test_the_write_back_runs_before_reply_hooks_the_response_path_never_reached():
    early = Hook()
    p = Pipeline(before_reply=[early])
    t = turn()  # e.g. the client left mid-stream: `settle` was never awaited
    await p.after(t)
    assert early.seen == ["r1"] and t.settled


async def test_a_failing_before_reply_hook_is_logged_not_raised(caplog):
    broken, other = Hook(fail=True), Hook()
    p = Pipeline(before_reply=[broken, other])
    t = turn()
    await p.settle(t)
    assert broken.seen == other.seen == ["r1"] and t.settled
    assert "store down" in caplog.text
