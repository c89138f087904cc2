"""E-mail drafts (SQLite) and sending through a configured SMTP server, after a "ja".

Creating a draft never sends anything. When an SMTP server is configured and the recipient is
an address, the draft's result carries a confirmation request ("Ska jag skicka det? (ja/nej)");
only the user's yes runs `email.send`, the one outward tool here.
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from alice.nlu.entities import EMAIL
from alice.tools._sqlite import SqliteDB
from alice.tools.base import Tool, ToolCall, ToolResult, ToolUnavailable, say

__all__ = ["EmailDraftTool", "EmailSendTool", "EmailStore", "SmtpSettings"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS email_drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    to_addr TEXT,
    to_name TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
"""


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = Field(587, ge=1, le=65535)
    sender: str
    username: str | None = None
    password_env: str | None = None  # the password is read from this environment variable
    starttls: bool = False
    use_ssl: bool = False
    timeout_s: float = 10.0


class EmailStore:
    def __init__(self, path: Path | str) -> None:
        self.db = SqliteDB(path, _SCHEMA)

    async def create(self, tenant: str, to_addr: str | None, to_name: str | None, subject: str, body: str
                     ) -> dict[str, Any]:
        did = await self.db.execute(
            "INSERT INTO email_drafts (tenant, to_addr, to_name, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (tenant, to_addr, to_name, subject, body, datetime.now(UTC).isoformat()))
        draft = await self.get(tenant, did)
        assert draft is not None
        return draft

    async def get(self, tenant: str, draft_id: int) -> dict[str, Any] | None:
        rows = await self.db.fetch("SELECT * FROM email_drafts WHERE tenant=? AND id=?", (tenant, draft_id))
        return rows[0] if rows else None

    async def mark_sent(self, tenant: str, draft_id: int) -> None:
        await self.db.execute("UPDATE email_drafts SET status='sent', sent_at=? WHERE tenant=? AND id=?",
                              (datetime.now(UTC).isoformat(), tenant, draft_id))

    def close(self) -> None:
        self.db.close()


_BODY = re.compile(
    r"\b(?:och\s+(?:säg|fråga|berätta|tacka)|att|om|angående|gällande|saying|that|about|and\s+(?:say|ask|tell|thank))"
    r"\s+(.+)$", re.I)
_SUBJECT = re.compile(r"\b(?:med\s+(?:rubriken|ämnet|ämne)|rubrik|ämne|with\s+(?:the\s+)?subject|subject)\s*:?\s+"
                      r"[\"']?([^\"',.]+)", re.I)
_RECIPIENT = re.compile(r"\b(?:till|to|mejla|maila|meila|email|mail)\s+(?:min\s+|my\s+)?([A-Za-zÅÄÖåäö][\w-]*)", re.I)
_NOT_RECIPIENT = frozenset({"mig", "me", "ett", "en", "a", "an", "mejl", "mail", "mejlet"})


def _body(text: str) -> str | None:
    t = EMAIL.sub(" ", text)
    m = _BODY.search(t)
    if not m:
        return None
    body = re.sub(r"^(?:att|that)\s+", "", m.group(1).strip(), flags=re.I).rstrip(".!?")
    return (body[:1].upper() + body[1:] + ".") if body else None


class EmailDraftTool(Tool):
    name: ClassVar[str] = "email.create_draft"
    description: ClassVar[str] = "Write an e-mail draft (never sends). args: {to (address or name), subject?, body}"
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "to": ("Vem ska mejlet till?", "Who should the e-mail go to?"),
        "body": ("Vad ska det stå i mejlet?", "What should the e-mail say?"),
    }
    free_text: ClassVar[frozenset[str]] = frozenset({"body"})

    def __init__(self, store: EmailStore, smtp: SmtpSettings | None) -> None:
        self.store = store
        self.smtp = smtp

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if slots.get("email"):
            args["to"] = slots["email"]
        elif slots.get("people"):
            args["to"] = slots["people"][0]
        else:
            m = _RECIPIENT.search(text)
            if m and m.group(1).lower() not in _NOT_RECIPIENT:
                args["to"] = m.group(1)
        sm = _SUBJECT.search(text)
        if sm:
            args["subject"] = sm.group(1).strip().capitalize()
        body = _body(text[: sm.start()] + text[sm.end():] if sm else text)
        if body:
            args["body"] = body
        return args

    async def run(self, call: ToolCall) -> ToolResult:
        to = str(call.args["to"]).strip()
        is_addr = bool(EMAIL.fullmatch(to))
        body = str(call.args["body"]).strip()
        subject = str(call.args.get("subject") or (body.split(".")[0][:60] or say(call.lang, "Hej", "Hello"))).strip()
        draft = await self.store.create(call.tenant, to if is_addr else None, None if is_addr else to, subject, body)
        data = {"draft": draft}
        text = say(call.lang, f"Jag har skrivit ett utkast till {to} med ämnet \"{subject}\": {body}",
                   f"I've written a draft to {to} with the subject \"{subject}\": {body}")
        if not is_addr:
            no_addr_sv = f" Jag har ingen e-postadress till {to}, så utkastet är sparat."
            return ToolResult(data, text + say(call.lang, no_addr_sv,
                                               f" I have no e-mail address for {to}, so the draft is saved."))
        if self.smtp is None:
            return ToolResult(data, text + say(call.lang, " Ingen e-postserver är inställd, så utkastet är sparat.",
                                               " No mail server is configured, so the draft is saved."))
        question = say(call.lang, "Ska jag skicka det? (ja/nej)", "Shall I send it? (yes/no)")
        return ToolResult(data, f"{text} {question}", confirm=("email.send", {"draft_id": draft["id"]}, question))


class EmailSendTool(Tool):
    name: ClassVar[str] = "email.send"
    description: ClassVar[str] = "Send a stored draft through SMTP (outward: needs the user's yes). args: {draft_id}"
    outward: ClassVar[bool] = True
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "draft_id": ("Vilket utkast ska jag skicka?", "Which draft should I send?"),
    }

    def __init__(self, store: EmailStore, smtp: SmtpSettings | None) -> None:
        self.store = store
        self.smtp = smtp

    def _send(self, msg: EmailMessage) -> None:
        s = self.smtp
        assert s is not None
        password = os.environ.get(s.password_env) if s.password_env else None
        cls = smtplib.SMTP_SSL if s.use_ssl else smtplib.SMTP
        with cls(s.host, s.port, timeout=s.timeout_s) as client:
            if s.starttls and not s.use_ssl:
                client.starttls(context=ssl.create_default_context())
            if s.username and password:
                client.login(s.username, password)
            client.send_message(msg)

    async def run(self, call: ToolCall) -> ToolResult:
        if self.smtp is None:
            raise ToolUnavailable("Ingen e-postserver är inställd, så jag kan inte skicka.",
                                  "No mail server is configured, so I can't send.")
        draft = await self.store.get(call.tenant, int(call.args["draft_id"]))
        if draft is None or not draft["to_addr"]:
            return ToolResult({"sent": False}, say(call.lang, "Jag hittar inget utkast att skicka.",
                                                   "I can't find a draft to send."))
        if draft["status"] == "sent":
            return ToolResult({"sent": False, "draft": draft}, say(call.lang, "Det mejlet är redan skickat.",
                                                                   "That e-mail has already been sent."))
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = draft["to_addr"]
        msg["Subject"] = draft["subject"]
        msg.set_content(draft["body"])
        try:
            await asyncio.to_thread(self._send, msg)
        except (OSError, smtplib.SMTPException) as exc:
            return ToolResult({"sent": False, "error": str(exc)},
                              say(call.lang, "Jag kunde inte skicka mejlet; utkastet finns kvar.",
                                  "I couldn't send the e-mail; the draft is kept."))
        await self.store.mark_sent(call.tenant, draft["id"])
        return ToolResult({"sent": True, "draft_id": draft["id"], "to": draft["to_addr"]},
                          say(call.lang, f"Mejlet till {draft['to_addr']} är skickat.",
                              f"The e-mail to {draft['to_addr']} has been sent."))
