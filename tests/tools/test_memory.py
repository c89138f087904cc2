from pathlib import Path

from alice.tools.base import ToolCall
from alice.tools.memory import MemoryQueryTool, MemoryStore, MemoryStoreTool

from .conftest import WordEmbedder


async def test_store_and_recall_by_meaning_and_words(tmp_path: Path, now) -> None:
    store = MemoryStore(tmp_path / "mem.sqlite", WordEmbedder())
    save, ask = MemoryStoreTool(store), MemoryQueryTool(store)
    for text in ["Kom ihåg att jag parkerade på plan tre", "spara att wifi-lösenordet är sommar2024",
                 "anteckna att Anna fyller år den 12 mars"]:
        args = save.args_from(text, {}, now=now, lang="sv")
        await save.run(ToolCall("a", args, now))
    assert save.args_from("kom ihåg att jag parkerade på plan tre", {}, now=now, lang="sv") == {
        "text": "jag parkerade på plan tre"}
    hit = await ask.run(ToolCall("a", ask.args_from("var parkerade jag?", {}, now=now, lang="sv"), now))
    assert hit.text == "Du bad mig komma ihåg: jag parkerade på plan tre."
    pw = await ask.run(ToolCall("a", {"query": "vad är wifi-lösenordet"}, now))
    assert pw.data["notes"][0]["text"] == "wifi-lösenordet är sommar2024"
    assert (await ask.run(ToolCall("b", {"query": "var parkerade jag"}, now))).data["notes"] == []
    listing = await ask.run(ToolCall("a", ask.args_from("visa mina anteckningar", {}, now=now, lang="sv"), now))
    assert len(listing.data["notes"]) == 3
    store.close()
