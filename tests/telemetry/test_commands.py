import asyncio
import subprocess
import sys
import time
from pathlib import Path

import orjson
import typer
import yaml
from typer.testing import CliRunner

from alice.state.requestlog_sqlite import SqliteRequestLog
from alice.telemetry.commands import log_app, report

from .conftest import make_row

runner = CliRunner()
# The commands as alice/cli.py registers them (`alice log …`, `alice report`).
app = typer.Typer()
app.add_typer(log_app, name="log")
app.command()(report)


def test_registered_in_the_alice_cli() -> None:
    for args in (["log", "query", "--help"], ["report", "--help"]):
        r = subprocess.run([sys.executable, "-m", "alice", *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "Usage" in r.stdout, r.stderr


async def _write_log(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    store = SqliteRequestLog(state / "requests.sqlite3")
    await store.open()
    now = time.time()
    await store.write([make_row(i, ts=now - 100 + i, status=502 if i % 5 == 0 else 200,
                                tenant="acme" if i % 2 else "beta") for i in range(30)])
    await store.write([make_row(99, ts=now - 40 * 86400)])  # older than the retention
    await store.write_feedback(("req-1", now, 1, None, "chat", "weather", "weather", "acme"))
    await store.close()
    cfg = tmp_path / "alice.yaml"
    cfg.write_text(yaml.safe_dump({"deployments": [], "models": {}, "state": {"dir": str(state)}}))
    return cfg


def _config_with_log(tmp_path: Path) -> Path:
    return asyncio.run(_write_log(tmp_path))


def test_log_query_filters(tmp_path: Path) -> None:
    cfg = _config_with_log(tmp_path)
    r = runner.invoke(app, ["log", "query", "-c", str(cfg), "--status", "5xx", "--tenant", "beta", "--since", "1h",
                            "--json"])
    assert r.exit_code == 0, r.output
    rows = [orjson.loads(line) for line in r.output.splitlines()]
    assert {row["id"] for row in rows} == {"req-0", "req-10", "req-20"}
    assert all(row["status"] == 502 and row["tenant"] == "beta" for row in rows)
    bad = runner.invoke(app, ["log", "query", "-c", str(cfg), "--status", "teapot"])
    assert bad.exit_code == 2 and "status filter" in bad.output


def test_log_tail_and_purge(tmp_path: Path) -> None:
    cfg = _config_with_log(tmp_path)
    r = runner.invoke(app, ["log", "tail", "-c", str(cfg), "-n", "3"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 3 and "req-99" in lines[-1] and "req-29" in lines[1]
    r = runner.invoke(app, ["log", "purge", "-c", str(cfg)])
    assert r.exit_code == 0 and "purged 1 rows older than 30 days" in r.output


def test_report_from_the_log(tmp_path: Path) -> None:
    cfg = _config_with_log(tmp_path)
    r = runner.invoke(app, ["report", "-c", str(cfg), "--since", "1h"], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    assert "Request log" in r.output and "by tenant" in r.output and "feedback" in r.output
    assert "6 (20.0 %)" in r.output  # 6 of 30 requests in the last hour were 5xx


def test_missing_log_is_explained(tmp_path: Path) -> None:
    cfg = tmp_path / "alice.yaml"
    cfg.write_text(yaml.safe_dump({"state": {"dir": str(tmp_path / "nowhere")}}))
    r = runner.invoke(app, ["log", "tail", "-c", str(cfg)])
    assert r.exit_code == 1 and "no request log" in r.output
