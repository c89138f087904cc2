"""PII detection, redaction and restoring (alice/guard/pii.py)."""

from __future__ import annotations

import pytest

from alice.guard.pii import (
    NameDetector,
    PiiDetector,
    StreamRestorer,
    detect,
    redact,
    restore,
)


def found(text: str) -> list[tuple[str, str]]:
    return [(s.entity, s.text) for s in detect(text)]


# --- personnummer -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "19900101-0017", "900101-0017", "9001010017", "199001010017",  # every separator form
    "090527+1474", "19090527+1474",  # the + form for people over 100
    "000229-2399",  # leap day
    "197302889931", "730288-9931",  # samordningsnummer (day + 60)
])
def test_personnummer_in_every_format(value: str) -> None:
    assert found(f"Mitt personnummer är {value}, tack.") == [("SE_PERSONNUMMER", value)]


@pytest.mark.parametrize("value", [
    "19900101-0018", "9001010018",  # wrong check digit
    "700428-9895",  # valid date, invalid checksum: neither a personnummer nor a phone
    "201509160006",  # birth number 000 is never issued
    "901301-0014",  # month 13
    "090527 1474",  # a space is not a valid separator
])
def test_invalid_personnummer_not_flagged(value: str) -> None:
    assert found(f"Nummer {value} här") == []


@pytest.mark.parametrize("value", ["556036-0793", "212000-0142", "5560360793", "16556036-0793", "802005-1952"])
def test_organisation_numbers_never_flagged(value: str) -> None:
    assert found(f"Organisationsnummer {value}") == []


def test_personnummer_is_not_also_a_phone() -> None:
    spans = detect("ring 19900101-0017 eller 070-123 45 67")
    assert [s.entity for s in spans] == ["SE_PERSONNUMMER", "PHONE_NUMBER"]


# --- phones, e-mail, IBAN, cards, IP --------------------------------------------------------

@pytest.mark.parametrize("value", [
    "070-123 45 67", "+46 70 123 45 67", "08-123 456 78", "0046 8 123 456 78", "0701234567",
    "+46 (0)8 928 571 38", "+14155552671", "(415) 555-2671", "415-555-2671", "+1-984-182-0190",
    "415.555.2671x123",
])
def test_phone_formats(value: str) -> None:
    assert found(f"Ring {value} i dag") == [("PHONE_NUMBER", value)]


@pytest.mark.parametrize("text", [
    "Det kostar 1 250 000 kr", "Mötet 2024-05-12 kl 14:30", "under åren 1990-2000",
    "SSN 460-89-9847", "my driver's license number is 6940579", "Uppgradera till version 1.2.3.4",
    "Svara 1 2 3 4 5 6 7 8 9 10", "Lotto: 4 8 15 16 23 42",
])
def test_numbers_that_are_not_phones(text: str) -> None:
    assert found(text) == []


def test_emails() -> None:
    assert found("Skriv till åsa.berg+alice@företag.se. Eller a_b@x.co.uk!") == [
        ("EMAIL_ADDRESS", "åsa.berg+alice@företag.se"), ("EMAIL_ADDRESS", "a_b@x.co.uk")]
    assert found("inte en adress: a@b eller @handle") == []


def test_iban_valid_and_invalid() -> None:
    assert found("IBAN SE35 5000 0000 0549 1000 0003 tack") == [("IBAN_CODE", "SE35 5000 0000 0549 1000 0003")]
    assert found("GB82WEST12345698765432") == [("IBAN_CODE", "GB82WEST12345698765432")]
    assert found("IBAN SE35 5000 0000 0549 1000 0004") == []  # mod-97 fails
    assert found("se12 with some more text here") == []


def test_cards_luhn() -> None:
    assert found("kort 4111 1111 1111 1111 giltigt") == [("CREDIT_CARD", "4111 1111 1111 1111")]
    assert found("amex 3782-822463-10005") == [("CREDIT_CARD", "3782-822463-10005")]
    assert found("5555555555554444") == [("CREDIT_CARD", "5555555555554444")]
    assert found("kort 4111 1111 1111 1112") == []  # Luhn fails


def test_ip_addresses() -> None:
    assert found("från 192.168.1.20 och 2001:db8::8a2e:370:7334.") == [
        ("IP_ADDRESS", "192.168.1.20"), ("IP_ADDRESS", "2001:db8::8a2e:370:7334")]
    assert found("999.1.1.1 och std::vector och 12:30:45") == []


# --- redaction and restoring ----------------------------------------------------------------

def test_redact_restore_round_trip_with_stable_placeholders() -> None:
    text = "Ring 070-123 45 67 eller mejla per@example.se. Igen: 070-123 45 67. Pnr 19900101-0017."
    r = redact(text)
    assert r.text == ("Ring <PHONE_NUMBER_1> eller mejla <EMAIL_ADDRESS_1>. Igen: <PHONE_NUMBER_1>. "
                      "Pnr <SE_PERSONNUMMER_1>.")
    assert r.mapping == {"<PHONE_NUMBER_1>": "070-123 45 67", "<EMAIL_ADDRESS_1>": "per@example.se",
                         "<SE_PERSONNUMMER_1>": "19900101-0017"}
    assert restore(r.text, r.mapping) == text


def test_redact_not_reversible_keeps_no_originals() -> None:
    r = redact("mejla per@example.se", reversible=False)
    assert r.text == "mejla <EMAIL_ADDRESS_1>" and r.mapping == {}


def test_restore_leaves_unknown_placeholders() -> None:
    assert restore("hej <PHONE_NUMBER_2> och <X>", {"<PHONE_NUMBER_1>": "1"}) == "hej <PHONE_NUMBER_2> och <X>"


@pytest.mark.parametrize("cut", range(1, 40))
def test_stream_restorer_handles_placeholders_split_anywhere(cut: int) -> None:
    mapping = {"<PHONE_NUMBER_1>": "070-123 45 67", "<EMAIL_ADDRESS_1>": "per@example.se"}
    answer = "Jag ringer <PHONE_NUMBER_1> och mejlar <EMAIL_ADDRESS_1> sen. 3 < 4"
    chunks = [answer[i:i + cut] for i in range(0, len(answer), cut)]
    sr = StreamRestorer(mapping)
    out = "".join(sr.feed(c) for c in chunks) + sr.flush()
    assert out == "Jag ringer 070-123 45 67 och mejlar per@example.se sen. 3 < 4"


def test_stream_restorer_holds_only_possible_prefixes() -> None:
    sr = StreamRestorer({"<PHONE_NUMBER_1>": "070"})
    assert sr.feed("a <PHO") == "a "  # could still become the placeholder
    assert sr.feed("TO>") == "<PHOTO>"  # could not: released verbatim
    assert sr.feed("x <PHONE_NUMBER_") == "x "
    assert sr.flush() == "<PHONE_NUMBER_"  # the stream ended mid-placeholder: nothing is lost


# --- PERSON: off by default, pluggable -----------------------------------------------------

class _FixedNames:
    def find_names(self, text: str) -> list[tuple[int, int]]:
        i = text.find("Anna Berg")
        return [(i, i + 9)] if i >= 0 else []


def test_person_is_off_by_default_and_needs_a_detector() -> None:
    assert found("Anna Berg ringde") == []
    with pytest.raises(ValueError, match="NameDetector"):
        PiiDetector(entities=["PERSON"])


def test_name_detector_hook() -> None:
    assert isinstance(_FixedNames(), NameDetector)
    spans = PiiDetector(name_detector=_FixedNames()).detect("Anna Berg, 070-123 45 67")
    assert [(s.entity, s.text) for s in spans] == [("PERSON", "Anna Berg"), ("PHONE_NUMBER", "070-123 45 67")]


def test_entity_selection() -> None:
    d = PiiDetector(entities=["EMAIL_ADDRESS"])
    assert [s.entity for s in d.detect("per@example.se 070-123 45 67")] == ["EMAIL_ADDRESS"]
    with pytest.raises(ValueError, match="unknown"):
        PiiDetector(entities=["SSN"])
