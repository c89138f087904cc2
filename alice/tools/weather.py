"""Weather through an Open-Meteo-style HTTP provider: geocoding, then forecast.

Configured with two URLs (`geocoding_url`, e.g. https://geocoding-api.open-meteo.com/v1/search,
and `forecast_url`, e.g. https://api.open-meteo.com/v1/forecast); without them the tool says
plainly, in Swedish, that no weather service is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from alice.tools._format import day_phrase, number
from alice.tools.base import Tool, ToolCall, ToolError, ToolResult, say

__all__ = ["WeatherSettings", "WeatherTool", "describe_code"]


class WeatherSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    geocoding_url: str | None = None
    forecast_url: str | None = None
    default_place: str | None = None  # used when the user names no place
    timeout_s: float = Field(5.0, gt=0)
    forecast_days: int = Field(7, ge=1, le=16)

    @property
    def configured(self) -> bool:
        return bool(self.geocoding_url and self.forecast_url)


# WMO weather interpretation codes (as used by Open-Meteo) -> (Swedish, English)
_CODES: dict[int, tuple[str, str]] = {
    0: ("klart", "clear"), 1: ("mestadels klart", "mainly clear"), 2: ("halvklart", "partly cloudy"),
    3: ("mulet", "overcast"), 45: ("dimma", "fog"), 48: ("dimma med rimfrost", "freezing fog"),
    51: ("lätt duggregn", "light drizzle"), 53: ("duggregn", "drizzle"), 55: ("kraftigt duggregn", "heavy drizzle"),
    56: ("underkylt duggregn", "freezing drizzle"), 57: ("kraftigt underkylt duggregn", "heavy freezing drizzle"),
    61: ("lätt regn", "light rain"), 63: ("regn", "rain"), 65: ("kraftigt regn", "heavy rain"),
    66: ("underkylt regn", "freezing rain"), 67: ("kraftigt underkylt regn", "heavy freezing rain"),
    71: ("lätt snöfall", "light snow"), 73: ("snöfall", "snow"), 75: ("kraftigt snöfall", "heavy snow"),
    77: ("snökorn", "snow grains"), 80: ("lätta regnskurar", "light showers"), 81: ("regnskurar", "showers"),
    82: ("kraftiga regnskurar", "heavy showers"), 85: ("snöbyar", "snow showers"),
    86: ("kraftiga snöbyar", "heavy snow showers"), 95: ("åska", "thunderstorm"),
    96: ("åska med hagel", "thunderstorm with hail"), 99: ("kraftig åska med hagel", "severe thunderstorm with hail"),
}


def describe_code(code: int | None, lang: str = "sv") -> str:
    sv, en = _CODES.get(int(code) if code is not None else -1, ("okänt väder", "unknown weather"))
    return en if lang == "en" else sv


class WeatherTool(Tool):
    name: ClassVar[str] = "weather.forecast"
    description: ClassVar[str] = "Current weather and daily forecast. args: {place, date? (YYYY-MM-DD)}"
    required: ClassVar[dict[str, tuple[str, str]]] = {
        "place": ("För vilken ort?", "For which place?"),
    }

    def __init__(self, settings: WeatherSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def args_from(self, text: str, slots: Mapping[str, Any], *, now: datetime, lang: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if slots.get("place"):
            args["place"] = slots["place"]
        if slots.get("date"):
            args["date"] = slots["date"]
        elif slots.get("date_range"):
            args["date"] = slots["date_range"][0]
        return args

    def missing(self, args: Mapping[str, Any], asked: frozenset[str] = frozenset()) -> list[str]:
        if not self.settings.configured:
            return []  # nothing to ask: run() explains that no provider is configured
        if not args.get("place") and not self.settings.default_place:
            return ["place"]
        return []

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        return self._session

    async def _get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            async with self._client().get(url, params=params) as resp:
                if resp.status != 200:
                    raise ToolError("Vädertjänsten svarar inte som den ska just nu.",
                                    "The weather service is not answering properly right now.")
                return await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError):
            raise ToolError("Jag når inte vädertjänsten just nu.", "I can't reach the weather service right now.") \
                from None

    async def run(self, call: ToolCall) -> ToolResult:
        s = self.settings
        if not s.configured:
            return ToolResult({"configured": False},
                              say(call.lang, "Jag har ingen vädertjänst inställd, så jag kan tyvärr inte svara på "
                                             "hur vädret är. Be administratören konfigurera tools.weather.",
                                  "No weather service is configured, so I can't tell you the weather. Ask the "
                                  "administrator to configure tools.weather."))
        place = call.args.get("place") or s.default_place
        geo = await self._get(str(s.geocoding_url), {"name": place, "count": 1, "language": call.lang,
                                                     "format": "json"})
        results = geo.get("results") or []
        if not results:
            return ToolResult({"place": place, "found": False},
                              say(call.lang, f"Jag hittar ingen ort som heter {place}.",
                                  f"I can't find a place called {place}."))
        loc = results[0]
        tz = str(call.now.tzinfo)
        fc = await self._get(str(s.forecast_url), {
            "latitude": loc["latitude"], "longitude": loc["longitude"],
            "current": "temperature_2m,weather_code,wind_speed_10m",
            "daily": "weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum",
            "wind_speed_unit": "ms", "timezone": tz, "forecast_days": s.forecast_days})
        name = loc.get("name") or place
        today = call.now.date()
        want = date.fromisoformat(call.args["date"]) if call.args.get("date") else today
        daily = fc.get("daily") or {}
        days = daily.get("time") or []
        data: dict[str, Any] = {"place": name, "latitude": loc["latitude"], "longitude": loc["longitude"],
                                "date": want.isoformat()}
        parts: list[str] = []
        current = fc.get("current") or {}
        if want == today and current:
            t = current.get("temperature_2m")
            desc = describe_code(current.get("weather_code"), call.lang)
            wind = current.get("wind_speed_10m")
            data["current"] = current
            now_sv = f"I {name} är det just nu {number(round(t), 'sv')} grader och {desc}"
            now_en = f"In {name} it is {number(round(t), 'en')} degrees and {desc} right now"
            if wind is not None:
                now_sv += f", vind {number(round(wind), 'sv')} m/s"
                now_en += f", wind {number(round(wind), 'en')} m/s"
            parts.append(say(call.lang, now_sv + ".", now_en + "."))
        if want.isoformat() in days:
            i = days.index(want.isoformat())
            lo, hi = daily["temperature_2m_min"][i], daily["temperature_2m_max"][i]
            rain = (daily.get("precipitation_sum") or [None] * len(days))[i]
            desc = describe_code(daily["weather_code"][i], call.lang)
            data["day"] = {"min": lo, "max": hi, "code": daily["weather_code"][i], "precipitation_mm": rain}
            when = day_phrase(want, today, call.lang)
            sv = f"{when.capitalize()} i {name}: {desc}, {number(round(lo))} till {number(round(hi))} grader"
            lo_en, hi_en = number(round(lo), "en"), number(round(hi), "en")
            en = f"{when.capitalize()} in {name}: {desc}, {lo_en} to {hi_en} degrees"
            if rain:
                sv += f", {number(round(rain, 1))} mm nederbörd"
                en += f", {number(round(rain, 1), 'en')} mm of precipitation"
            parts.append(say(call.lang, sv + ".", en + "."))
        elif not parts:
            parts.append(say(call.lang, f"Jag har bara prognos {s.forecast_days} dagar framåt.",
                             f"I only have a forecast {s.forecast_days} days ahead."))
        return ToolResult(data, " ".join(parts))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
