import pytest
from aiohttp import web

from alice.tools.base import ToolCall, ToolError
from alice.tools.home import HomeSettings, LightsTool


@pytest.fixture
async def fake_home_assistant():
    calls: list[tuple[str, str, dict]] = []

    async def service(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer secret-token":
            return web.json_response({"message": "unauthorized"}, status=401)
        body = await request.json()
        calls.append((request.match_info["service"], request.headers["Authorization"], body))
        return web.json_response([{"entity_id": body["entity_id"], "state": "on"}])

    app = web.Application()
    app.router.add_post("/api/services/light/{service}", service)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", calls
    await runner.cleanup()


@pytest.mark.integration
async def test_lights_through_the_home_assistant_rest_api(fake_home_assistant, now, monkeypatch) -> None:
    url, calls = fake_home_assistant
    monkeypatch.setenv("TEST_HA_TOKEN", "secret-token")
    tool = LightsTool(HomeSettings(url=url, token_env="TEST_HA_TOKEN",
                                   rooms={"kök": "light.kitchen", "vardagsrum": "light.living"}))
    on = await tool.run(ToolCall("a", tool.args_from("tänd i köket", {"room": "kök"}, now=now, lang="sv"), now))
    assert on.text == "Jag har tänt i köket." and calls[-1] == ("turn_on", "Bearer secret-token",
                                                               {"entity_id": "light.kitchen"})
    off = await tool.run(ToolCall("a", tool.args_from("släck i vardagsrummet", {"room": "vardagsrum"}, now=now,
                                                      lang="sv"), now))
    assert off.text == "Jag har släckt i vardagsrummet." and calls[-1][0] == "turn_off"
    dim = await tool.run(ToolCall("a", tool.args_from("dimma köket till 30 procent", {"room": "kök", "percent": 30},
                                                      now=now, lang="sv"), now))
    assert calls[-1][2] == {"entity_id": "light.kitchen", "brightness_pct": 30} and "30 procent" in dim.text
    everywhere = await tool.run(ToolCall("a", {"action": "off", "all": True}, now, "en"))
    assert calls[-1][2] == {"entity_id": "all"} and everywhere.text == "I've turned the lights off everywhere."
    monkeypatch.setenv("TEST_HA_TOKEN", "wrong")
    with pytest.raises(ToolError):
        await tool.run(ToolCall("a", {"action": "on", "room": "kök"}, now))
    await tool.close()


async def test_lights_without_home_assistant_or_room(now) -> None:
    assert (await LightsTool(HomeSettings()).run(ToolCall("a", {"action": "on"}, now))).data == {"configured": False}
    tool = LightsTool(HomeSettings(url="http://127.0.0.1:9"))
    assert tool.missing({"action": "on"}) == ["room"] and tool.question("room", "sv") == "Vilket rum?"
