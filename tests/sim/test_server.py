"""Every behaviour over real HTTP on loopback (in-process server)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
import pytest

from alice.sim import BEHAVIOURS, DEFAULT_ANSWER, STATE_KEY
from tests.sim.conftest import read_until_quiet, request_tasks, sse_data, sse_text

QUIET = 0.2  # "nothing arrives" means nothing within this long


# --- healthy answers --------------------------------------------------------------------------


async def test_ok_non_streaming_is_a_full_chat_completion(sim):
    status, headers, raw = await sim.chat("ok:primary", content="tre ord här")
    assert status == 200 and headers["content-type"] == "application/json"
    body = orjson.loads(raw)
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "ok:primary"
    assert body["choices"] == [{"index": 0, "message": {"role": "assistant", "content": DEFAULT_ANSWER},
                                "logprobs": None, "finish_reason": "stop"}]
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 20, "total_tokens": 23}


async def test_ids_differ_between_requests(sim):
    ids = {orjson.loads((await sim.chat("ok"))[2])["id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("include_usage", [False, True])
async def test_ok_streaming_wire_shape(sim, include_usage):
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    status, headers, raw = await sim.chat("ok", stream=True, **extra)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert raw.endswith(b"data: [DONE]\n\n")
    events = sse_data(raw)
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    chunks = [orjson.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content) == 20  # one word per delta
    assert sse_text(events) == DEFAULT_ANSWER
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finish[-1] == "stop" and set(finish[:-1]) == {None}
    if include_usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 20
    else:
        assert all("usage" not in c for c in chunks)


async def test_custom_answer(make_sim):
    sim = await make_sim(answer="Bara detta.")
    assert orjson.loads((await sim.chat("ok"))[2])["choices"][0]["message"]["content"] == "Bara detta."
    assert sse_text(sse_data((await sim.chat("ok", stream=True))[2])) == "Bara detta."


@pytest.mark.parametrize("stream", [False, True])
async def test_echo_repeats_the_last_user_message(sim, stream):
    status, _, raw = await sim.chat("echo:x", stream=stream, content="Vad är klockan i Umeå?")
    assert status == 200
    text = sse_text(sse_data(raw)) if stream else orjson.loads(raw)["choices"][0]["message"]["content"]
    assert text == "Vad är klockan i Umeå?"


async def test_latency_delays_every_attempt(make_sim):
    sim = await make_sim(latency_ms=150)
    for model in ("ok", "503"):
        t0 = time.monotonic()
        await sim.chat(model)
        assert time.monotonic() - t0 >= 0.14


@pytest.mark.parametrize("stream", [False, True])
async def test_token_rate_paces_generation(make_sim, stream):
    sim = await make_sim(tokens_per_s=40, answer="a b c d e")  # 5 tokens at 25 ms
    t0 = time.monotonic()
    status, _, raw = await sim.chat("ok", stream=stream)
    assert status == 200 and time.monotonic() - t0 >= 0.12
    assert (sse_text(sse_data(raw)) if stream else orjson.loads(raw)["choices"][0]["message"]["content"]) == "a b c d e"


async def test_models_and_health(sim):
    async with sim.session.get(sim.url + "/v1/models") as r:
        models = orjson.loads(await r.read())
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == list(BEHAVIOURS)
    async with sim.session.get(sim.url + "/health") as r:
        assert r.status == 200 and orjson.loads(await r.read()) == {"status": "ok"}


# --- request errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o", "ok@name", ""])
async def test_unknown_model_is_404_model_not_found(sim, model):
    status, _, raw = await sim.chat(model)
    assert status == 404
    assert orjson.loads(raw)["error"]["code"] == "model_not_found"


async def test_bad_bodies_are_400(sim):
    async with sim.session.post(sim.url + "/v1/chat/completions", data=b"{not json") as r:
        assert r.status == 400 and orjson.loads(await r.read())["error"]["type"] == "invalid_request_error"
    async with sim.session.post(sim.url + "/v1/chat/completions", json={"model": "ok"}) as r:
        assert r.status == 400
    async with sim.session.post(sim.url + "/v1/chat/completions", json=["ok"]) as r:
        assert r.status == 400


# --- error statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_429_retry_after(make_sim, stream):
    sim = await make_sim(retry_after_s=2)
    for _ in range(2):  # always 429, not only the first time
        status, headers, raw = await sim.chat("429-retry-after", stream=stream)
        assert status == 429 and headers["retry-after"] == "2"
        err = orjson.loads(raw)["error"]
        assert err["code"] == "rate_limit_exceeded" and err["message"]


@pytest.mark.parametrize(("seconds", "header"), [(0.5, "0.5"), (0, "0"), (1e6, "1000000")])
async def test_retry_after_formatting(make_sim, seconds, header):
    sim = await make_sim(retry_after_s=seconds)
    assert (await sim.chat("429-retry-after"))[1]["retry-after"] == header


async def test_429_without_retry_after(sim):
    status, headers, raw = await sim.chat("429")
    assert status == 429 and "retry-after" not in headers
    assert orjson.loads(raw)["error"]["code"] == "rate_limit_exceeded"


async def test_503_always(sim):
    for _ in range(3):
        status, _, raw = await sim.chat("503", stream=True)
        assert status == 503 and orjson.loads(raw)["error"]["type"] == "server_error"


async def test_500_once_per_distinct_body_then_success(sim):
    assert (await sim.chat("500-once", content="a"))[0] == 500
    assert (await sim.chat("500-once", content="a"))[0] == 200
    assert (await sim.chat("500-once", content="a"))[0] == 200  # stays healthy for this body
    assert (await sim.chat("500-once", content="b"))[0] == 500  # another body fails once too
    assert (await sim.chat("500-once:x", content="a"))[0] == 500  # the model name is part of the body
    await sim.reset()
    status, _, raw = await sim.chat("500-once", content="a")
    assert status == 500 and orjson.loads(raw)["error"]["type"] == "server_error"


async def test_500_once_key_ignores_json_key_order(sim):
    url = sim.url + "/v1/chat/completions"
    a = b'{"model":"500-once","messages":[{"role":"user","content":"k"}]}'
    b = b'{"messages":[{"content":"k","role":"user"}],  "model":"500-once"}'
    async with sim.session.post(url, data=a) as r:
        assert r.status == 500
    async with sim.session.post(url, data=b) as r:
        assert r.status == 200


async def test_flap_is_503_for_its_window_then_healthy(make_sim):
    sim = await make_sim(flap_window_s=0.3)
    assert (await sim.chat("flap"))[0] == 503
    assert (await sim.chat("flap"))[0] == 503
    assert (await sim.chat("flap:b"))[0] == 503  # each name has its own window, opened by its first request
    await asyncio.sleep(0.35)
    assert (await sim.chat("flap"))[0] == 200
    assert (await sim.chat("flap", stream=True))[2].endswith(b"data: [DONE]\n\n")
    await sim.reset()  # restarts the window
    assert (await sim.chat("flap"))[0] == 503


async def test_context_length(sim):
    status, _, raw = await sim.chat("context-length")
    assert status == 400
    err = orjson.loads(raw)["error"]
    assert err["code"] == "context_length_exceeded" and err["type"] == "invalid_request_error"
    assert err["param"] == "messages" and "maximum context length is 4096" in err["message"]


async def test_content_filter(sim):
    status, _, raw = await sim.chat("content-filter", stream=True)
    assert status == 400
    err = orjson.loads(raw)["error"]
    assert err["code"] == "content_filter" and "content management policy" in err["message"]


# --- connection faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_reset_closes_without_a_response(sim, stream):
    with pytest.raises(aiohttp.ClientConnectionError):
        await sim.chat("reset", stream=stream)
    assert (await sim.chat("ok"))[0] == 200  # the server itself is fine


async def test_reset_is_a_tcp_rst(sim):
    host, port = sim.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b'{"model":"reset","messages":[]}'
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(), 2)
    writer.close()


async def test_hang_never_answers_and_ends_when_the_client_leaves(sim):
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.chat("hang"), QUIET)
    assert request_tasks() == 1  # the hang is still waiting...
    for _ in range(50):  # up to 1 s
        if not request_tasks():
            break
        await asyncio.sleep(0.02)
    assert request_tasks() == 0  # ...until it notices the client closed the connection


async def test_slow_ttft_delays_the_headers(make_sim):
    sim = await make_sim(ttft_ms=150)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.chat("slow-ttft", stream=True), 0.1)
    t0 = time.monotonic()
    async with sim.post("slow-ttft", stream=True) as r:
        assert time.monotonic() - t0 >= 0.14  # headers only after ttft
        assert r.status == 200
        assert sse_text(sse_data(await r.read())) == DEFAULT_ANSWER
    status, _, raw = await sim.chat("slow-ttft")
    assert status == 200 and orjson.loads(raw)["choices"][0]["message"]["content"] == DEFAULT_ANSWER


async def test_stream_cut_drops_the_connection_mid_answer(sim):
    async with sim.post("stream-cut", stream=True) as r:
        assert r.status == 200
        data = b""
        with pytest.raises(aiohttp.ClientPayloadError):
            async for chunk in r.content.iter_any():
                data += chunk
    events = sse_data(data)
    assert "[DONE]" not in events
    text = sse_text(events)  # every frame that arrived is whole and valid
    assert text and DEFAULT_ANSWER.startswith(text) and text != DEFAULT_ANSWER
    assert len(events) == 1 + 10  # the role chunk and half of the 20 words


async def test_stream_cut_non_streaming_body_breaks_off(sim):
    async with sim.post("stream-cut") as r:
        assert r.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await r.read()


async def test_stream_stall_goes_silent_mid_answer(sim):
    async with sim.post("stream-stall", stream=True) as r:
        assert r.status == 200
        events = sse_data(await read_until_quiet(r, QUIET))
    assert len(events) == 11 and "[DONE]" not in events
    assert DEFAULT_ANSWER.startswith(sse_text(events)) and sse_text(events) != DEFAULT_ANSWER


async def test_stream_stall_resumes_after_stall_s(make_sim):
    sim = await make_sim(stall_s=0.15)
    t0 = time.monotonic()
    status, _, raw = await sim.chat("stream-stall", stream=True)
    assert status == 200 and time.monotonic() - t0 >= 0.14
    assert sse_text(sse_data(raw)) == DEFAULT_ANSWER and raw.endswith(b"data: [DONE]\n\n")


async def test_stream_stall_non_streaming(make_sim):
    sim = await make_sim(stall_s=0.15)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.chat("stream-stall"), 0.1)
    status, _, raw = await sim.chat("stream-stall")
    assert status == 200 and orjson.loads(raw)["choices"][0]["message"]["content"] == DEFAULT_ANSWER


async def test_malformed_chunk_mid_stream(sim):
    status, _, raw = await sim.chat("malformed-chunk", stream=True)
    assert status == 200
    events = sse_data(raw)
    assert events.index("{not json") == 11  # after the role chunk and half the words
    assert events[-1] == "[DONE]"
    assert sse_text([e for e in events if e != "{not json"]) == DEFAULT_ANSWER


async def test_malformed_non_streaming_body_is_not_json(sim):
    status, headers, raw = await sim.chat("malformed-chunk")
    assert status == 200 and headers["content-type"] == "application/json"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)


async def test_no_done_finishes_the_answer_but_holds_the_stream_open(sim):
    async with sim.post("no-done", stream=True, stream_options={"include_usage": True}) as r:
        events = sse_data(await read_until_quiet(r, QUIET))
        assert not r.content.at_eof()  # still open: the reader has to finalise it
    assert "[DONE]" not in events
    assert sse_text(events) == DEFAULT_ANSWER
    chunks = [orjson.loads(e) for e in events]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["total_tokens"] > 0


async def test_no_done_ends_cleanly_after_the_hold(make_sim):
    sim = await make_sim(stall_s=0.1)
    status, _, raw = await sim.chat("no-done", stream=True)
    assert status == 200 and b"[DONE]" not in raw and sse_text(sse_data(raw)) == DEFAULT_ANSWER
    status, _, raw = await sim.chat("no-done")  # non-streaming has no [DONE] to leave out: healthy
    assert status == 200 and orjson.loads(raw)["choices"][0]["message"]["content"] == DEFAULT_ANSWER


# --- control -------------------------------------------------------------------------------------


async def test_log_records_every_attempt_and_reset_clears_it(sim):
    await sim.chat("ok:a", headers={"x-request-id": "req-1"})
    await sim.chat("503", stream=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await sim.chat("reset")
    await sim.chat("nope")
    log = await sim.log()
    assert [(a["model"], a["behaviour"], a["stream"], a["status"]) for a in log] == [
        ("ok:a", "ok", False, 200), ("503", "503", True, 503), ("reset", "reset", False, None),
        ("nope", None, False, 404)]
    assert log[0]["request_id"] == "req-1" and log[1]["request_id"] is None
    assert all(isinstance(a["body_hash"], str) and len(a["body_hash"]) == 16 for a in log)
    assert log[0]["t"] <= log[1]["t"] <= log[3]["t"] and abs(log[0]["t"] - time.time()) < 5
    assert list(sim.app[STATE_KEY].attempts) == log  # in-process users see the same state
    await sim.reset()
    assert await sim.log() == []


async def test_log_status_follows_the_stateful_outcome(make_sim):
    sim = await make_sim(flap_window_s=0.1)
    await sim.chat("500-once")
    await sim.chat("500-once")
    await sim.chat("flap")
    await asyncio.sleep(0.12)
    await sim.chat("flap")
    assert [a["status"] for a in await sim.log()] == [500, 200, 503, 200]


async def test_no_log(make_sim):
    sim = await make_sim(log_attempts=False)
    assert (await sim.chat("500-once"))[0] == 500  # still keyed by body without the log
    assert (await sim.chat("500-once"))[0] == 200
    assert await sim.log() == []
