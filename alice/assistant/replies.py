"""Fixed phrases: templates, yes/no and cancel detection, system prompts. Swedish first."""

from __future__ import annotations

import re

__all__ = ["GREETING", "is_cancel", "is_no", "is_yes", "system_prompt", "text"]

_YES = re.compile(r"^\s*(ja|japp|jajamen|jo|javisst|absolut|gör\s+det|skicka(\s+det)?|kör|okej|ok|visst|"
                  r"yes|yep|yeah|sure|do\s+it|send(\s+it)?|go\s+ahead)\b[\s.!]*$", re.I)
_NO = re.compile(r"^\s*(nej|nä|nää|nope|no|inte|skippa|låt\s+bli|avbryt|don'?t|stop)\b", re.I)
_CANCEL = re.compile(r"^\s*(avbryt|glöm\s+det|strunt\s+samma|nej\s+tack|ingenting|never\s*mind|forget\s+it|cancel)"
                     r"[\s.!]*$", re.I)

GREETING = ("Hej! Vad kan jag hjälpa dig med?", "Hi! How can I help you?")

_TEXTS: dict[str, tuple[str, str]] = {
    "greeting.hello": GREETING,
    "not_allowed": ("Det får jag tyvärr inte göra åt dig här.", "I'm not allowed to do that for you here."),
    "no_llm": ("Jag kan inte svara på det just nu.", "I can't answer that right now."),
    "cancelled": ("Okej, jag avbryter.", "Okay, cancelled."),
    "not_sent": ("Okej, jag skickar inte. Utkastet finns kvar.", "Okay, I won't send it. The draft is kept."),
    "plan_failed": ("Jag kunde inte göra allt du bad om.", "I couldn't do everything you asked."),
    "confirm_outward": ("Ska jag göra det? (ja/nej)", "Shall I do it? (yes/no)"),
}


def text(key: str, lang: str) -> str:
    sv, en = _TEXTS[key]
    return en if lang == "en" else sv


def is_yes(message: str) -> bool:
    return bool(_YES.match(message))


def is_no(message: str) -> bool:
    return bool(_NO.match(message))


def is_cancel(message: str) -> bool:
    return bool(_CANCEL.match(message))


def system_prompt(lang: str, *, now_text: str, out_of_scope: bool) -> str:
    if lang == "en":
        base = (f"You are Alice, a helpful, concise assistant. It is {now_text}. Answer in English, briefly and "
                "naturally.")
        if out_of_scope:
            base += " If the user asks you to do something you cannot do (order, pay, call, play), say so kindly."
        return base
    base = (f"Du är Alice, en hjälpsam och koncis assistent. Det är {now_text}. Svara på naturlig svenska, kort "
            "och vänligt.")
    if out_of_scope:
        base += (" Om användaren ber dig göra något du inte kan (beställa, betala, ringa, spela musik), säg det "
                 "vänligt.")
    return base
