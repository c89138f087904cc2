"""PII policy per destination: redacted bodies for cloud deployments, replies put back (whole and
streamed), and the cache's screen."""

from __future__ import annotations

import copy

import orjson
import pytest

from alice.app import Gateway
from alice.backends.base import Chunk, Completion
from alice.config import Config, Deployment
from alice.guard.pii import PiiDetector, Redactor
from alice.guard.redaction import Redacted, carries_pii, redact_body
from tests.guard.conftest import make_turn

PNR, MAIL, PHONE = "19900101-0017", "anna.svensson@example.se", "070-123 45 67"
TEXT = f"Jag heter Anna, personnummer {PNR}, mejl {MAIL}, ring {PHONE}."


def body_with_pii() -> dict:
    return {"model": "chat", "temperature": 0.2, "messages": [
        {"role": "system", "content": "Du är Alice."},
        {"role": "user", "content": [{"type": "text", "text": f"Mitt nummer: {PHONE}"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "email", "arguments": f'{{"to": "{MAIL}"}}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "skickat"},
        {"role": "user", "content": TEXT},
    ]}


def test_every_text_of_the_body_is_redacted_and_the_clients_body_is_untouched():
    body = body_with_pii()
    before = copy.deepcopy(body)
    redactor = Redactor()
    out = redact_body(body, redactor)
    assert body == before
    raw = orjson.dumps(out).decode()
    assert PNR not in raw and MAIL not in raw and PHONE not in raw
    assert out["messages"][-1]["content"] == ("Jag heter Anna, personnummer <SE_PERSONNUMMER_1>, mejl "
                                             "<EMAIL_ADDRESS_1>, ring <PHONE_NUMBER_1>.")
    # the same value gets the same placeholder everywhere in the request
    assert out["messages"][1]["content"][0]["text"] == "Mitt nummer: <PHONE_NUMBER_1>"
    assert out["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"to": "<EMAIL_ADDRESS_1>"}'
    assert out["temperature"] == 0.2 and out["messages"][0] == before["messages"][0]
    assert redactor.counts == {"PHONE_NUMBER": 1, "EMAIL_ADDRESS": 1, "SE_PERSONNUMMER": 1}


def test_a_body_without_pii_is_not_copied():
    assert redact_body({"model": "chat", "messages": [{"role": "user", "content": "Vad är klockan?"}]},
                       Redactor()) is None


def test_whole_reply_is_restored_in_content_and_tool_arguments():
    redactor = Redactor()
    redacted = Redacted(redact_body(body_with_pii(), redactor), redactor.mapping)
    data = {"id": "x", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "Jag ringer <PHONE_NUMBER_1> och skriver till <EMAIL_ADDRESS_1>.",
        "tool_calls": [{"id": "c2", "type": "function",
                        "function": {"name": "sms", "arguments": '{"to": "<PHONE_NUMBER_1>"}'}}]}}]}
    out = redacted.completion(Completion(orjson.dumps(data), data))
    message = orjson.loads(out.raw)["choices"][0]["message"]
    assert message["content"] == f"Jag ringer {PHONE} och skriver till {MAIL}."
    assert message["tool_calls"][0]["function"]["arguments"] == f'{{"to": "{PHONE}"}}'
    assert out.data["choices"][0]["message"] == message


def test_a_reply_without_placeholders_keeps_its_bytes():
    redactor = Redactor()
    redacted = Redacted(redact_body(body_with_pii(), redactor), redactor.mapping)
    raw = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"Hej!"}}]}'
    original = Completion(raw, orjson.loads(raw))
    assert redacted.completion(original) is original


def chunk(content: str | None = None, finish: str | None = None, index: int = 0) -> Chunk:
    delta = {} if content is None else {"content": content}
    data = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}
    return Chunk(orjson.dumps(data), data)


def streamed(chunks: list[Chunk], mapping: dict[str, str]) -> tuple[str, list[Chunk]]:
    reply = Redacted({}, mapping).stream()
    out = [reply.chunk(c) for c in chunks]
    last = reply.end()
    if last is not None:
        out.append(last)
    text = "".join((ch.get("delta") or {}).get("content") or ""
                   for c in out for ch in orjson.loads(c.raw)["choices"])
    return text, out


def test_a_placeholder_split_over_chunks_is_restored():
    mapping = {"<EMAIL_ADDRESS_1>": MAIL, "<PHONE_NUMBER_1>": PHONE}
    pieces = ["Skriv till <EMAIL", "_ADD", "RESS_1> eller ring <", "PHONE_NUMBER_1", ">", "."]
    text, out = streamed([*(chunk(p) for p in pieces), chunk(finish="stop")], mapping)
    assert text == f"Skriv till {MAIL} eller ring {PHONE}."
    assert all("<" not in (orjson.loads(c.raw)["choices"][0]["delta"].get("content") or "") for c in out)


