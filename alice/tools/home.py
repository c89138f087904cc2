"""Home lights through Home Assistant's REST API (`POST /api/services/light/turn_on|turn_off`).

Rooms map to light entities in config (`rooms: {kök: light.kitchen}`); "alla lampor" uses the
entity id `all`. Switching a light is local and undone by the next request, so unlike sending
an e-mail it runs without asking for confirmation first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from alice.tools.base import Tool, ToolCall, ToolError, ToolResult, say

__all__ = ["HomeSettings", "LightsTool"]


class HomeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None  # e.g. http://homeassistant.local:8123
    token_env: str = "HOME_ASSISTANT_TOKEN"  # long-lived access token, read from this variable
    rooms: dict[str, str] = {}  # canonical room (kök, vardagsrum, …) -> light entity id
    default_entity: str | None = None  # used when no room is named ("tänd lampan")
    timeout_s: float = Field(5.0, gt=0)


_OFF = re.compile(r"\b(släck\w*|stäng\s+av|slå\s+av|turn\s+(?:\w+\s+)?off|switch\s+(?:\w+\s+)?off|lights?\s+off|off)\b",
                  re.I)
_DIM = re.compile(r"\b(dimma|dämpa|sänk|skruva\s+ner|dra\s+ner|minska|mörkare|dim|lower|darker)\b", re.I)
_BRIGHTER = re.compile(r"\b(ljusare|mer\s+ljus|öka|skruva\s+upp|brighter|more\s+light|max)\b", re.I)
_ALL = re.compile(r"\b(alla|överallt|hela\s+huset|all|everywhere)\b", re.I)
_ROOM_EN = {"kök": "kitchen", "vardagsrum": "living room", "sovrum": "bedroom", "hall": "hallway",
            "badrum": "bathroom", "kontor": "office", "barnrum": "kids' room", "matsal": "dining room",
            "tvättstuga": "laundry room", "garage": "garage", "källare": "basement", "gästrum": "guest room",
            "altan": "porch", "trädgård": "garden"}
_ROOM_SV_IN = {"kök": "köket", "vardagsrum": "vardagsrummet", "sovrum": "sovrummet", "hall": "hallen",
               "badrum": "badrummet", "kontor": "kontoret", "barnrum": "barnrummet", "matsal": "matsalen",
               "tvättstuga": "tvättstugan", "garage": "garaget", "källare": "källaren", "gästrum": "gästrummet",
               "altan": "altanen", "trädgård": "trädgården"}


class LightsTool(Tool):
    name: ClassVar[str] = "home.lights"
    description: ClassVar[str] = "Lights on/off/dim in a room. args: {action: on|off|dim|brighter, room?, all?, " \
                                 "brightness_pct?}"
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "room": ("Vilket rum?", "Which room?"),
    }

    def __init__(self, settings: HomeSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        pct = slots.get("percent")
        if _OFF.search(text):
            args["action"] = "off"
        elif pct is not None or _DIM.search(text):
            args["action"] = "dim"
        elif _BRIGHTER.search(text) and not re.search(r"\b(tänd|turn\s+on|switch\s+on)\b", text, re.I):
            args["action"] = "brighter"
        else:
            args["action"] = "on"
        if pct is not None:
            args["brightness_pct"] = max(0, min(100, int(pct)))
        elif re.search(r"\bmax\b", text, re.I):
            args["brightness_pct"] = 100
        if slots.get("room"):
            args["room"] = slots["room"]
        if _ALL.search(text):
            args["all"] = True
        return args

    def missing(self, args: Mapping[str, Any], asked: frozenset[str] = frozenset()) -> list[str]:
        if args.get("room") or args.get("all") or self.settings.default_entity or not self.settings.url:
            return []
        return ["room"]

    def _entity(self, args: Mapping[str, Any]) -> str | None:
        if args.get("all"):
            return "all"
        room = args.get("room")
        if room:
            return self.settings.rooms.get(room)
        return self.settings.default_entity

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        return self._session

    async def run(self, call: ToolCall) -> ToolResult:
        s = self.settings
        if not s.url:
            return ToolResult({"configured": False},
                              say(call.lang, "Jag har ingen hemautomation inställd, så jag kan inte styra lamporna.",
                                  "No home automation is configured, so I can't control the lights."))
        a = call.args
        entity = self._entity(a)
        room = a.get("room")
        if entity is None:
            where = _ROOM_SV_IN.get(room, room) if room else ""
            return ToolResult({"entity": None}, say(call.lang, f"Jag vet inte vilken lampa som finns i {where}.",
                                                    f"I don't know which light is in the {_ROOM_EN.get(room, room)}."))
        action = a.get("action", "on")
        service = "turn_off" if action == "off" else "turn_on"
        payload: dict[str, Any] = {"entity_id": entity}
        if action == "dim":
            payload["brightness_pct"] = int(a.get("brightness_pct", 30))
        elif action == "brighter":
            if a.get("brightness_pct") is not None:
                payload["brightness_pct"] = int(a["brightness_pct"])
            else:
                payload["brightness_step_pct"] = 25
        token = os.environ.get(s.token_env, "")
        url = s.url.rstrip("/") + f"/api/services/light/{service}"
        try:
            async with self._client().post(url, json=payload, headers={"Authorization": f"Bearer {token}"}) as resp:
                if resp.status == 401:
                    raise ToolError("Home Assistant godkände inte min token.", "Home Assistant rejected my token.")
                if resp.status >= 400:
                    raise ToolError("Home Assistant svarade med ett fel.", "Home Assistant answered with an error.")
                changed = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError):
            raise ToolError("Jag når inte Home Assistant just nu.", "I can't reach Home Assistant right now.") \
                from None
        where_sv = " överallt" if entity == "all" else (f" i {_ROOM_SV_IN.get(room, room)}" if room else "")
        where_en = " everywhere" if entity == "all" else (f" in the {_ROOM_EN.get(room, room)}" if room else "")
        if action == "off":
            text = say(call.lang, f"Jag har släckt{where_sv}.", f"I've turned the lights off{where_en}.")
        elif "brightness_pct" in payload:
            p = payload["brightness_pct"]
            text = say(call.lang, f"Ljuset{where_sv} är nu på {p} procent.", f"The lights{where_en} are now at {p}%.")
        elif action == "brighter":
            text = say(call.lang, f"Jag har gjort det ljusare{where_sv}.", f"I've made it brighter{where_en}.")
        else:
            text = say(call.lang, f"Jag har tänt{where_sv}.", f"I've turned the lights on{where_en}.")
        return ToolResult({"service": f"light.{service}", "payload": payload,
                           "changed": changed if isinstance(changed, list) else []}, text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
