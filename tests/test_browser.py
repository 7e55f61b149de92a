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


def _serve(scenario: str):
    """``p2psim dashboard SCENARIO`` on a free port: (process, address)."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", scenario, "--port",
                                str(port), "--no-browser"], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + LOAD_S
    while not _listening(port):
        if process.poll() is not None or time.time() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"the dashboard did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)
    return process, f"http://localhost:{port}/"


def _stop(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def dashboard(browser):
    """``p2psim dashboard`` on the baseline, served on a free port; its address."""
    process, address = _serve("scenarios/baseline.toml")
    yield address
    _stop(process)


def _open(browser, address: str, problems: list | None = None):
    """A new visitor (a browser context of its own) on the dashboard, its page drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    if problems is not None:
        opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        opened.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        opened.on("response", lambda r: problems.append(f"{r.status}: {r.url}")
                  if r.status >= 400 else None)
    opened.goto(address)
    opened.get_by_text("Built with").wait_for(timeout=LOAD_S * 1000)
    return opened


@pytest.fixture(scope="module")
def page(browser, dashboard):
    """The dashboard's page, loaded once for the module's tests (they run in order)."""
    problems = []
    opened = _open(browser, dashboard, problems)
    opened.wait_for_timeout(2000)  # late requests of the first draw
    opened.problems = problems
    yield opened
    opened.context.close()


def test_the_dashboard_loads_with_the_scenarios_settings_and_no_error(page):
    assert "p2psim dashboard: baseline" in page.inner_text("header")
    text = page.inner_text("body")
    assert "day\t0 of 1,080 (running)" in text
    assert "service_fee = 0.03," in text and "guarantee = none" in text
    assert page.problems == []  # no console error, no failed request (KaTeX was one)


def test_an_input_shows_its_value_and_applies_at_reset(page):
    slider = page.locator(".input-service_fee .v-slider__thumb-container")
    slider.focus()
    page.keyboard.press("ArrowRight")  # one step of 0.005
    page.get_by_text("Service fee 借款服务费: 0.035 of principal •").wait_for(timeout=30_000)
    page.get_by_text("Press Reset to apply").wait_for(timeout=30_000)
    page.locator(".v-select", has_text="Protection").click()
    page.get_by_role("option", name="reserve_fund").click()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("service_fee = 0.035").wait_for(timeout=30_000)
    page.get_by_text("guarantee = reserve_fund").wait_for(timeout=30_000)
    # the inputs' card renders a moment after the run's: wait for the hint to go, not a glance
    page.get_by_text("Press Reset to apply").wait_for(state="detached", timeout=30_000)


def test_play_advances_the_model_and_every_chart_updates(page):
    before = _chart_sources(page)
    assert len(before) == 2  # volume and arrears beside the key numbers
    page.get_by_role("button", name="▶").click()
    _wait_for_day(page, 400 if SHOTS else 28)
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="Step").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the last frame's charts
    after = _chart_sources(page)
    assert all(a != b for a, b in zip(before, after))
    assert _day(page) >= 28
    if SHOTS:
        page.screenshot(path=str(SHOTS / "dashboard.png"))


def test_the_risk_cash_platforms_and_runs_tabs(page):
    page.get_by_role("tab", name="Risk & reserve").click()
    page.wait_for_function("() => document.querySelectorAll('img').length >= 3",
                           timeout=30_000)  # reserve, waterfall, arrears
    if SHOTS:
        page.wait_for_timeout(1500)  # the tab's slide
        page.screenshot(path=str(SHOTS / "dashboard_risk.png"))
    page.get_by_role("tab", name="Cash & runway").click()
    page.get_by_text("cash runway, months").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Platforms").click()
    page.get_by_text("outstanding, M CNY").wait_for(timeout=30_000)
    assert "baseline" in page.inner_text("table")
    page.get_by_role("tab", name="Runs").click()
    page.get_by_text("Runs are off").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Market").click()


