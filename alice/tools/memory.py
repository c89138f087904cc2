"""Notes the user asks the assistant to remember, recalled by meaning (embeddings) and by words.

Each note is stored in SQLite with its embedding. Recall scores every note of the tenant as
0.7 × cosine similarity + 0.3 × the share of the query's content words found in the note, so
"var parkerade jag" finds "jag parkerade på plan tre" even when the words differ a little, and
an exact word (a name, a code) still counts.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from alice.nlu._lexical import tokenize
from alice.nlu.embed import Embedder
from alice.tools._sqlite import SqliteDB
from alice.tools.base import Tool, ToolCall, ToolResult, say

__all__ = ["MemoryQueryTool", "MemoryStore", "MemoryStoreTool"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_tenant ON notes(tenant);
"""
_STOP = frozenset("""
jag du vad var när vem hur är det den att och i på om en ett till min mitt mina har hade ska skulle
som med för av kom ihåg spara sparade anteckna anteckning notera vet minns sa bad dig mig
what where when who how is the a an to of my i you did do remember note notes saved
""".split())
MIN_SCORE = 0.35


def _content_words(text: str) -> set[str]:
    return {w for w in tokenize(text) if w not in _STOP and len(w) > 1}


class MemoryStore:
    def __init__(self, path: Path | str, embedder: Embedder) -> None:
        self.db = SqliteDB(path, _SCHEMA)
        self.embedder = embedder

    async def add(self, tenant: str, text: str) -> dict[str, Any]:
        vec = (await asyncio.to_thread(self.embedder.embed, [text]))[0].astype(np.float32)
        nid = await self.db.execute("INSERT INTO notes (tenant, text, created_at, embedding) VALUES (?, ?, ?, ?)",
                                    (tenant, text, datetime.now(UTC).isoformat(), vec.tobytes()))
        return {"id": nid, "text": text}

    async def all(self, tenant: str) -> list[dict[str, Any]]:
        rows = await self.db.fetch("SELECT id, text, created_at FROM notes WHERE tenant=? ORDER BY id", (tenant,))
        return rows

    async def search(self, tenant: str, query: str, limit: int = 3) -> list[dict[str, Any]]:
        rows = await self.db.fetch("SELECT id, text, created_at, embedding FROM notes WHERE tenant=?", (tenant,))
        if not rows:
            return []
        q = (await asyncio.to_thread(self.embedder.embed, [query]))[0].astype(np.float32)
        mat = np.vstack([np.frombuffer(r["embedding"], dtype=np.float32) for r in rows])
        cos = mat @ q
        qwords = _content_words(query)
        scored = []
        for r, c in zip(rows, cos, strict=True):
            words = _content_words(r["text"])
            # prefix match, so "parkerade" meets "parkerat" and "lösenordet" meets "lösenord"
            overlap = sum(any(w[:5] == n[:5] for n in words) for w in qwords) / len(qwords) if qwords else 0.0
            score = 0.7 * float(c) + 0.3 * overlap
            scored.append({"id": r["id"], "text": r["text"], "created_at": r["created_at"], "score": round(score, 4)})
        scored.sort(key=lambda x: -x["score"])
        return [s for s in scored[:limit] if s["score"] >= MIN_SCORE]

    def close(self) -> None:
        self.db.close()


_NOTE = re.compile(
    r"^.*?\b(?:kom\s*ihåg|komihåg|spara(?:\s+en)?\s*(?:anteckning(?:en)?)?|anteckna|notera|skriv\s+(?:upp|ner)|"
    r"lägg\s+på\s+minnet|memorera|glöm\s+inte|gör\s+en\s+anteckning\s+om|lägg\s+till\s+i\s+mina\s+anteckningar|"
    r"remember|save\s+a\s+note|note|make\s+a\s+note|write\s+down|jot\s+down|keep\s+in\s+mind|store\s+a\s+note)"
    r"(?:\s*\b(?:att|that|det\s+här|this|den\s+här\s+idén|to)\b)?\s*:?\s*", re.I)


class MemoryStoreTool(Tool):
    name: ClassVar[str] = "memory.store"
    description: ClassVar[str] = "Remember a note. args: {text}"
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "text": ("Vad vill du att jag ska komma ihåg?", "What would you like me to remember?"),
    }
    free_text: ClassVar[frozenset[str]] = frozenset({"text"})

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        m = _NOTE.match(text.strip())
        note = text.strip()[m.end():].strip().rstrip(".!") if m else ""
        return {"text": note} if note else {}

    async def run(self, call: ToolCall) -> ToolResult:
        note = await self.store.add(call.tenant, str(call.args["text"]))
        return ToolResult({"note": note}, say(call.lang, f"Jag har sparat: \"{note['text']}\".",
                                              f"Saved: \"{note['text']}\"."))


class MemoryQueryTool(Tool):
    name: ClassVar[str] = "memory.query"
    description: ClassVar[str] = "Recall notes by meaning and words. args: {query, all?}"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {"query": text}
        if re.search(r"\b(visa|lista|alla|allt|show|list|everything|all)\b.*\b(anteckning\w*|notes?|ihåg|remember)\b",
                     text, re.I) or re.fullmatch(r"\s*(?:vad\s+har\s+(?:jag|du)\s+(?:antecknat|sparat).*)", text, re.I):
            args["all"] = True
        return args

    async def run(self, call: ToolCall) -> ToolResult:
        if call.args.get("all"):
            notes = await self.store.all(call.tenant)
            if not notes:
                return ToolResult({"notes": []}, say(call.lang, "Du har inga sparade anteckningar.",
                                                     "You have no saved notes."))
            listing = "; ".join(n["text"] for n in notes[-10:])
            return ToolResult({"notes": notes}, say(call.lang, f"Dina anteckningar: {listing}.",
                                                    f"Your notes: {listing}."))
        hits = await self.store.search(call.tenant, str(call.args.get("query", "")))
        if not hits:
            return ToolResult({"notes": []}, say(call.lang, "Jag hittar inget sådant bland dina anteckningar.",
                                                 "I can't find anything like that in your notes."))
        return ToolResult({"notes": hits}, say(call.lang, f"Du bad mig komma ihåg: {hits[0]['text']}.",
                                               f"You asked me to remember: {hits[0]['text']}."))
