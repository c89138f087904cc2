"""Named slots in Swedish and English: people, places, rooms, e-mail addresses, phone numbers.

Rules, not a model: the phrasing of assistant requests is regular ("med Anna", "i Göteborg",
"i köket") and the rules are predictable. People are capitalised names after "med/with/till/to"
(or after "mejla/ring", or a known first name in lower case, as speech-to-text writes them).
Places come from a small gazetteer of Swedish and world cities (any case), or a capitalised
word after "i/in/för". Swedish phone numbers are normalised to E.164 (+46…).
"""

from __future__ import annotations

import re

__all__ = ["ROOMS", "extract_emails", "extract_people", "extract_phone", "extract_place", "extract_room",
           "normalise_phone"]

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
PHONE = re.compile(r"(?<![\d+])(?:\+46|0046|0)[\s-]?\(?0?\)?\d{1,3}(?:[\s-]?\d){5,9}(?!\d)")

# canonical room -> spoken forms (Swedish indefinite/definite, English)
ROOMS: dict[str, tuple[str, ...]] = {
    "kök": ("kök", "köket", "kitchen"),
    "vardagsrum": ("vardagsrum", "vardagsrummet", "living room", "livingroom", "lounge"),
    "sovrum": ("sovrum", "sovrummet", "bedroom"),
    "hall": ("hall", "hallen", "hallway", "entré", "entrén"),
    "badrum": ("badrum", "badrummet", "bathroom", "toaletten", "toa"),
    "kontor": ("kontor", "kontoret", "arbetsrum", "arbetsrummet", "office", "study"),
    "barnrum": ("barnrum", "barnrummet", "kids room", "nursery"),
    "matsal": ("matsal", "matsalen", "dining room"),
    "tvättstuga": ("tvättstuga", "tvättstugan", "laundry room", "laundry"),
    "garage": ("garage", "garaget"),
    "källare": ("källare", "källaren", "basement"),
    "gästrum": ("gästrum", "gästrummet", "guest room"),
    "altan": ("altan", "altanen", "terrass", "terrassen", "balkong", "balkongen", "porch", "balcony", "patio"),
    "trädgård": ("trädgård", "trädgården", "garden", "yard"),
}
_ROOM_FORMS = {form: canon for canon, forms in ROOMS.items() for form in forms}
_ROOM_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _ROOM_FORMS), key=len, reverse=True)) + r")\b", re.I)

# lower-case spoken form -> display name
_CITIES = {
    "stockholm": "Stockholm", "göteborg": "Göteborg", "goteborg": "Göteborg", "gothenburg": "Göteborg",
    "malmö": "Malmö", "malmo": "Malmö", "uppsala": "Uppsala", "västerås": "Västerås", "örebro": "Örebro",
    "linköping": "Linköping", "helsingborg": "Helsingborg", "jönköping": "Jönköping", "norrköping": "Norrköping",
    "lund": "Lund", "umeå": "Umeå", "gävle": "Gävle", "borås": "Borås", "södertälje": "Södertälje",
    "eskilstuna": "Eskilstuna", "halmstad": "Halmstad", "växjö": "Växjö", "karlstad": "Karlstad",
    "sundsvall": "Sundsvall", "östersund": "Östersund", "luleå": "Luleå", "trollhättan": "Trollhättan",
    "kalmar": "Kalmar", "kristianstad": "Kristianstad", "falun": "Falun", "visby": "Visby", "kiruna": "Kiruna",
    "skövde": "Skövde", "karlskrona": "Karlskrona", "nyköping": "Nyköping", "varberg": "Varberg", "ystad": "Ystad",
    "åre": "Åre", "sälen": "Sälen", "piteå": "Piteå", "skellefteå": "Skellefteå", "örnsköldsvik": "Örnsköldsvik",
    "mora": "Mora", "gotland": "Gotland", "öland": "Öland", "borlänge": "Borlänge", "motala": "Motala",
    "oslo": "Oslo", "köpenhamn": "Köpenhamn", "copenhagen": "Köpenhamn", "helsingfors": "Helsingfors",
    "helsinki": "Helsingfors", "london": "London", "paris": "Paris", "berlin": "Berlin", "madrid": "Madrid",
    "rom": "Rom", "rome": "Rom", "new york": "New York", "tokyo": "Tokyo", "bangkok": "Bangkok",
    "sydney": "Sydney", "los angeles": "Los Angeles", "peking": "Peking", "beijing": "Peking",
    "dubai": "Dubai", "amsterdam": "Amsterdam", "reykjavik": "Reykjavik", "tallinn": "Tallinn", "riga": "Riga",
}
_CITY_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _CITIES), key=len, reverse=True)) + r")\b", re.I)

