"""CLI: `alice cache stats|purge|warm`, `alice eval cache`, `alice bench cache`.

`stats` and `purge` talk to a running Alice (GET /api/monitoring/cache, POST /api/cache/purge);
when none answers, they open the configured store directly (SQLite file or Redis). `warm`
sends prompts through a running Alice, so the answers land in its cache as any request's would.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

__all__ = ["bench_cache", "cache_app", "eval_cache"]

cache_app = typer.Typer(help="Inspect, purge and warm the response cache.", no_args_is_help=True)

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file")]  # noqa: UP045
UrlOpt = Annotated[Optional[str], typer.Option(help="a running Alice (default: from the config)")]  # noqa: UP045
KeyOpt = Annotated[Optional[str], typer.Option("--api-key", envvar="ALICE_API_KEY", help="bearer key")]  # noqa: UP045


def _config(path: Path | None) -> Any:
    from alice.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _settings(cfg: Any) -> Any:
    from alice.cache.settings import load_settings

    try:
        return load_settings(cfg.cache)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _url(cfg: Any, url: str | None) -> str:
    return (url or f"http://{cfg.server.host}:{cfg.server.port}").rstrip("/")


def _headers(api_key: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {api_key}"} if api_key else {}


async def _http(method: str, url: str, api_key: str | None, **kw: Any) -> Any:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=30, connect=2)
    async with aiohttp.ClientSession(timeout=timeout) as s, s.request(method, url, headers=_headers(api_key),
                                                                      **kw) as r:
        body = await r.read()
        if r.status >= 400:
            raise RuntimeError(f"{method} {url}: HTTP {r.status}: {body[:300].decode(errors='replace')}")
        return json.loads(body)


def _offline_cache(cfg: Any) -> Any:
    from alice.cache.engine import SmartCache
    from alice.profiles import get_profile

    settings = _settings(cfg).model_copy(update={"semantic": _settings(cfg).semantic.model_copy(
        update={"assistant": False, "openai": False, "models": {}})})
    return SmartCache(settings, get_profile(cfg.profile), state_dir=Path(cfg.state.dir),
                      redis_url=cfg.state.redis_url)


@cache_app.command("stats")
def stats(config: ConfigOpt = None, url: UrlOpt = None, api_key: KeyOpt = None) -> None:
    """Counters per tier, sizes and bands, as JSON (from a running Alice, else from the store)."""
    import aiohttp

    cfg = _config(config)
    try:
        out = asyncio.run(_http("GET", _url(cfg, url) + "/api/monitoring/cache", api_key))
    except (aiohttp.ClientConnectionError, TimeoutError):
        async def offline() -> dict[str, Any]:
            cache = _offline_cache(cfg)
            await cache.start()
            try:
                return {"offline": True, **cache.stats()}
            finally:
                await cache.close()

        out = asyncio.run(offline())
    typer.echo(json.dumps(out, indent=2, ensure_ascii=False))


@cache_app.command("purge")
def purge(
    tenant: Annotated[Optional[str], typer.Option(help="only this tenant's namespace")] = None,  # noqa: UP045
    config: ConfigOpt = None, url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Drop cached answers: one tenant's, or all."""
    import aiohttp

    cfg = _config(config)
    target = _url(cfg, url) + "/api/cache/purge" + (f"?tenant={tenant}" if tenant else "")
    try:
        out = asyncio.run(_http("POST", target, api_key))
    except (aiohttp.ClientConnectionError, TimeoutError):
        async def offline() -> dict[str, Any]:
            cache = _offline_cache(cfg)
            await cache.start()
            try:
                ns = cache.namespace(tenant) if tenant else None
                return {"offline": True, "purged": await cache.purge(ns), "namespace": ns}
            finally:
                await cache.close()

        out = asyncio.run(offline())
    typer.echo(json.dumps(out, ensure_ascii=False))


def _prompts(path: Path) -> list[list[dict[str, Any]]]:
    """One prompt a line; a JSON line may be {"prompt": …} or {"messages": […]}."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            row = json.loads(line)
            out.append(row["messages"] if "messages" in row else [{"role": "user", "content": row["prompt"]}])
        else:
            out.append([{"role": "user", "content": line}])
    return out


async def _warm(base: str, api_key: str | None, model: str, prompts: list[list[dict[str, Any]]],
                budget: int, concurrency: int) -> dict[str, Any]:
    import aiohttp

    used = 0
    counts = {"sent": 0, "already_cached": 0, "failed": 0, "skipped_budget": 0}
    lock = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=300, connect=2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def one(messages: list[dict[str, Any]]) -> None:
            nonlocal used
            async with lock:
                if used >= budget:
                    counts["skipped_budget"] += 1
                    return
                counts["sent"] += 1
                async with session.post(base + "/v1/chat/completions", headers=_headers(api_key),
                                        json={"model": model, "messages": messages}) as r:
                    body = await r.read()
                    if r.status != 200:
                        counts["failed"] += 1
                        return
                    if r.headers.get("x-alice-cache", "miss") != "miss":
                        counts["already_cached"] += 1
                        return
                    usage = json.loads(body).get("usage") or {}
                    used += int(usage.get("total_tokens") or 0)

        await asyncio.gather(*(one(m) for m in prompts))
    return {**counts, "tokens_used": used, "token_budget": budget}


@cache_app.command("warm")
def warm(
    file: Annotated[Path, typer.Argument(help="prompts: one a line, or JSON lines with prompt / messages")],
    model: Annotated[str, typer.Option(help="public model to ask")] = "chat",
    budget_tokens: Annotated[int, typer.Option(help="stop sending once this many tokens were spent")] = 100_000,
    concurrency: int = 4,
    config: ConfigOpt = None, url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Fill the cache by asking a running Alice each prompt, within a token budget."""
    cfg = _config(config)
    out = asyncio.run(_warm(_url(cfg, url), api_key, model, _prompts(file), budget_tokens, concurrency))
    typer.echo(json.dumps(out))


