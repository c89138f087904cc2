"""CLI commands of the content screens: `alice eval pii|injection`, `alice guard train-injection`.

Plain functions with typer annotations, registered in alice/cli.py. Heavy imports happen inside
the functions so that `alice --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["eval_injection", "eval_pii", "guard_app", "train_injection"]

guard_app = typer.Typer(help="Guardian: content screens and their models.", no_args_is_help=True)


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def eval_pii(
    data: Annotated[Path, typer.Option("--data", help="Presidio-format JSON, or a personnummer list")],
    json_: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    errors: Annotated[int, typer.Option(help="also list up to N misses and false positives")] = 0,
) -> None:
    """Per-entity precision/recall of PII detection on span-labelled data."""
    import orjson
    from rich.console import Console
    from rich.table import Table

    from alice.guard._pii_eval import evaluate, load_examples

    report = evaluate(load_examples(data), max_errors=errors)
    result = report.as_dict()
    if errors:
        result["errors"] = report.errors
    if json_:
        typer.echo(orjson.dumps(result).decode())
        return
    table = Table(title=f"PII detection on {data.name} ({result['n']} texts, matching by overlap)")
    for col in ("entity", "precision", "recall", "support", "tp", "fp", "fn"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for ent, m in result["per_entity"].items():
        table.add_row(ent, _fmt(m["precision"]), _fmt(m["recall"]), str(m["support"]), str(m["tp"]), str(m["fp"]),
                      str(m["fn"]))
    ov, ex = result["overall"], result["overall_excluding_undetected"]
    table.add_row("overall", _fmt(ov["precision"]), _fmt(ov["recall"]), "", "", "", "", style="bold")
    table.add_row("overall (detectable only)", _fmt(ex["precision"]), _fmt(ex["recall"]), "", "", "", "", style="bold")
    console = Console()
    console.print(table)
    console.print(f"PERSON detector: {result['person_detector']}. Detectable-only row: {ex['note']}.")
    neg = result["texts_without_pii"]
    if neg["n"]:
        console.print(f"Texts without any PII of ours: {neg['n']}, of which flagged: {neg['flagged']}.")
    if result["ignored_gold_labels"]:
        console.print("Gold labels with no counterpart (ignored): "
                      + ", ".join(f"{k} {v}" for k, v in result["ignored_gold_labels"].items()))
    lat = result["latency_us"]
    console.print(f"detect() latency per text: p50 {lat['p50']} µs, p95 {lat['p95']} µs (CPU p50 {lat['cpu_p50']} µs)")
    for e in result.get("errors", []):
        console.print(f"[{e['kind']}] {e['entity']} {e['value']!r} in {e['text'][:100]!r}")


def eval_injection(
    data: Annotated[list[Path], typer.Option("--data", help="labelled or all-attack set (repeatable)")],
    safe: Annotated[Optional[list[Path]], typer.Option("--safe", help="benign set (repeatable)")] = None,  # noqa: UP045
    json_: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    no_classifier: Annotated[bool, typer.Option("--no-classifier", help="patterns only")] = False,
    threshold: Annotated[Optional[float], typer.Option(help="override the shipped threshold")] = None,  # noqa: UP045
) -> None:
    """Recall on injection sets and false-positive rate on benign sets, with per-request latency."""
    import orjson
    from rich.console import Console
    from rich.table import Table

    from alice.guard._inj_eval import BENIGN, INJECTION, evaluate, load_samples
    from alice.guard.injection import Screen

    sets = {p.name: load_samples(p, default=INJECTION) for p in data}
    for p in safe or []:
        sets[f"{p.name} (safe)"] = load_samples(p, default=BENIGN)
    result = evaluate(sets, Screen(use_classifier=not no_classifier, threshold=threshold))
    if json_:
        typer.echo(orjson.dumps(result).decode())
        return
    table = Table(title="Prompt-injection screen" + (" (patterns only)" if no_classifier else
                                                    f" (threshold {result['threshold']})"))
    for col in ("set", "n", "injections", "recall", "benign", "false pos.", "harmful flagged", "p50 ms"):
        table.add_column(col, justify="left" if col == "set" else "right")
    for name, s in result["sets"].items():
        table.add_row(name, str(s["n"]), str(s["injections"]), _fmt(s["recall"]), str(s["benign"]),
                      _fmt(s["false_positive_rate"]), _fmt(s.get("harmful_flagged_rate")), _fmt(s["latency_ms_p50"]))
    table.add_row("overall", str(result["n"]), str(result["injections"]), _fmt(result["recall"]),
                  str(result["benign"]), _fmt(result["false_positive_rate"]),
                  _fmt(result.get("harmful_not_injection_flagged_rate")), _fmt(result["latency_ms_p50"]), style="bold")
    console = Console()
    console.print(table)
    console.print(f"Pattern layer p50: {result['pattern_layer_us_p50']} µs per text (CPU "
                  f"{result['pattern_layer_cpu_us_p50']} µs). {result['latency_note']}.")


@guard_app.command("train-injection")
def train_injection(
    examples: Annotated[Optional[Path], typer.Option(help="training YAML (default: the shipped one)")] = None,  # noqa: UP045
    out: Annotated[Optional[Path], typer.Option(help="weights JSON (default: the shipped one)")] = None,  # noqa: UP045
    lam: Annotated[float, typer.Option(help="L2 strength")] = 0.01,
    target_fpr: Annotated[float, typer.Option(help="cross-validated false-positive rate to calibrate to")] = 0.03,
) -> None:
    """Retrain the injection classifier from the shipped examples (needs the e5 embedder)."""
    from alice.guard._inj_classifier import DEFAULT_EXAMPLES, DEFAULT_WEIGHTS, train

    report = train(examples=examples or DEFAULT_EXAMPLES, out=out or DEFAULT_WEIGHTS, lam=lam, target_fpr=target_fpr)
    typer.echo(report.summary())
