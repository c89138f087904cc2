import pytest
from aiohttp import web

from alice.tools.base import ToolCall
from alice.tools.weather import WeatherSettings, WeatherTool


@pytest.fixture
async def fake_open_meteo(aiohttp_unused_port=None):
    seen: list[dict] = []

    async def geocode(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        if request.query["name"] == "Ingenstans":
            return web.json_response({"results": []})
        return web.json_response({"results": [{"name": request.query["name"], "latitude": 57.7, "longitude": 11.97}]})

    async def forecast(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        return web.json_response({
            "current": {"temperature_2m": 4.6, "weather_code": 3, "wind_speed_10m": 5.2},
            "daily": {"time": ["2026-11-28", "2026-11-29"], "weather_code": [3, 61],
                      "temperature_2m_min": [1.2, 2.0], "temperature_2m_max": [5.4, 7.0],
                      "precipitation_sum": [0.0, 2.4]},
        })

    app = web.Application()
    app.router.add_get("/v1/search", geocode)
    app.router.add_get("/v1/forecast", forecast)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


@pytest.mark.integration
async def test_weather_through_a_local_fake_provider(fake_open_meteo, now) -> None:
    base, seen = fake_open_meteo
    tool = WeatherTool(WeatherSettings(geocoding_url=base + "/v1/search", forecast_url=base + "/v1/forecast"))
    today = await tool.run(ToolCall("a", {"place": "Göteborg"}, now))
    assert today.text == ("I Göteborg är det just nu 5 grader och mulet, vind 5 m/s. "
                          "Idag i Göteborg: mulet, 1 till 5 grader.")
    assert seen[1]["timezone"] == "Europe/Stockholm" and seen[1]["wind_speed_unit"] == "ms"
    tomorrow = await tool.run(ToolCall("a", {"place": "Göteborg", "date": "2026-11-29"}, now))
    assert tomorrow.text == "Imorgon i Göteborg: lätt regn, 2 till 7 grader, 2,4 mm nederbörd."
    missing = await tool.run(ToolCall("a", {"place": "Ingenstans"}, now))
    assert missing.text == "Jag hittar ingen ort som heter Ingenstans."
    assert tool.missing({}) == ["place"] and tool.question("place", "sv") == "För vilken ort?"
    await tool.close()


async def test_without_a_provider_the_answer_says_so_in_swedish(now) -> None:
    tool = WeatherTool(WeatherSettings())
    assert tool.missing({}) == []
    r = await tool.run(ToolCall("a", {"place": "Malmö"}, now))
    assert r.data == {"configured": False} and r.text.startswith("Jag har ingen vädertjänst inställd")