def test_text_held_back_is_sent_with_the_finish_reason_or_at_the_end():
    mapping = {"<EMAIL_ADDRESS_1>": MAIL}
    text, out = streamed([chunk("a <EMAIL_ADD"), chunk(finish="stop")], mapping)
    assert text == "a <EMAIL_ADD"  # never completed: sent verbatim, not lost
    assert orjson.loads(out[-1].raw)["choices"][0]["finish_reason"] == "stop"
    text, out = streamed([chunk("a <EMAIL_ADDRESS_1"), chunk(">")], mapping)  # no finish chunk at all
    assert text == f"a {MAIL}" and len(out) == 2
    text, out = streamed([chunk("a <EMAIL_ADD")], mapping)
    assert text == "a <EMAIL_ADD" and len(out) == 2  # the end() chunk carries the held text


def test_chunks_without_placeholders_pass_through_unchanged():
    c = chunk("Hej där")
    _, out = streamed([c], {"<EMAIL_ADDRESS_1>": MAIL})
    assert out == [c] and out[0] is c


def test_carries_pii_looks_at_the_question_and_the_answer():
    detector = PiiDetector()
    assert carries_pii(make_turn(body_with_pii()), detector)
    plain = make_turn({"model": "chat", "messages": [{"role": "user", "content": "Vad är klockan?"}]})
    assert not carries_pii(plain, detector)
    plain.answer = {"choices": [{"message": {"role": "assistant", "content": f"Ring {PHONE}"}}]}
    assert carries_pii(plain, detector)


@pytest.mark.parametrize(("fields", "locality"), [
    ({"provider": "managed", "model": "bundled:x"}, "local"),
    ({"provider": "openai", "base_url": "http://127.0.0.1:8080/v1"}, "local"),
    ({"provider": "ollama", "base_url": "http://localhost:11434"}, "local"),
    ({"provider": "openai", "base_url": "http://192.168.1.20:8000/v1"}, "local"),
    ({"provider": "openai", "base_url": "https://api.openai.com/v1"}, "cloud"),
    ({"provider": "openai", "base_url": "http://gpu-box.internal:8000/v1"}, "cloud"),
    ({"provider": "openai", "base_url": "https://api.openai.com/v1", "locality": "local"}, "local"),
    ({"provider": "openai", "base_url": "http://127.0.0.1:8080/v1", "locality": "cloud"}, "cloud"),
])
def test_locality_is_explicit_or_inferred_safely(fields, locality):
    assert Deployment.model_validate({"name": "d", "model": "m", **fields}).locality == locality


def gateway(tmp_path, **guard) -> Gateway:
    return Gateway(Config.model_validate({
        "state": {"dir": str(tmp_path)}, "guard": guard,
        "deployments": [
            {"name": "cloud", "provider": "openai", "base_url": "https://api.example.com/v1", "model": "m"},
            {"name": "local", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}],
        "models": {"chat": ["cloud", "local"]}}))


def test_the_gateway_redacts_for_cloud_deployments_only(tmp_path):
    gw = gateway(tmp_path)
    turn = make_turn({"model": "chat", "messages": [{"role": "user", "content": TEXT}]})
    hook = gw.dispatcher.outbound
    assert hook(turn, gw.runners["local"], turn.body) is None
    out = hook(turn, gw.runners["cloud"], turn.body)
    assert PNR not in orjson.dumps(out.body).decode() and out.mapping["<SE_PERSONNUMMER_1>"] == PNR
    assert turn.meta["guard"]["pii"] == {"deployment": "cloud", "redacted": {
        "SE_PERSONNUMMER": 1, "EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}}


def test_without_restore_the_cloud_still_gets_redacted_text_but_no_mapping_is_kept(tmp_path):
    gw = gateway(tmp_path, pii={"restore": False})
    turn = make_turn({"model": "chat", "messages": [{"role": "user", "content": TEXT}]})
    out = gw.dispatcher.outbound(turn, gw.runners["cloud"], turn.body)
    assert MAIL not in orjson.dumps(out.body).decode() and out.mapping == {}


def test_redaction_can_be_switched_off_or_narrowed(tmp_path):
    assert gateway(tmp_path, pii={"cloud": "off"}).dispatcher.outbound is None
    gw = gateway(tmp_path, pii={"entities": ["EMAIL_ADDRESS"]})
    turn = make_turn({"model": "chat", "messages": [{"role": "user", "content": TEXT}]})
    sent = orjson.dumps(gw.dispatcher.outbound(turn, gw.runners["cloud"], turn.body).body).decode()
    assert MAIL not in sent and PHONE in sent
    with pytest.raises(ValueError, match="PERSON needs a NameDetector"):
        gateway(tmp_path, pii={"entities": ["PERSON"]})