# Common first names, so lower-case transcripts ("med anna") still find the person.
_FIRST_NAMES = frozenset("""
anna eva maria karin sara lisa emma elin johanna kristina sofia ida julia hanna linnea elsa greta petra
ingrid malin frida klara maja alice astrid ebba wilma agnes lena helena camilla jenny sanna mia ellen
erik lars johan anders per karl nils oskar oscar lucas hugo liam william noah adam ahmed ali mohammed
magnus fredrik daniel mikael jonas peter jan stefan thomas andreas marcus alexander viktor gustav axel
elias filip emil anton isak leo olle sven bengt göran kalle pelle jesper henrik mattias patrik robert
john jane mary james david michael sarah emily tom kim alex sam
""".split())
_NAME_WORD = r"[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖÉ][a-zåäöéü]+)?"
_NOT_NAMES = frozenset(
    {w.capitalize() for w in ("idag", "imorgon", "ikväll", "i", "mötet", "möte", "kalendern", "teamet", "chefen",
                              "kunden", "mig", "oss", "dig", "honom", "henne", "dem", "alla", "the", "me", "us",
                              "ämnet", "rubriken", "subject", "klockan", "kl")}
    | {m.capitalize() for m in ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                                "september", "oktober", "november", "december", "måndag", "tisdag", "onsdag",
                                "torsdag", "fredag", "lördag", "söndag", "monday", "tuesday", "wednesday",
                                "thursday", "friday", "saturday", "sunday", "tomorrow", "today")}
)
_PERSON_CUE = re.compile(
    rf"\b(?i:med|with|till|to|åt|for|mejla|maila|meila|mail|email|e-maila|ring|ringa|call|träffa|meet|och|and)\s+"
    rf"({_NAME_WORD}(?:\s+{_NAME_WORD})?)", re.U)
_PERSON_CUE_LOWER = re.compile(r"\b(?:med|with|till|to|åt|mejla|maila|meila|email|ring|träffa|och|and)\s+([a-zåäö]+)\b",
                               re.I)


def extract_emails(text: str) -> list[str]:
    return list(dict.fromkeys(m.group().rstrip(".") for m in EMAIL.finditer(text)))


def normalise_phone(raw: str) -> str | None:
    """A Swedish number in any common spelling -> E.164 ("070-123 45 67" -> "+46701234567")."""
    digits = re.sub(r"\D", "", raw.replace("(0)", ""))
    if raw.strip().startswith("+46"):
        rest = digits[2:]
    elif digits.startswith("0046"):
        rest = digits[4:]
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        return None
    rest = rest.lstrip("0")
    # Swedish national significant numbers are 7-9 digits (area code without the 0 + subscriber).
    if not 7 <= len(rest) <= 9:
        return None
    return "+46" + rest


def extract_phone(text: str) -> str | None:
    for m in PHONE.finditer(text):
        e164 = normalise_phone(m.group())
        if e164:
            return e164
    return None


def extract_room(text: str) -> str | None:
    m = _ROOM_RE.search(text.lower())
    return _ROOM_FORMS[m.group(1).lower()] if m else None


def extract_place(text: str) -> str | None:
    m = _CITY_RE.search(text)
    if m:
        return _CITIES[m.group(1).lower()]
    for m in re.finditer(rf"\b(?:i|in|för|for|vid|at)\s+({_NAME_WORD}(?:\s+{_NAME_WORD})?)", text):
        name = m.group(1)
        first = name.split()[0]
        if first in _NOT_NAMES or first.lower() in _ROOM_FORMS or first.lower() in _FIRST_NAMES:
            continue
        return name
    return None


def extract_people(text: str) -> list[str]:
    """Names of people the request is about ("med Anna och Erik" -> ["Anna", "Erik"])."""
    without_mail = EMAIL.sub(" ", text)
    found: list[tuple[int, str]] = []
    for m in _PERSON_CUE.finditer(without_mail):
        name = m.group(1).split()[0]
        if name not in _NOT_NAMES and name.lower() not in _CITIES and name.lower() not in _ROOM_FORMS:
            found.append((m.start(1), name))
    for m in _PERSON_CUE_LOWER.finditer(without_mail):
        if m.group(1) in _FIRST_NAMES:
            found.append((m.start(1), m.group(1).capitalize()))
    return list(dict.fromkeys(name for _, name in sorted(found)))
