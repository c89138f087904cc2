"""The sim's HTTP server: OpenAI-compatible routes plus /control/* for tests.

Routes:
  POST /v1/chat/completions   the model name picks the behaviour (see alice/sim/behaviours.py)
  GET  /v1/models             one entry per behaviour
  GET  /health                {"status": "ok"}
  GET  /control/log           JSON list of every attempt (oldest first, at most `log_max`)
  POST /control/reset         clears the log, the `500-once` memory and the `flap` clocks
"""

from __future__ import annotations

import asyncio
import time

import orjson
from aiohttp import web

from alice.sim.behaviours import BEHAVIOURS, STATUS, Call, behaviour_of
from alice.sim.settings import DEFAULT_ANSWER, SimSettings
from alice.sim.state import SimState, body_hash
from alice.sim.wire import error_body, last_user_text, prompt_words, render

__all__ = ["STATE_KEY", "build_app", "serve"]

STATE_KEY = web.AppKey("sim_state", SimState)

_JSON = {"Content-Type": "application/json"}
_MAX_BODY = 64 * 1024**2  # context-length tests send big prompts


def _json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, headers=_JSON)


class _Routes:
    """Request handlers; settings and state are attributes so the hot path does no app lookups."""

    def __init__(self, settings: SimSettings, state: SimState) -> None:
        self.settings = settings
        self.state = state
        created = int(time.time())
        self.models_body = orjson.dumps({"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "alice-sim"} for name in BEHAVIOURS]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        settings, state = self.settings, self.state
        request_id = request.headers.get("x-request-id")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            state.record(model=None, behaviour=None, stream=False, status=400, request_id=request_id, body_hash=None)
            return _json(error_body("The request body is not valid JSON.", "invalid_request_error", None), 400)
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, str) or not isinstance(body.get("messages"), list):  # type: ignore[union-attr]
            state.record(model=None, behaviour=None, stream=False, status=400, request_id=request_id, body_hash=None)
            return _json(error_body("A chat request needs a string 'model' and a list of 'messages'.",
                                    "invalid_request_error", None), 400)
        behaviour = behaviour_of(model)
        stream = body.get("stream") is True
        digest = body_hash(body) if state.log_attempts or behaviour == "500-once" else None
        if behaviour is None:
            state.record(model=model, behaviour=None, stream=stream, status=404, request_id=request_id,
                         body_hash=digest)
            return _json(error_body(f"The model `{model}` does not exist (sim behaviours: {', '.join(BEHAVIOURS)}).",
                                    "invalid_request_error", "model_not_found", "model"), 404)
        action = behaviour
        if behaviour == "500-once" and state.fail_once(digest):  # type: ignore[arg-type]
            action = "500"
        elif behaviour == "flap" and state.flapping(model, settings.flap_window_s):
            action = "503"
        state.record(model=model, behaviour=behaviour, stream=stream, status=STATUS[action], request_id=request_id,
                     body_hash=digest, messages=body["messages"])
        if settings.latency_ms:
            await asyncio.sleep(settings.latency_ms / 1000)
        messages = body["messages"]
        text = last_user_text(messages) if behaviour == "echo" else settings.answer
        options = body.get("stream_options")
        call = Call(request=request, settings=settings, answer=render(model, text), rid=state.next_id(),
                    created=int(time.time()), prompt_tokens=prompt_words(messages), stream=stream,
                    include_usage=isinstance(options, dict) and options.get("include_usage") is True)
        return await BEHAVIOURS[action](call)

    async def models(self, request: web.Request) -> web.Response:
        return _json(self.models_body)

    async def health(self, request: web.Request) -> web.Response:
        return _json(b'{"status":"ok"}')

    async def log(self, request: web.Request) -> web.Response:
        return _json(orjson.dumps(list(self.state.attempts)))

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        return _json(b'{"reset":true}')


def build_app(settings: SimSettings | None = None) -> web.Application:
    """The sim as an aiohttp application, for in-process use (tests) or `serve`."""
    settings = settings or SimSettings()
    state = SimState(log_attempts=settings.log_attempts, log_max=settings.log_max,
                     log_messages=settings.log_messages)
    routes = _Routes(settings, state)
    app = web.Application(client_max_size=_MAX_BODY)
    app[STATE_KEY] = state
    app.router.add_post("/v1/chat/completions", routes.chat)
    app.router.add_get("/v1/models", routes.models)
    app.router.add_get("/health", routes.health)
    app.router.add_get("/control/log", routes.log)
    app.router.add_post("/control/reset", routes.reset)
    return app


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 9100,
    latency_ms: float = 0.0,
    tokens_per_s: float = 0.0,
    answer: str | None = None,
    flap_window_s: float = 5.0,
    ttft_ms: float = 3000.0,
    stall_s: float = 30.0,
    retry_after_s: float = 1.0,
    log_attempts: bool = True,
    log_messages: bool = False,
) -> None:
    """Run the sim until SIGINT/SIGTERM (blocks). `answer=None` keeps the default answer."""
    settings = SimSettings(latency_ms=latency_ms, tokens_per_s=tokens_per_s,
                           answer=DEFAULT_ANSWER if answer is None else answer, flap_window_s=flap_window_s,
                           ttft_ms=ttft_ms, stall_s=stall_s, retry_after_s=retry_after_s, log_attempts=log_attempts,
                           log_messages=log_messages)
    url = f"http://{host}:{port}"
    # No access log (it would halve the throughput); a short shutdown timeout, because `hang` and
    # `stream-stall` attempts may still be open when the sim is stopped.
    web.run_app(build_app(settings), host=host, port=port, access_log=None, shutdown_timeout=0.25,
                handler_cancellation=True, loop=_new_loop(),
                print=lambda _msg: print(f"alice sim listening on {url}", flush=True))
