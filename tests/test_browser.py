"""The dashboard and the reports in a real headless browser: Debian's chromium driven by Playwright.

``make browser`` installs chromium (CI runs it); without it these tests are skipped, unless
``P2PSIM_REQUIRE_BROWSER=1`` (CI sets it) makes a missing browser a failure. With
``P2PSIM_SCREENSHOTS=1`` they also write the screenshots in docs/figures.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.report import write_report

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("P2PSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "docs" / "figures" if os.environ.get("P2PSIM_SCREENSHOTS") == "1" else None
LOAD_S = 120


@pytest.fixture(scope="module")
def browser():
    """A headless chromium, or a skip (a failure where CI requires it)."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not found: `make browser` installs Debian's chromium"
        if os.environ.get("P2PSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def dashboard(browser):
    """``p2psim dashboard`` on the baseline, served on a free port; its address."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", "--port", str(port),
                                "--no-browser"], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + LOAD_S
    while not _listening(port):
        if process.poll() is not None or time.time() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"the dashboard did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)
    yield f"http://localhost:{port}/"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def page(browser, dashboard):
    """The dashboard's page, loaded once for the module's tests (they run in order)."""
    opened = browser.new_page(viewport={"width": 1400, "height": 1000})
    opened.goto(dashboard)
    opened.get_by_text("Built with").wait_for(timeout=LOAD_S * 1000)
    yield opened
    opened.close()


def test_the_dashboard_loads_with_the_scenarios_settings(page):
    assert "p2psim dashboard: baseline" in page.inner_text("header")
    text = page.inner_text("body")
    assert "day\t0 of 1,080" in text
    assert "service_fee = 0.03," in text and "guarantee = none" in text


def test_an_input_changes_a_parameter_of_the_model(page):
    slider = page.locator(".v-input", has_text="Service fee").locator(".v-slider__thumb-container")
    slider.focus()
    page.keyboard.press("ArrowRight")  # one step of 0.005
    page.locator(".v-select", has_text="Protection").click()
    page.get_by_role("option", name="reserve_fund").click()
    page.get_by_role("button", name="Reset").click()  # SolaraViz builds the model anew
    page.get_by_text("service_fee = 0.035").wait_for(timeout=30_000)
    assert "guarantee = reserve_fund" in page.inner_text("body")


def test_play_advances_the_model_and_every_chart_updates(page):
    before = _chart_sources(page)
    assert len(before) == 3
    page.get_by_role("button", name="▶").click()
    page.wait_for_function("(d) => { const m = document.body.innerText.match(/Time: (\\d+)/);"
                           " return m && Number(m[1]) >= d; }", arg=400 if SHOTS else 28,
                           timeout=LOAD_S * 1000)
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="Step").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the last frame's charts
    after = _chart_sources(page)
    assert all(a != b for a, b in zip(before, after))
    day = int(page.inner_text("body").split("day\t")[1].split(" of")[0].replace(",", ""))
    assert day >= 28  # a pause may stop a frame part-way through its week
    if SHOTS:
        page.screenshot(path=str(SHOTS / "dashboard.png"))


def test_the_platforms_and_runs_pages(page):
    page.get_by_role("tab", name="Page 1").click()
    page.get_by_text("outstanding, CNY").wait_for(timeout=30_000)
    assert "baseline" in page.inner_text("table")
    page.get_by_role("tab", name="Page 2").click()
    page.get_by_text("Runs are off").wait_for(timeout=30_000)


@pytest.mark.parametrize("kind, words", [
    ("run", ["Run: run_fund_pool", "volume lent, CNY", "investors' losses in runs, CNY"]),
    ("experiment", ["Experiment: fees", "platforms.0.service_fee"]),
    ("plan", ["Business plan: seed_business_plan", "Key numbers: the odds of each target"]),
    ("reserve", ["Reserve study: vasicek_limit", "Warnings", "book sized (exposure)",
                 "Against the closed form"]),
])
def test_each_report_opens_in_the_browser_with_its_key_numbers(kind, words, browser,
                                                               results_folders, tmp_path):
    path = write_report(results_folders[kind], tmp_path / f"{kind}.html")
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(path.resolve().as_uri())
    text = page.inner_text("body")
    assert all(word in text for word in words), text[:500]
    key_numbers = page.locator("#key-numbers tr")
    assert key_numbers.count() >= 4
    widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
    assert widths and all(width > 100 for width in widths)  # every figure decoded
    if SHOTS and kind == "run":
        page.screenshot(path=str(SHOTS / "report_run.png"))
    page.close()


def _chart_sources(page) -> list[str]:
    return page.eval_on_selector_all("img", "images => images.map(i => i.src)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("localhost", port)) == 0
