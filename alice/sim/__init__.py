"""Fault-injecting OpenAI-compatible upstream for tests and benchmarks (`alice sim`).

The requested `model` picks the behaviour: `NAME`, or `NAME:label` where the label only tells attempts
apart in the log (two deployments can share a behaviour). Any other name is a 404 `model_not_found`
(`ok@x` too: `:` is the only separator).

  ok               the healthy answer: always the same full text (`SimSettings.answer`), so truncation shows
  echo             healthy; the answer is the last user message
  slow-ttft        waits `ttft_ms` before the response headers, then answers
  429              429 `rate_limit_exceeded`, no Retry-After
  429-retry-after  429 with `Retry-After: retry_after_s`, on every attempt (it never recovers by itself:
                   a test wants a deterministic count of honoured Retry-Afters)
  500              always 500
  500-once         500 the first time a request body is seen (key: the body's JSON with sorted keys, so
                   the model name is part of it), healthy for that body afterwards, until /control/reset
  503              always 503
  flap             503 for `flap_window_s` from its first request (per model name, since start or reset),
                   healthy afterwards
  reset            closes the connection with a TCP RST before any response
  hang             accepts and never answers (the attempt ends when the client leaves)
  stream-cut       streams the role chunk and half the words, then closes the connection: no stop, no [DONE].
                   Non-streaming: the body breaks off half-way (fewer bytes than Content-Length)
  stream-stall     like stream-cut, but goes silent for `stall_s` instead, then finishes normally.
                   Non-streaming: half the body, `stall_s` of silence, the rest
  malformed-chunk  a `data: {not json` frame after half the words, then the rest and [DONE].
                   Non-streaming: a 200 whose body is invalid JSON
  no-done          the whole answer and finish_reason (and usage), no [DONE]; the stream is held open for
                   `stall_s`, then ends. Non-streaming: healthy
  context-length   400 `context_length_exceeded` (param `messages`), OpenAI's message
  content-filter   400 `content_filter` (param `prompt`), Azure-style "content management policy" message

`latency_ms` is waited before acting on every attempt; `tokens_per_s` paces stream deltas, and delays
a non-streaming answer by the time its tokens would take. Tokens are words (one delta per word with
its leading whitespace); usage counts words of all message contents (prompt) and of the answer
(completion): an approximation, not a tokenizer. Per-request overrides by header are not supported.

Control routes: `GET /control/log` is a JSON list of every attempt, oldest first, bounded to
`log_max`: {t (unix time of arrival), model, behaviour (None: unknown model or bad body), stream,
status (HTTP status sent, None for reset/hang), request_id (x-request-id header), body_hash}, plus
`messages` (as received) when started with `--log-messages`.
`POST /control/reset` clears the log, the `500-once` memory and the `flap` clocks.
"""

from alice.sim.behaviours import BEHAVIOURS, behaviour_of
from alice.sim.server import STATE_KEY, build_app, serve
from alice.sim.settings import DEFAULT_ANSWER, SimSettings

__all__ = ["BEHAVIOURS", "DEFAULT_ANSWER", "STATE_KEY", "SimSettings", "behaviour_of", "build_app", "serve"]
