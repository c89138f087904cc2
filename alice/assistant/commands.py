"""`alice eval assistant`: run multi-turn scenarios (see alice.assistant.scenarios)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import orjson
import typer

__all__ = ["bench_chat", "eval_assistant"]


def eval_assistant(
    scenarios: Annotated[Path, typer.Option("--scenarios", help="scenario YAML (example: "
                                                                "alice/assistant/scenarios.yaml)")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Multi-turn scenarios: expected intents, tools, slots and replies, turn by turn."""
    from alice.assistant.scenarios import run_scenarios

    if not scenarios.exists():
        raise typer.BadParameter(f"{scenarios} does not exist", param_hint="--scenarios")
    result = asyncio.run(run_scenarios(scenarios))
    if as_json:
        typer.echo(orjson.dumps(result).decode())
    else:
        typer.echo(f"scenarios {result['passed']}/{result['scenarios']} passed, {result['turns']} turns; "
                   f"intent accuracy {result['intent_accuracy']}, tool accuracy {result['tool_accuracy']}, "
                   f"slot accuracy {result['slot_accuracy']}")
        for r in result["results"]:
            typer.echo(f"  {'PASS' if r['passed'] else 'FAIL'} {r['name']}")
            for f in r["failures"]:
                typer.echo(f"      {f}")
    if result["passed"] != result["scenarios"]:
        raise typer.Exit(1)


def bench_chat(
    embedder: Annotated[list[str], typer.Option(help="embedder(s) to compare")] = ["e5", "static"],  # noqa: B006
    turns: Annotated[int, typer.Option(help="measured turns per embedder")] = 200,
    state_dir: Annotated[Path | None, typer.Option(help="reuse the intent model cache here")] = None,
    url: Annotated[list[str] | None, typer.Option(help="time POST /api/chat on this running Alice instead "
                                                       "(repeat to compare several, interleaved)")] = None,
    key: Annotated[str | None, typer.Option(help="API key for --url (when the gateway has keys)")] = None,
) -> None:
    """Latency of tool-answered /api/chat turns end to end, and of classification after the embedding."""
    from alice.assistant.bench import bench_assistant, bench_http

    if url:
        typer.echo("| url | turns | client p50 ms | client p95 ms | handle_chat p50 ms | handle_chat p95 ms |")
        typer.echo("|---|---|---|---|---|---|")
        for r in bench_http(url, turns, key):
            typer.echo(f"| {r['url']} | {r['turns']} | {r['client_p50_ms']} | {r['client_p95_ms']} "
                       f"| {r['chat_p50_ms']} | {r['chat_p95_ms']} |")
        return

    rows = bench_assistant(embedder, turns, state_dir)
    typer.echo("| embedder | turns | chat p50 ms | chat p95 ms | embed p50 ms | classify p50 ms | classify p95 ms |")
    typer.echo("|---|---|---|---|---|---|---|")
    for r in rows:
        typer.echo(f"| {r['embedder']} | {r['turns']} | {r['chat_p50_ms']} | {r['chat_p95_ms']} | {r['embed_p50_ms']} "
                   f"| {r['classify_p50_ms']} | {r['classify_p95_ms']} |")
