"""100 % recall on a fixture of 48 personnummer/samordningsnummer in mixed formats, and none
of its negatives (wrong check digit, organisation numbers) flagged.

The fixture's validity is re-checked here with an independent Luhn helper, so a wrong fixture
cannot make the detector look right.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from alice.guard.pii import detect

FIXTURE = Path(__file__).parent / "fixtures" / "personnummer_mixed.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def luhn_valid(digits: str) -> bool:
    doubled = [int(c) * (2 if i % 2 else 1) for i, c in enumerate(reversed(digits))]
    return sum(d - 9 if d > 9 else d for d in doubled) % 10 == 0


def is_personnummer(value: str) -> bool:
    digits = "".join(c for c in value if c.isdigit())[-10:]
    month, day = int(digits[2:4]), int(digits[4:6]) % 60 or 60  # samordningsnummer: day + 60
    try:
        datetime.date(2000, month, day)  # leap year: accepts 29 February
    except ValueError:
        return False
    return luhn_valid(digits)


def test_fixture_is_what_it_claims() -> None:
    positives = [r for r in ROWS if r["valid"]]
    assert len(positives) >= 40
    assert {r["format"] for r in positives} >= {"YYYYMMDD-NNNC", "YYMMDD-NNNC", "YYMMDD+NNNC", "YYYYMMDDNNNC",
                                                "YYMMDDNNNC"}
    assert any(r["kind"] == "samordningsnummer" for r in positives)
    for r in ROWS:
        assert r["value"] in r["text"]
        if r["kind"] == "organisation":
            assert luhn_valid(r["value"].replace("-", "")[-10:])  # real organisation numbers
        else:
            assert is_personnummer(r["value"]) == r["valid"], r


def test_recall_is_total() -> None:
    positives = [r for r in ROWS if r["valid"]]
    hits = [r for r in positives if [(s.entity, s.text) for s in detect(r["text"])] == [("SE_PERSONNUMMER", r["value"])]]
    assert len(hits) == len(positives), [r["value"] for r in positives if r not in hits]


@pytest.mark.parametrize("row", [r for r in ROWS if not r["valid"]], ids=lambda r: r["value"])
def test_negatives_are_not_flagged(row: dict) -> None:
    assert detect(row["text"]) == []
