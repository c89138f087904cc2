import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from alice.tools.base import ToolCall, ToolUnavailable
from alice.tools.email import EmailDraftTool, EmailSendTool, EmailStore, SmtpSettings


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.mark.integration
async def test_draft_asks_for_confirmation_and_sends_through_smtp(tmp_path: Path, now, smtp_server) -> None:
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="alice@example.com")
    store = EmailStore(tmp_path / "mail.sqlite")
    draft_tool, send_tool = EmailDraftTool(store, smtp), EmailSendTool(store, smtp)
    args = draft_tool.args_from("skriv ett mejl till erik@example.com om att jag blir sen",
                                {"email": "erik@example.com"}, now=now, lang="sv")
    assert args == {"to": "erik@example.com", "body": "Jag blir sen."}
    draft = await draft_tool.run(ToolCall("a", args, now))
    assert draft.text.endswith("Ska jag skicka det? (ja/nej)")
    assert inbox.messages == []  # nothing leaves before the user says yes
    name, send_args, _question = draft.confirm
    assert name == "email.send" and send_tool.outward
    sent = await send_tool.run(ToolCall("a", send_args, now))
    assert sent.data["sent"] is True and sent.text == "Mejlet till erik@example.com är skickat."
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == "erik@example.com" and msg["Subject"] == "Jag blir sen" and "Jag blir sen." in msg.get_payload()
    again = await send_tool.run(ToolCall("a", send_args, now))
    assert again.data["sent"] is False and len(inbox.messages) == 1
    other = await send_tool.run(ToolCall("b", send_args, now))  # another tenant cannot send a's draft
    assert other.data["sent"] is False
    store.close()


async def test_without_smtp_the_draft_is_kept_and_sending_is_refused(tmp_path: Path, now) -> None:
    store = EmailStore(tmp_path / "mail.sqlite")
    draft = await EmailDraftTool(store, None).run(ToolCall("a", {"to": "Anna", "body": "Hej."}, now))
    assert draft.confirm is None and "ingen e-postadress till Anna" in draft.text
    with pytest.raises(ToolUnavailable):
        await EmailSendTool(store, None).run(ToolCall("a", {"draft_id": 1}, now))
    tool = EmailDraftTool(store, None)
    assert tool.missing({"to": "Anna"}) == ["body"] and tool.question("body", "sv") == "Vad ska det stå i mejlet?"
    store.close()
