from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alice.nlu.entities import normalise_phone
from alice.nlu.lang import detect_language
from alice.nlu.numbers import parse_number_word, words_to_digits
from alice.nlu.slots import extract_slots
from alice.nlu.timeexpr import parse_duration

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=TZ)  # a Saturday


def slots(text: str, intent: str | None = None, lang: str = "sv") -> dict:
    return extract_slots(text, now=NOW, lang=lang, intent=intent)


@pytest.mark.parametrize("text, date, time", [
    ("imorgon kl 14", "2026-11-29", "14:00"),
    ("i morgon klockan 9", "2026-11-29", "09:00"),
    ("på måndag 09:30", "2026-11-30", "09:30"),
    ("nästa fredag kl 10", "2026-12-04", "10:00"),
    ("på fredag kvart över tre", "2026-12-04", "15:15"),
    ("imorgon halv tre", "2026-11-29", "14:30"),
    ("imorgon halv tre på natten", "2026-11-29", "02:30"),
    ("i övermorgon kvart i tio", "2026-11-30", "09:45"),
    ("den 5 december kl 8 ikväll", "2026-12-05", "20:00"),
    ("5/12 13:15", "2026-12-05", "13:15"),
    ("2026-12-24 klockan 15", "2026-12-24", "15:00"),
    ("på tisdag fem i halv fyra", "2026-12-01", "15:25"),
    ("på onsdag tio över två", "2026-12-02", "14:10"),
    ("imorgon tjugo i fyra", "2026-11-29", "15:40"),
    ("tomorrow at 3pm", "2026-11-29", "15:00"),
    ("next friday at 10:30", "2026-12-04", "10:30"),
])
def test_swedish_and_english_dates_and_times(text: str, date: str, time: str) -> None:
    s = slots(text, lang="en" if "at" in text.split() else "sv")
    assert (s.get("date"), s.get("time")) == (date, time)


def test_bare_times_resolve_to_the_next_occurrence() -> None:
    assert slots("Klockan 14")["datetime"] == "2026-11-28T14:00+01:00"
    assert slots("halv tre")["datetime"] == "2026-11-28T14:30+01:00"  # daytime reading
    assert slots("kl 9")["datetime"] == "2026-11-29T09:00+01:00"  # 09:00 has passed today
    assert "date" not in slots("Klockan 14")  # the day was not said; `datetime` carries the resolution


def test_relative_times_and_durations() -> None:
    assert slots("om fem minuter")["datetime"] == "2026-11-28T10:05+01:00"
    assert slots("om fem minuter")["relative_s"] == 300
    assert slots("in an hour")["relative_s"] == 3600
    assert slots("om två dagar")["date"] == "2026-11-30"
    for text, seconds in [("i tio minuter", 600), ("5 min", 300), ("en halvtimme", 1800), ("en kvart", 900),
                          ("en och en halv timme", 5400), ("1 timme och 15 minuter", 4500), ("90 sekunder", 90),
                          ("två timmar och tio minuter", 7800), ("half an hour", 1800), ("for 10 minutes", 600)]:
        assert parse_duration(text) == seconds, text


def test_ranges_weekdays_and_last_weekday() -> None:
    assert slots("nästa vecka")["date_range"] == ["2026-11-30", "2026-12-06"]
    assert slots("i helgen")["date_range"] == ["2026-11-28", "2026-11-29"]
    assert slots("på lördag")["date"] == "2026-12-05"  # "på lördag" on a Saturday is next week's
    assert slots("i fredags")["date"] == "2026-11-27"
    assert slots("den 5 mars")["date"] == "2027-03-05"  # a past day this year means next year


def test_calendar_requests_read_a_bare_hour_after_till_as_a_time() -> None:
    assert slots("flytta mötet till 15", intent="calendar.move")["time"] == "15:00"
    assert "time" not in slots("jag parkerade på plan 3")


@pytest.mark.parametrize("word, value", [("tjugotre", 23), ("femton", 15), ("etthundratjugofem", 125),
                                         ("tvåhundra", 200), ("tretusen", 3000), ("tjugoen", 21),
                                         ("twenty-three", 23), ("entre", None), ("tretjugo", None)])
def test_number_words(word: str, value: int | None) -> None:
    assert parse_number_word(word) == value


def test_number_words_in_text_keep_articles() -> None:
    assert words_to_digits("tjugo tre plus femton") == "23 plus 15"
    assert words_to_digits("en halvtimme och ett möte") == "en halvtimme och ett möte"
    assert slots("vad är tjugotre plus femton")["numbers"] == [23, 15]


def test_people_places_rooms_and_contacts() -> None:
    s = slots("boka ett möte med Anna och Erik i Göteborg på fredag")
    assert s["people"] == ["Anna", "Erik"] and s["place"] == "Göteborg"
    assert slots("Med anna imorgon")["people"] == ["Anna"]
    assert slots("hur blir vädret i malmö")["place"] == "Malmö"
    assert slots("tänd i köket")["room"] == "kök"
    assert slots("släck vardagsrummet")["room"] == "vardagsrum"
    assert slots("turn off the living room lights")["room"] == "vardagsrum"
    assert slots("mejla erik.berg@example.com om mötet")["email"] == "erik.berg@example.com"
    assert slots("dimma till 30 procent")["percent"] == 30


@pytest.mark.parametrize("raw, e164", [("070-123 45 67", "+46701234567"), ("+46 70 123 45 67", "+46701234567"),
                                       ("0046701234567", "+46701234567"), ("08-123 456 78", "+46812345678"),
                                       ("+46 (0)8 123 456 78", "+46812345678"), ("12345", None)])
def test_swedish_phone_numbers_normalise_to_e164(raw: str, e164: str | None) -> None:
    assert normalise_phone(raw) == e164
    if e164:
        assert slots(f"ring {raw} imorgon")["phone"] == e164


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        extract_slots("imorgon", now=datetime(2026, 1, 1))


@pytest.mark.parametrize("text, lang", [("What time is it?", "en"), ("vad är klockan", "sv"), ("hej", "sv"),
                                        ("Set a timer for 5 minutes", "en"), ("yes", "en"), ("ja", "sv"),
                                        ("Med Anna imorgon", "sv")])
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang
