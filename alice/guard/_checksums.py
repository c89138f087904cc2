"""Check-digit and shape validators used on PII candidates (never on whole texts).

Kept apart from the regexes so each rule can be tested alone and reused (the eval command and
the tests generate valid numbers with the same Luhn helper).
"""

from __future__ import annotations

import calendar
import ipaddress
from enum import Enum

__all__ = [
    "SwedishId",
    "classify_swedish_id",
    "iban_ok",
    "ip_ok",
    "luhn_check_digit",
    "luhn_ok",
]


def luhn_ok(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(payload + d):
            return d
    raise AssertionError("unreachable: one of ten digits always completes a Luhn sum")


def iban_ok(compact: str) -> bool:
    """ISO 13616 mod-97 check on an IBAN without spaces (case-insensitive)."""
    s = compact.upper()
    if len(s) < 15 or len(s) > 34 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    rotated = s[4:] + s[:4]
    # int(c, 36) maps 0-9 to themselves and A-Z to 10-35, exactly the IBAN letter encoding.
    return int("".join(str(int(c, 36)) for c in rotated)) % 97 == 1


def ip_ok(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


class SwedishId(Enum):
    PERSON = "person"  # personnummer or samordningsnummer with a valid date and checksum
    ORGANISATION = "organisation"  # month field >= 20 and a valid checksum: a company, not a person
    BAD_CHECKSUM = "bad_checksum"  # a valid birth date but a wrong check digit (a typo or made up)
    NOT_ID = "not_id"  # digits that are neither: no valid date, or an impossible century


def _date_ok(century: int | None, yy: int, mm: int, dd: int) -> bool:
    if not 1 <= mm <= 12:
        return False
    if dd > 60:  # samordningsnummer: day + 60
        dd -= 60
    if century is not None:
        last = calendar.monthrange(century * 100 + yy, mm)[1]
    elif mm == 2:
        # Without the century a 29 February is plausible whenever yy is divisible by 4.
        last = 29 if yy % 4 == 0 else 28
    else:
        last = calendar.monthrange(2001, mm)[1]
    return 1 <= dd <= last


def classify_swedish_id(digits: str) -> SwedishId:
    """Classify 10 or 12 digits (separator removed) shaped like a Swedish identity number.

    The checksum is Luhn over the last ten digits (YYMMDDNNNC); a 12-digit form adds the century.
    Organisation numbers share the checksum but have a "month" of 20 or more.
    """
    century = None
    if len(digits) == 12:
        century, digits = int(digits[:2]), digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        return SwedishId.NOT_ID
    yy, mm, dd = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    checksum = luhn_ok(digits)
    if mm >= 20:
        # Organisation numbers are written with ten digits, or twelve with the prefix 16.
        return SwedishId.ORGANISATION if checksum and century in (None, 16) else SwedishId.NOT_ID
    if century is not None and century not in (18, 19, 20):
        return SwedishId.NOT_ID
    if not _date_ok(century, yy, mm, dd) or digits[6:9] == "000":  # birth number 000 is never issued
        return SwedishId.NOT_ID
    return SwedishId.PERSON if checksum else SwedishId.BAD_CHECKSUM
