"""Cheap Swedish/English detection: letter and function-word evidence, no model.

Replies follow the user's language; Swedish is the default, so English must win clearly.
"""

from __future__ import annotations

import re

__all__ = ["detect_language"]

_SV = frozenset("""
jag du är och att det som en ett på med för till av om inte vad hur när var vem vilken vilket kan
ska skulle har hade vill mig dig min mitt mina din ditt den detta här där nu idag imorgon klockan
hej tack snälla boka sätt starta stoppa tänd släck visa skriv skicka kom ihåg vädret blir bli mycket
lite också eller men så från efter innan över under kl mötet möte timer timern ut åt oss vi ni dom ja nej japp nä
""".split())
_EN = frozenset("""
you is are and the a an yes no yeah nope sure okay of to in on at for with what how when where who which
can could should will
would have has had want me my mine your it this that here there now today tomorrow please thanks thank
hello hi book set start stop turn show write send remember weather time the meeting timer lights do does
did be been it's i'm what's don't let's about from after before over under us we they them
""".split())
_WORD = re.compile(r"[a-zåäöéü']+")


def detect_language(text: str, default: str = "sv") -> str:
    """"sv" or "en"."""
    lower = text.lower()
    if re.search(r"[åäö]", lower):
        return "sv"
    words = _WORD.findall(lower)
    sv = sum(w in _SV for w in words)
    en = sum(w in _EN for w in words)
    if en > sv:
        return "en"
    if sv > en:
        return "sv"
    return default
