"""`alice report`: a terminal summary (rich tables) for people without a browser.

Two sources, either or both: the request log (what was recorded, any period), and a running
Alice's monitoring API (live windows, breaker states, SLO burn).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from alice.state.requestlog_store import Query, RequestLogStore

__all__ = ["fetch_api", "render_api", "render_log", "summarise_log"]


def _f(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f} %"


async def summarise_log(store: RequestLogStore, since: float | None) -> dict[str, Any]:
    q = Query(since=since)
    out: dict[str, Any] = {"since": since, "groups": {}}
    for column in ("route", "backend", "status", "cache", "tenant", "intent"):
        out["groups"][column] = [
            {"value": str(r[0]), "requests": int(r[1]), "errors": int(r[2] or 0), "tokens_in": int(r[3]),
             "tokens_out": int(r[4]), "cost": float(r[5]), "mean_ms": float(r[6] or 0),
             "mean_overhead_ms": float(r[7] or 0)}
            for r in await store.group(column, q)
        ]
    out["requests"] = sum(g["requests"] for g in out["groups"]["route"])
    out["errors"] = sum(g["errors"] for g in out["groups"]["route"])
    out["latency_ms"] = {f"p{int(p * 100)}": await store.percentile("total_ms", q, p) for p in (0.5, 0.95, 0.99)}
    out["overhead_ms"] = {f"p{int(p * 100)}": await store.percentile("overhead_ms", q, p) for p in (0.5, 0.95)}
    out["feedback"] = [
        {"route": r[0], "intent": r[1], "tool": r[2], "good": int(r[3]), "bad": int(r[4]), "total": int(r[5])}
        for r in await store.feedback_summary(since)
    ]
    return out


def render_log(summary: dict[str, Any], console: Console) -> None:
    n, errors = summary["requests"], summary["errors"]
    head = Table(title="Request log", show_header=False)
    head.add_row("requests", str(n))
    head.add_row("server errors (5xx)", f"{errors} ({_pct(errors / n if n else None)})")
    lat, ovh = summary["latency_ms"], summary["overhead_ms"]
    head.add_row("latency p50 / p95 / p99 ms", " / ".join(_f(lat[k]) for k in ("p50", "p95", "p99")))
    head.add_row("overhead p50 / p95 ms", " / ".join(_f(ovh[k], 3) for k in ("p50", "p95")))
    console.print(head)
    for column, rows in summary["groups"].items():
        if not rows:
            continue
        t = Table(title=f"by {column}")
        for h in (column, "requests", "5xx", "mean ms", "overhead ms", "tokens in", "tokens out", "cost"):
            t.add_column(h, justify="left" if h == column else "right")
        for r in rows[:15]:
            t.add_row(r["value"] or "—", str(r["requests"]), str(r["errors"]), _f(r["mean_ms"]),
                      _f(r["mean_overhead_ms"], 3), str(r["tokens_in"]), str(r["tokens_out"]), _f(r["cost"], 4))
        console.print(t)
    if summary["feedback"]:
        t = Table(title="feedback")
        for h in ("route", "intent", "tool", "good", "bad", "precision"):
            t.add_column(h)
        for r in summary["feedback"]:
            rated = r["good"] + r["bad"]
            t.add_row(r["route"], r["intent"] or "—", r["tool"] or "—", str(r["good"]), str(r["bad"]),
                      _pct(r["good"] / rated if rated else None))
        console.print(t)


async def fetch_api(url: str, window: int, admin_key: str | None = None) -> dict[str, Any]:
    import aiohttp

    out: dict[str, Any] = {}
    headers = {"authorization": f"Bearer {admin_key}"} if admin_key else {}  # needed once keys exist
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10), headers=headers) as s:
        for name in ("performance", "routing", "slo", "usage", "guardian"):
            async with s.get(f"{url.rstrip('/')}/api/monitoring/{name}", params={"window": str(window)}) as r:
                r.raise_for_status()
                out[name] = await r.json()
    return out


def render_api(data: dict[str, Any], console: Console) -> None:
    p = data["performance"]
    head = Table(title=f"Live (last {p['window_s']} s)", show_header=False)
    head.add_row("requests / rps", f"{p['requests']} / {_f(p['rps'], 2)}")
    head.add_row("success", _pct(p["success_rate"]))
    head.add_row("latency p50 / p95 ms", f"{_f(p['latency_ms']['p50'])} / {_f(p['latency_ms']['p95'])}")
    head.add_row("overhead p50 / p95 ms", f"{_f(p['overhead_ms']['p50'], 3)} / {_f(p['overhead_ms']['p95'], 3)}")
    head.add_row("cache hit rate", _pct(p["cache"]["hit_rate"]))
    head.add_row("in flight / loop lag max ms", f"{p['inflight']} / {_f(p['event_loop_lag_ms']['max_1m'], 2)}")
    g = data["guardian"]
    head.add_row("guardian", g["state"] if g["available"] else "not installed")
    console.print(head)
    t = Table(title="backends")
    for h in ("deployment", "breaker", "requests", "errors", "p95 ms"):
        t.add_column(h)
    for name, b in data["routing"]["backends"].items():
        t.add_row(name, (b.get("breaker") or {}).get("state", "—"), str(b["requests"]), _pct(b["error_rate"]),
                  _f(b["p95_ms"]))
    console.print(t)
    slo = data["slo"]
    t = Table(title="SLOs")
    t.add_column("objective")
    for w in slo["windows_s"]:
        t.add_column(f"burn {w}s", justify="right")
    t.add_column("budget left", justify="right")
    t.add_column("level")
    for name, o in slo["objectives"].items():
        t.add_row(f"{name} ({o['description']})", *(_f(o["windows"][str(w)]["burn_rate"], 2) for w in slo["windows_s"]),
                  _pct(o["budget_remaining"]), o["level"])
    console.print(t)
    for kind in ("tenants", "agents"):
        rows = data["usage"][kind]
        if rows:
            t = Table(title=kind)
            for h in (kind[:-1], "requests", "tokens in", "tokens out", "cost"):
                t.add_column(h)
            for name, u in rows.items():
                t.add_row(name, str(u["requests"]), str(u["tokens_in"]), str(u["tokens_out"]), _f(u["cost"], 4))
            console.print(t)
