"""Dashboard benchmark: how responsive ``p2psim dashboard`` is on a scenario (docs/performance.md).

    python benchmarks/dashboard.py                       # the baseline, 30 s of play
    python benchmarks/dashboard.py scenarios/run_fund_pool.toml --seconds 60

Starts the dashboard, opens it in Debian's headless chromium (Playwright), and measures: the time
to the first drawn page, the latency of a Step (a frame: 7 days simulated and every chart of the
open tab redrawn; the first, then five more), and the days and frames per second while playing.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def model_day(page) -> int:
    """The market's day as the sidebar shows it (``Day N of H``)."""
    return int(re.search(r"Day ([\d,]+) of", page.inner_text("body")).group(1).replace(",", ""))


def wait_for_day(page, at_least: int) -> None:
    """Wait until the page shows day ``at_least`` or later."""
    page.wait_for_function("(d) => { const m = document.body.innerText.match(/Day ([\\d,]+) of/);"
                           " return m && Number(m[1].replace(/,/g, '')) >= d; }", arg=at_least,
                           timeout=300_000)


def timed_step(page) -> float:
    """Seconds from a click on Step to the next frame's day and every chart redrawn."""
    day = model_day(page)
    charts = page.eval_on_selector_all("img", "images => images.map(i => i.src)")
    clicked = time.perf_counter()
    page.get_by_role("button", name="Step").click()
    wait_for_day(page, day + 7)
    page.wait_for_function("(old) => { const now = [...document.images].map(i => i.src);"
                           " return now.length == old.length && now.every((s, k) => s != old[k]); }",
                           arg=charts, timeout=60_000)
    return time.perf_counter() - clicked


def main() -> None:
    """Serve, load, step, play and print the figures."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/baseline.toml")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of play")
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", args.scenario,
                               "--port", str(port), "--no-browser"], cwd=ROOT,
                              start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            while True:
                try:
                    page.goto(f"http://localhost:{port}/")
                    break
                except Exception:  # noqa: BLE001 - the server is still starting
                    time.sleep(0.2)
            page.get_by_text("Built with").wait_for(timeout=120_000)
            page.wait_for_selector("img")
            loaded = time.perf_counter() - started
            steps = [timed_step(page) for _ in range(6)]
            day = model_day(page)
            page.get_by_role("button", name="▶").click()
            play_started = time.perf_counter()
            time.sleep(args.seconds)
            page.get_by_role("button", name="❚❚").click()
            played = time.perf_counter() - play_started
            page.get_by_role("button", name="Step").wait_for()
            days = model_day(page) - day
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
    later = steps[1:]
    print(f"{args.scenario}: first page drawn {loaded:.1f} s after the command started; the first "
          f"Step (7 days + every chart of the tab) {steps[0]:.2f} s, the next five "
          f"{sum(later) / len(later):.2f} s on average (at most {max(later):.2f} s); "
          f"playing {played:.0f} s: {days} days, "
          f"{days / played:.1f} days/s, {days / 7 / played:.2f} frames/s")


if __name__ == "__main__":
    main()
