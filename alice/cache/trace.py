"""A generated Swedish assistant workload for `alice bench cache` and adversarial pairs for tests.

Questions come in families; a family has several phrasings and slots (a place, a number, a
day, a word). A *meaning* is a family with its slot values (and, for some families, a
negation): two requests with the same meaning must get the same answer, any other pair must
not. Popularity follows a Zipf law over meanings; each request picks a phrasing and sometimes a
polite opener or different casing, so the trace has exact repeats, paraphrases, and near-misses
that differ only by a place, a number, a day, a word or a negation.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["FAMILIES", "Request", "adversarial_pairs", "meanings", "trace"]

_COUNTRIES = ["Norge", "Danmark", "Finland", "Tyskland", "Frankrike", "Spanien", "Italien", "Polen", "Estland",
              "Island", "Grekland", "Portugal"]
_CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Umeå", "Luleå",
           "Kiruna", "Visby", "Lund"]
_DAYS = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]
_WORDS = ["hund", "katt", "häst", "bil", "cykel", "hus", "äpple", "bok", "stol", "fönster", "sked", "moln"]
_BOOKS = ["Pippi Långstrump", "Utvandrarna", "Röda rummet", "Gösta Berlings saga", "Doktor Glas",
          "Mio min Mio"]
_AMOUNTS = ["5", "10", "20", "50", "100", "250"]
_NUTRIENTS = ["C-vitamin", "järn", "kalium", "fibrer", "magnesium"]

# family → (slot name → values, phrasings, negated phrasings)
FAMILIES: dict[str, tuple[dict[str, list[str]], list[str], list[str]]] = {
    "capital": ({"c": _COUNTRIES}, [
        "Vad är huvudstaden i {c}?", "Vilken är huvudstaden i {c}?", "Vilken stad är huvudstad i {c}?",
        "Vad heter huvudstaden i {c}?", "Vilken stad är {c}s huvudstad?"], []),
    "population": ({"p": _CITIES}, [
        "Hur många invånare har {p}?", "Hur många bor i {p}?", "Hur många människor bor det i {p}?",
        "Vad är invånarantalet i {p}?"], []),
    "distance": ({"a": _CITIES[:6], "b": _CITIES[6:]}, [
        "Hur långt är det från {a} till {b}?", "Hur många kilometer är det från {a} till {b}?",
        "Vad är avståndet från {a} till {b}?"], []),
    "currency": ({"n": _AMOUNTS}, [
        "Hur mycket är {n} euro i kronor?", "Vad är {n} euro i svenska kronor?", "Omvandla {n} euro till kronor",
        "Hur många kronor är {n} euro?"], []),
    "author": ({"t": _BOOKS}, [
        "Vem skrev {t}?", "Vem är författaren till {t}?", "Vem har skrivit {t}?", "Vilken författare skrev {t}?"],
        []),
    "translate": ({"w": _WORDS}, [
        "Vad heter {w} på engelska?", "Hur säger man {w} på engelska?", "Vad är {w} på engelska?",
        "Vad blir {w} på engelska?"], []),
    "opening": ({"d": _DAYS}, [
        "När öppnar apoteket på {d}?", "Vilken tid öppnar apoteket på {d}?", "Hur dags öppnar apoteket på {d}?"],
        []),
    "fruit": ({"x": _NUTRIENTS}, [
        "Vilka frukter innehåller {x}?", "Vilka frukter är rika på {x}?", "Vilken frukt innehåller mest {x}?"], [
        "Vilka frukter innehåller inte {x}?", "Vilken frukt innehåller inget {x}?"]),
    "boil": ({"n": ["3", "5", "7", "10"]}, [
        "Hur blir ett ägg som kokat i {n} minuter?", "Hur ser ett ägg ut efter {n} minuters kokning?",
        "Hur hårt blir ägget om det kokar {n} minuter?"], []),
    "weather": ({"p": _CITIES}, [
        "Hur blir vädret i {p} imorgon?", "Vad blir det för väder i {p} imorgon?", "Vädret i {p} imorgon?",
        "Blir det regn i {p} imorgon?"], []),
}
_OPENERS = ["Hej! ", "Snälla, ", "Kan du säga ", "Hej Alice, ", "Du, ", ""]


@dataclass(frozen=True, slots=True)
class Request:
    text: str
    meaning: str  # family|slot=value|…|neg


def meanings() -> list[tuple[str, dict[str, str], bool]]:
    out = []
    rng = random.Random(7)
    for family, (slots, _, negated) in FAMILIES.items():
        combos: list[dict[str, str]] = [{}]
        for name, values in slots.items():
            combos = [{**c, name: v} for c in combos for v in values]
        for combo in combos:
            out.append((family, combo, False))
            if negated:
                out.append((family, combo, True))
    rng.shuffle(out)  # popularity rank is random across families
    return out


def _meaning_id(family: str, combo: dict[str, str], neg: bool) -> str:
    return "|".join([family, *(f"{k}={v}" for k, v in sorted(combo.items())), "neg" if neg else "pos"])


def _surface(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        opener = rng.choice(_OPENERS)
        text = opener + (text[0].lower() + text[1:] if opener.endswith(("säga ", ", ")) else text)
    elif r < 0.25:
        text = text.lower().rstrip("?")
    return text


def trace(n: int, *, zipf_s: float = 1.1, seed: int = 1) -> Iterator[Request]:
    """`n` requests; the meaning of rank r is drawn with weight 1 / r^zipf_s."""
    rng = random.Random(seed)
    ms = meanings()
    weights = [1 / (r + 1) ** zipf_s for r in range(len(ms))]
    for family, combo, neg in rng.choices(ms, weights, k=n):
        _, phrasings, negated = FAMILIES[family]
        text = rng.choice(negated if neg else phrasings).format(**combo)
        yield Request(_surface(text, rng), _meaning_id(family, combo, neg))


def adversarial_pairs(seed: int = 3) -> list[tuple[str, str, int]]:
    """(a, b, same) pairs: paraphrases (1), and place / number / day / word / negation swaps (0)."""
    rng = random.Random(seed)
    pairs: list[tuple[str, str, int]] = []
    for slots, phrasings, negated in FAMILIES.values():
        for _ in range(6):
            combo = {k: rng.choice(v) for k, v in slots.items()}
            a, b = rng.sample(phrasings, 2)
            pairs.append((a.format(**combo), b.format(**combo), 1))
            name = rng.choice(list(slots))
            other = {**combo, name: rng.choice([v for v in slots[name] if v != combo[name]])}
            pairs.append((rng.choice(phrasings).format(**combo), rng.choice(phrasings).format(**other), 0))
            if negated:
                pairs.append((rng.choice(phrasings).format(**combo), rng.choice(negated).format(**combo), 0))
    pairs += [("Är Norge större än Sverige?", "Är Sverige större än Norge?", 0),
              ("Tåg från Stockholm till Göteborg", "Tåg från Göteborg till Stockholm", 0),
              ("Vad heter min mamma?", "Vad heter min pappa?", 0),
              ("Är kaffe nyttigt?", "Är kaffe inte nyttigt?", 0)]
    return pairs
