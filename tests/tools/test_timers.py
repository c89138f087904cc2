import asyncio
from pathlib import Path

from alice.tools.base import ToolCall
from alice.tools.timers import TimerCancelTool, TimerService, TimerStartTool, TimerStatusTool


async def test_start_status_cancel_and_tenant_isolation(tmp_path: Path, now) -> None:
    svc = TimerService(tmp_path / "timers.sqlite")
    start, status, cancel = TimerStartTool(svc), TimerStatusTool(svc), TimerCancelTool(svc)
    args = start.args_from("sätt en timer på fem minuter för pastan", {"duration_s": 300}, now=now, lang="sv")
    assert args == {"duration_s": 300, "label": "pastan"}
    r = await start.run(ToolCall("a", args, now))
    assert r.text == "Timern för pastan är satt på 5 minuter."
    await start.run(ToolCall("a", {"duration_s": 600}, now))
    st = await status.run(ToolCall("a", {}, now))
    assert len(st.data["timers"]) == 2 and "2 timers" in st.text
    assert (await status.run(ToolCall("b", {}, now))).data["timers"] == []  # another tenant sees nothing
    c = await cancel.run(ToolCall("a", {"label": "pasta"}, now))
    assert c.text == "Jag har stoppat timern (pastan)."
    c = await cancel.run(ToolCall("a", {"all": True}, now))
    assert len(c.data["cancelled"]) == 1
    assert (await status.run(ToolCall("a", {}, now))).text == "Du har ingen timer igång."
    await svc.close()


async def test_due_timers_are_announced_on_the_event_queue(tmp_path: Path, now) -> None:
    svc = TimerService(tmp_path / "timers.sqlite")
    await svc.start()
    events = svc.subscribe()
    await svc.start_timer("a", 1, "teet")
    event = await asyncio.wait_for(events.get(), timeout=5)
    assert event.tenant == "a" and event.label == "teet" and event.text() == "Tiden är ute för teet!"
    assert await svc.running("a") == []
    await svc.close()


async def test_timers_survive_a_restart_and_overdue_ones_fire_at_start(tmp_path: Path) -> None:
    clock = [1000.0]
    path = tmp_path / "timers.sqlite"
    first = TimerService(path, clock=lambda: clock[0])
    await first.start_timer("a", 60, None)
    await first.start_timer("a", 3600, "ugnen")
    await first.close()
    clock[0] += 120  # the process was down for two minutes
    second = TimerService(path, clock=lambda: clock[0])
    events = second.subscribe()
    await second.start()
    fired = await asyncio.wait_for(events.get(), timeout=5)
    assert fired.duration_s == 60 and fired.text() == "Timern på 1 minut är klar!"
    left = await second.running("a")
    assert [r["label"] for r in left] == ["ugnen"] and left[0]["remaining_s"] == 3480
    await second.close()
