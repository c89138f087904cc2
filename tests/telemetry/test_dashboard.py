"""The dashboard in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Skips with the reason when the browser is not installed: `apt-get install chromium chromium-driver`.
Keeps a screenshot in docs/dashboard.png when run with UPDATE_DOCS_SCREENSHOT=1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ROOT, Proc, sim_deployments

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM and DRIVER):
        pytest.skip("headless browser test needs Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver)")
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,2000", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


async def traffic(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        async def chat(model: str, text: str, **headers: str) -> str:
            body = {"model": model, "messages": [{"role": "user", "content": text}]}
            async with s.post(url + "/v1/chat/completions", json=body, headers=headers) as r:
                await r.read()
                return r.headers.get("x-request-id", "")

        ids = []
        for i in range(240):  # spread over ~8 s so that the 1-min timeline has points to draw
            agent = ("planner", "voice", "mail-bot")[i % 3]
            ids.append(await chat("chat" if i % 4 else "echo", f"Fråga nummer {i % 60}", **{"x-alice-agent": agent}))
            await asyncio.sleep(0.03)
        for i in range(8):
            await chat("broken", f"trasig {i}")
        for rid, rating in zip(ids[:6], (1, 1, 1, -1, 0, 1), strict=True):
            async with s.post(url + "/api/feedback", json={"request_id": rid, "rating": rating}) as r:
                assert r.status == 201, await r.text()


async def test_dashboard_renders_live_data(
    browser: Any, start_sim: Callable[..., Proc], start_alice: Callable[..., Proc], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    sim = start_sim("--no-log", "--latency-ms", "25")
    alice = start_alice({
        "deployments": sim_deployments(sim.url, "ok", "echo", "500", price_in_per_1k=0.5, price_out_per_1k=1.5),
        "models": {"chat": ["ok"], "echo": ["echo"], "broken": ["500"]},
        "resilience": {"retry_unit_s": 0.001},
        "telemetry": {"slo": {"slot_s": 1}},
    })
    await traffic(alice.url)
    browser.get(alice.url + "/dashboard")
    Select(browser.find_element(By.ID, "window")).select_by_value("60")
    await asyncio.to_thread(
        WebDriverWait(browser, 15).until,
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true",
    )

    def text(css: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, css).text

    assert text('[data-metric="requests/s"]') not in ("", "—")
    assert text('[data-metric="latency p95"]').endswith("ms")
    assert "500" in text("#backends") and "open" in text("#backends")
    assert "chat" in text("#routes") and "broken" in text("#routes")
    assert "planner" in text("#agents") and "mail-bot" in text("#agents")
    assert "breaker.open" in text("#events")
    assert "latency" in text("#slo") and "tool_precision" in text("#slo")
    assert "miss" in text("#cache")
    assert text("#quality") != ""
    polylines = browser.find_elements(By.CSS_SELECTOR, "#chart-rps polyline")
    assert len(polylines[0].get_attribute("points").split()) >= 5  # one point per second of traffic
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    # UPDATE_DOCS_SCREENSHOT=1 refreshes docs/dashboard.png; otherwise a test run leaves the tree clean.
    shot = ROOT / "docs" / "dashboard.png" if os.environ.get("UPDATE_DOCS_SCREENSHOT") else tmp_path / "dashboard.png"
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, max(900, int(height) + 40))
    await asyncio.sleep(0.3)
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