def test_a_view_changes_when_its_input_changes(page):
    """The reserve chart of a reserve of 1 % differs from one of 5 %, and pinning keeps the first."""
    page.get_by_role("tab", name="Risk & reserve").click()
    if "guarantee = reserve_fund" not in page.inner_text("body"):  # run alone
        page.locator(".v-select", has_text="Protection").click()
        page.get_by_role("option", name="reserve_fund").click()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("guarantee = reserve_fund").wait_for(timeout=30_000)
    page.get_by_role("button", name="Step").click()
    _wait_for_day(page, 7)
    page.get_by_role("button", name="Pin this run").click()
    page.get_by_text("Pinned (grey, dashed)").wait_for(timeout=30_000)
    reserve_before = _key_number_above(page, "reserve fund, M CNY", 0.0)
    assert reserve_before > 0
    charts_before = _chart_sources(page)  # reserve, losses by layer, arrears
    slider = page.locator(".input-reserve_rate .v-slider__thumb-container")
    slider.focus()
    for _ in range(16):  # 0.01 + 16 x 0.0025 = 0.05
        page.keyboard.press("ArrowRight")
    page.get_by_text("Reserve rate 风险准备金: 0.05 of principal •").wait_for(timeout=30_000)
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("reserve_rate = 0.05").wait_for(timeout=30_000)
    page.get_by_role("button", name="Step").click()
    _wait_for_day(page, 7)
    assert _key_number_above(page, "reserve fund, M CNY", reserve_before) > reserve_before
    assert "Pinned (grey, dashed): day" in page.inner_text("body")  # kept through Reset
    charts_after = _chart_sources(page)
    assert len(charts_after) == len(charts_before) == 3
    assert charts_after[0] != charts_before[0]  # the reserve chart: a higher line, the pinned one


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_two_visitors_play_at_once_with_their_own_days(browser, dashboard):
    """Two browser contexts play the same dashboard for a minute: no error, days their own."""
    problems = []
    first, second = (_open(browser, dashboard, problems) for _ in range(2))
    first.get_by_role("button", name="Step").click()
    _wait_for_day(first, 7)
    assert _day(second) == 0  # the second visitor's market is not the first's
    for visitor in (first, second):
        visitor.get_by_role("button", name="▶").click()
    first.wait_for_timeout(60_000)
    for visitor in (first, second):
        visitor.get_by_role("button", name="❚❚").click()
        visitor.get_by_role("button", name="Step").wait_for(timeout=30_000)
    first.wait_for_timeout(2000)  # a frame under way when paused finishes
    days = [_day(visitor) for visitor in (first, second)]
    assert all(day > 14 for day in days), days
    first.get_by_role("button", name="Step").click()
    _wait_for_day(first, days[0] + 7)
    second.wait_for_timeout(1000)
    assert _day(second) == days[1]  # one visitor's step leaves the other's day alone
    for visitor in (first, second):
        assert "error" not in visitor.inner_text("body").lower()
        assert "Traceback" not in visitor.inner_text("body")
        visitor.context.close()
    assert problems == []


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_playing_to_the_end_stops_at_the_horizon(browser, tmp_path):
    scenario = tmp_path / "short.toml"
    scenario.write_text(f'based_on = "{ROOT / "scenarios" / "baseline.toml"}"\n'
                        f'[run]\nhorizon_days = 40\n')
    process, address = _serve(str(scenario))
    try:
        visitor = _open(browser, address)
        visitor.get_by_role("button", name="▶").click()
        visitor.get_by_text("Finished: the run reached its horizon, day 40 of 40").wait_for(
            timeout=LOAD_S * 1000)
        assert visitor.get_by_role("button", name="▶").is_disabled()
        assert visitor.get_by_role("button", name="Step").is_disabled()
        assert "day\t40 of 40 (finished)" in visitor.inner_text("body")
        visitor.context.close()
    finally:
        _stop(process)


@pytest.mark.parametrize("kind, words", [
    ("run", ["Run: run_fund_pool", "volume lent, M CNY", "investors' losses in runs, M CNY"]),
    ("experiment", ["Experiment: fees", "service fee (platform 0)"]),
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


A4_CONTENT_PX = 703  # 210 mm less two 12 mm margins, at 96 px an inch


@pytest.mark.parametrize("kind", ["run", "experiment", "plan", "reserve", "industry"])
def test_each_report_prints_to_a4_with_no_table_cut(kind, browser, results_folders, tmp_path):
    """Chromium's print layout at A4's width: every table within the page; the PDF is made."""
    path = write_report(results_folders[kind], tmp_path / f"{kind}.html")
    page = browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1000})
    page.goto(path.resolve().as_uri())
    page.emulate_media(media="print")
    cut = page.evaluate("""() => { const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll('table')]
          .filter(t => t.getBoundingClientRect().right > width + 1 || t.scrollWidth > t.clientWidth + 1)
          .map(t => t.id); }""")
    assert cut == [], cut
    pdf = page.pdf(format="A4", margin={side: "12mm" for side in ("top", "bottom", "left",
                                                                   "right")})
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.close()


def _day(page) -> int:
    return int(page.inner_text("body").split("Day ")[1].split(" of")[0].replace(",", ""))


def _wait_for_day(page, at_least: int) -> None:
    page.wait_for_function("(d) => { const m = document.body.innerText.match(/Day ([\\d,]+) of/);"
                           " return m && Number(m[1].replace(/,/g, '')) >= d; }", arg=at_least,
                           timeout=LOAD_S * 1000)


def _key_number(page, label: str) -> float:
    row = page.locator("table.key-numbers tr", has_text=label).first
    return float(row.locator("td").nth(1).inner_text().split()[0].replace(",", ""))


def _key_number_above(page, label: str, floor: float, seconds: float = 30.0) -> float:
    """The key number once it exceeds ``floor`` (the numbers render a moment after the day)."""
    deadline = time.monotonic() + seconds
    value = _key_number(page, label)
    while value <= floor and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        value = _key_number(page, label)
    return value


def _chart_sources(page) -> list[str]:
    return page.eval_on_selector_all("img", "images => images.map(i => i.src)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("localhost", port)) == 0
