"""Plan benchmark: what the company books and a plan study cost (docs/performance.md).

    python benchmarks/plan.py                 # one run's books, then 200 runs on 2 workers
    python benchmarks/plan.py --runs 40
    python benchmarks/plan.py --solve         # the capital for cash that lasts in 95 % of 200 runs

1. One run of scenarios/seed_business_plan.toml: the market, then its company report (statements
   from the journal, figures, targets), each timed.
2. ``p2psim plan scenarios/seed_business_plan.toml --runs N --workers 2`` in a fresh temporary
   folder, timed from the command line (aim: 200 runs in at most 600 s).
3. With ``--solve``: ``p2psim plan ... --solve platforms.0.capital_cny --for "cash_ran_out <= 0"
   --probability 0.95 --bracket 0 80e6`` on N runs (aim: 200 runs in at most 20 minutes), its
   answer and the runs it took.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import P2PMarket  # noqa: E402
from sim.company.report import company_report  # noqa: E402

PLAN = ROOT / "scenarios" / "seed_business_plan.toml"


def main() -> None:
    """Time both checks and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solve", action="store_true", help="time the capital solve only")
    args = parser.parse_args()
    if args.solve:
        return solve(args.runs, args.workers)
    P2PMarket(PLAN, audit="off", run__horizon_days=90, plan__targets=[],
              platforms__0__company__capital_raises=[]).run()  # load every kernel once
    start = time.perf_counter()
    market = P2PMarket(PLAN, audit="off")
    market.run()
    ran = time.perf_counter()
    company_report(market)
    done = time.perf_counter()
    print(f"one run of the seed plan: market {ran - start:.2f} s, company report "
          f"{done - ran:.2f} s ({len(market.ledger.journal()):,} journal rows)")
    with tempfile.TemporaryDirectory() as folder:
        command = [str(Path(sys.executable).parent / "p2psim"), "plan", str(PLAN), "--runs",
                   str(args.runs), "--workers", str(args.workers), "--out",
                   str(Path(folder) / "plan"), "--quiet"]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
    print(f"p2psim plan --runs {args.runs} --workers {args.workers}: {elapsed:.0f} s "
          f"({elapsed / args.runs:.2f} s a run)")


def solve(runs: int, workers: int) -> None:
    """Time ``--solve`` for the capital at which cash lasts in 95 % of the runs."""
    with tempfile.TemporaryDirectory() as folder:
        command = [str(Path(sys.executable).parent / "p2psim"), "plan", str(PLAN), "--runs",
                   str(runs), "--workers", str(workers), "--out", str(Path(folder) / "solve"),
                   "--quiet", "--solve", "platforms.0.capital_cny", "--for", "cash_ran_out <= 0",
                   "--probability", "0.95", "--bracket", "0", "80e6"]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"failed after {elapsed:.0f} s (exit {done.returncode}):\n{done.stderr}")
    print(done.stdout.strip())
    print(f"p2psim plan --solve platforms.0.capital_cny --runs {runs} --workers {workers}: "
          f"{elapsed:.0f} s")


if __name__ == "__main__":
    main()
