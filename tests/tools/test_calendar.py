from datetime import timedelta
from pathlib import Path

from alice.tools.base import ToolCall
from alice.tools.calendar import CalendarCreateTool, CalendarListTool, CalendarMoveTool, CalendarStore


async def test_create_conflict_move_list_and_ics(tmp_path: Path, now) -> None:
    store = CalendarStore(tmp_path / "cal.sqlite")
    create, move, listing = CalendarCreateTool(store), CalendarMoveTool(store), CalendarListTool(store)
    r = await create.run(ToolCall("a", {"date": "2026-11-29", "time": "14:00", "people": ["Anna"],
                                        "title_hint": "boka ett möte med Anna"}, now))
    assert r.text == "Jag har lagt in ett utkast i kalendern: Möte med Anna imorgon kl 14:00–15:00."
    assert r.data["event"]["status"] == "draft" and r.data["conflicts"] == []
    clash = await create.run(ToolCall("a", {"date": "2026-11-29", "time": "14:30", "title": "Tandläkaren"}, now))
    assert [c["title"] for c in clash.data["conflicts"]] == ["Möte med Anna"] and "krockar" in clash.text
    other_tenant = await create.run(ToolCall("b", {"date": "2026-11-29", "time": "14:00", "title": "X"}, now))
    assert other_tenant.data["conflicts"] == []

    args = move.args_from("flytta mötet med Anna till fredag kl 10", {"people": ["Anna"]}, now=now, lang="sv")
    assert args["new"] == {"date": "2026-12-04", "time": "10:00"}
    moved = await move.run(ToolCall("a", args, now))
    assert moved.data["event"]["start"].startswith("2026-12-04T10:00") and "fredag kl 10:00–11:00" in moved.text
    shift = move.args_from("skjut upp tandläkaren en timme", {"duration_s": 3600}, now=now, lang="sv")
    assert shift["new"] == {"shift_s": 3600}
    later = await move.run(ToolCall("a", shift, now))
    assert later.data["event"]["title"] == "Tandläkaren" and later.data["event"]["start"].startswith("2026-11-29T15:30")

    day = await listing.run(ToolCall("a", {"from": "2026-11-29", "to": "2026-11-29"}, now))
    assert day.text == "Imorgon har du 1 händelse: 15:30 Tandläkaren."
    nxt = await listing.run(ToolCall("a", {"people": ["Anna"]}, now))
    assert "Möte med Anna" in nxt.text
    empty = await listing.run(ToolCall("a", {"from": "2026-12-10", "to": "2026-12-10"}, now + timedelta(days=1)))
    assert empty.data["events"] == [] and empty.text.startswith("Du har inget inbokat")

    ics = await store.export_ics("a")
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.count("BEGIN:VEVENT") == 2
    assert "SUMMARY:Möte med Anna" in ics and "DTSTART:20261204T090000Z" in ics and "STATUS:TENTATIVE" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    store.close()


async def test_create_asks_with_whom_and_when_then_the_time(tmp_path: Path, now) -> None:
    tool = CalendarCreateTool(CalendarStore(tmp_path / "c.sqlite"))
    assert tool.missing({}) == ["people", "date", "time"]
    assert tool.question("people", "sv", ["people", "date", "time"]) == "Med vem och när?"
    assert tool.missing({"people": ["Anna"], "date": "2026-11-29"}, frozenset({"people"})) == ["time"]
    assert tool.question("time", "sv") == "Vilken tid?"
    assert tool.missing({"time": "14:00"}) == []  # a bare time means today or tomorrow
