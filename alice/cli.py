"""`alice …`: a thin shell over library calls."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Alice: Swedish-first assistant orchestrator and OpenAI-compatible LLM gateway.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Check and explain configuration.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate quality on labelled data.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks; results go to docs/benchmarks.md.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")

ConfigPath = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file")]  # noqa: UP045


def _load(path: Path | None):
    from alice.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    config: ConfigPath = None,
    host: Annotated[Optional[str], typer.Option(help="override server.host")] = None,  # noqa: UP045
    port: Annotated[Optional[int], typer.Option(help="override server.port")] = None,  # noqa: UP045
    log_level: str = "info",
) -> None:
    """Start the gateway (embedded defaults: the bundled SmolLM2 model on a managed llama.cpp)."""
    import uvicorn

    from alice.allocator import limit_malloc_arenas
    from alice.app import create_app

    limit_malloc_arenas()
    cfg = _load(config)
    if host:
        cfg.server.host = host
    if port is not None:
        cfg.server.port = port
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = f"http://{cfg.server.host}:{cfg.server.port}"
    model = next(iter(cfg.models), "chat")

    def announce() -> None:
        workers = f", {cfg.server.workers} workers" if cfg.server.workers > 1 else ""
        print(f"\nAlice is listening on {url}  (profile: {cfg.profile}, models: {', '.join(cfg.models)}{workers})")
        print("Try:\n  curl -s " + url + "/v1/chat/completions -H 'content-type: application/json' \\\n"
              f"    -d '{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hej!\"}}]}}'\n",
              flush=True)

    if cfg.server.workers > 1:
        from alice.workers import serve_workers

        announce()
        serve_workers(cfg)
        return
    asgi = create_app(cfg, on_ready=announce)
    uvicorn.run(asgi, host=cfg.server.host, port=cfg.server.port, loop="uvloop", http="httptools",
                lifespan="on", access_log=False, log_level="warning")


@config_app.command("check")
def config_check(path: Annotated[Optional[Path], typer.Argument(help="YAML config file")] = None) -> None:  # noqa: UP045
    """Validate a config file (with ALICE_* overrides applied) and explain what it sets up."""
    cfg = _load(path)
    typer.echo(f"ok: profile {cfg.profile}, {len(cfg.deployments)} deployment(s), {len(cfg.models)} model(s)")
    for public, chain in cfg.models.items():
        typer.echo(f"  {public}: " + " -> ".join(chain))


@app.command()
def sim(
    port: int = 9100,
    host: str = "127.0.0.1",
    latency_ms: float = 0.0,
    tokens_per_s: float = 0.0,
    answer: Annotated[Optional[str], typer.Option(help="text of every healthy answer")] = None,  # noqa: UP045
    flap_window_s: float = 5.0,
    ttft_ms: float = 3000.0,
    stall_s: float = 30.0,
    retry_after_s: float = 1.0,
    no_log: bool = False,
    log_messages: Annotated[bool, typer.Option(help="keep each request's messages in /control/log")] = False,
) -> None:
    """Start the fault-injecting OpenAI-compatible upstream (the model name picks the behaviour)."""
    from alice.sim import server

    server.serve(host=host, port=port, latency_ms=latency_ms, tokens_per_s=tokens_per_s, answer=answer,
                 flap_window_s=flap_window_s, ttft_ms=ttft_ms, stall_s=stall_s, retry_after_s=retry_after_s,
                 log_attempts=not no_log, log_messages=log_messages)


@bench_app.command("overhead")
def bench_overhead(
    requests: int = typer.Option(2000, help="sequential pairs"),
    concurrency: int = 64,
    seconds: float = typer.Option(5.0, help="seconds per wrk round"),
    rounds: int = 2,
    out: Path = Path("docs/benchmarks.md"),
    peer: Annotated[Optional[str], typer.Option(help="also measure a peer: litellm")] = None,  # noqa: UP045
    telemetry_cost: bool = typer.Option(False, help="also run Alice with telemetry off, side by side"),
) -> None:
    """Latency and CPU added by Alice over an instant upstream, side by side in one run."""
    from alice.bench.overhead import run_overhead

    cmd = " ".join(["alice bench overhead", *sys.argv[3:]])
    result = run_overhead(n=requests, concurrency=concurrency, seconds=seconds, rounds=rounds, out=out, command=cmd,
                          peer=peer, telemetry_cost=telemetry_cost)
    typer.echo(result.markdown)


@bench_app.command("soak")
def bench_soak(
    seconds: float = typer.Option(600.0, help="length of the load run"),
    concurrency: int = 16,
    out: Path = Path("docs/benchmarks.md"),
) -> None:
    """A long load run, then an audit: request log rows = /metrics count = requests sent; RSS over time."""
    from alice.bench.soak import run_soak

    cmd = " ".join(["alice bench soak", *sys.argv[3:]])
    typer.echo(run_soak(seconds=seconds, concurrency=concurrency, out=out, command=cmd).markdown)


# --- commands registered by each area (one line each) ---
def _register_areas() -> None:
    """Area commands import their whole area; `serve` and `sim` skip them so they start fast."""
    app.add_typer(__import__("alice.guard.keys_commands", fromlist=["keys_app"]).keys_app, name="keys")
    app.add_typer(__import__("alice.telemetry.commands", fromlist=["log_app"]).log_app, name="log")
    app.command()(__import__("alice.telemetry.commands", fromlist=["report"]).report)
    eval_app.command("pii")(__import__("alice.guard.commands", fromlist=["eval_pii"]).eval_pii)
    eval_app.command("injection")(__import__("alice.guard.commands", fromlist=["eval_injection"]).eval_injection)
    app.add_typer(__import__("alice.guard.commands", fromlist=["guard_app"]).guard_app, name="guard")
    app.add_typer(__import__("alice.cache.commands", fromlist=["cache_app"]).cache_app, name="cache")
    eval_app.command("cache")(__import__("alice.cache.commands", fromlist=["eval_cache"]).eval_cache)
    bench_app.command("cache")(__import__("alice.cache.commands", fromlist=["bench_cache"]).bench_cache)
    eval_app.command("intents")(__import__("alice.nlu.commands", fromlist=["eval_intents"]).eval_intents)
    bench_app.command("embed")(__import__("alice.nlu.commands", fromlist=["bench_embed"]).bench_embed)
    eval_app.command("assistant")(__import__("alice.assistant.commands", fromlist=["eval_assistant"]).eval_assistant)
    bench_app.command("assistant")(__import__("alice.assistant.commands", fromlist=["bench_chat"]).bench_chat)


# `alice serve` / `alice sim` skip the other areas' imports; every other use (incl. tests) gets them all.
if not (len(sys.argv) > 1 and sys.argv[1] in ("serve", "sim")):
    _register_areas()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