def eval_cache(
    pairs: Annotated[Path, typer.Option("--pairs", help="SweParaphrase jsonl, PAWS tsv, GPTCache json, pairs jsonl")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    curve: Annotated[bool, typer.Option(help="also compute the threshold curve")] = True,
    config: ConfigOpt = None,
) -> None:
    """Precision, recall and false-hit rate of the cache on labelled pairs, at the configured settings."""
    from alice.cache.evaluate import evaluate_pairs, load_pairs
    from alice.profiles import get_profile

    cfg = _config(config)
    result = evaluate_pairs(load_pairs(pairs), _settings(cfg), get_profile(cfg.profile), curve=curve)
    result["file"] = str(pairs)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"{pairs}: {result['n_pairs']} pairs ({result['positives']} same, {result['negatives']} different)")
    typer.echo(f"  precision {result['precision']}  recall {result['recall']}  "
               f"false-hit rate {result['false_hit_rate']}  (served {result['served']})")
    typer.echo(f"  gate rejections: {result['gate_rejections']}")
    for row in result.get("curve", []):
        typer.echo(f"  golden_close ≥ {row['golden_close_floor']:.2f}: precision {row['precision']}  "
                   f"recall {row['recall']}  false-hit rate {row['false_hit_rate']}")


def bench_cache(
    n: Annotated[int, typer.Option(help="requests in the trace")] = 3000,
    seed: int = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    soak: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="instead: drive the cache this many seconds with distinct prompts, sample bytes and RSS")] = None,
    sample_every: Annotated[float, typer.Option(help="soak: seconds between samples")] = 60.0,
    docs: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="soak: write the table into this markdown file (section cache-soak)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Replay a generated Swedish assistant trace: hit rate, false hits, latency per tier (or --soak)."""
    from alice.cache.bench import bench_cache_trace, miss_overhead
    from alice.profiles import get_profile

    cfg = _config(config)
    settings, profile = _settings(cfg), get_profile(cfg.profile)
    if soak is not None:
        _soak(settings, profile, soak, sample_every, docs, as_json)
        return
    result = bench_cache_trace(settings, profile, n=n, seed=seed)
    result["openai_miss_overhead"] = miss_overhead(settings, profile)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"trace: {n} requests, hit rate {result['hit_rate']:.1%} {result['served']}, "
               f"false hits {result['false_hits'] or 0} ({result['false_hit_share_of_served']} of served)")
    for tier, lat in result["latency"].items():
        typer.echo(f"  {tier:9s} n={lat['n']:5d}  p50 {lat['p50_ms']} ms  p95 {lat['p95_ms']} ms")
    for label, lat in result["openai_miss_overhead"].items():
        typer.echo(f"  OpenAI-surface miss, {label}: p50 {lat['p50_ms']} ms  p95 {lat['p95_ms']} ms")


def _soak(settings: Any, profile: Any, seconds: float, sample_every: float, docs: Path | None,
          as_json: bool) -> None:
    from dataclasses import asdict
    from datetime import date

    from alice.cache.engine import SmartCache
    from alice.cache.soak import markdown, soak

    async def run() -> Any:
        cache = SmartCache(settings.model_copy(update={"store": "memory", "enabled": True}), profile)
        await cache.start()
        try:
            return await soak(cache, seconds, sample_s=sample_every)
        finally:
            await cache.close()

    res = asyncio.run(run())
    command = f"alice bench cache --soak {seconds:g} --sample-every {sample_every:g}"
    command += f" --docs {docs}" if docs else ""
    table = markdown(res, command, date.today().isoformat())
    if docs is not None:
        from alice.bench.report import write_section

        write_section(docs, "cache-soak", table)
    if as_json:
        typer.echo(json.dumps({**asdict(res), "within_budget": res.within_budget}))
    else:
        typer.echo(table)
    if not res.within_budget:
        raise typer.Exit(1)
