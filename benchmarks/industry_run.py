"""Benchmark of the industry run (issue 12): ``thunderstorm_2018`` at growing sizes, time and memory.

Each size runs in a fresh process (so its peak resident memory is its own) for the scenario's 36
months on the daily clock::

    .venv/bin/python benchmarks/industry_run.py [--sizes 250x250000 500x500000 1000x1000000]
                                                [--months 36] [--seed 2018]

Each size is PLATFORMSxINVESTORS (2.3 platforms per investor on average). Printed: build and run
seconds, positions, loans outstanding at the peak, failures, peak resident memory (GB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_RUN = """
import json, resource, sys, time
from sim.industry.market import IndustryMarket
platforms, investors, months, seed = (int(v) for v in sys.argv[1:5])
started = time.perf_counter()
model = IndustryMarket("scenarios/thunderstorm_2018.toml", rng=seed, **{
    "industry.platforms": platforms, "industry.investors": investors, "run.months": months})
built = time.perf_counter()
model.run()
ran = time.perf_counter()
monthly = model.tracker.frame()
print(json.dumps({"platforms": platforms, "investors": investors, "months": months,
                  "positions": len(model.positions), "build_s": built - started,
                  "run_s": ran - built, "loans_peak": int(monthly.loans_outstanding.max()),
                  "loans_rows": model.loans.size, "failed": int((model.state == 2).sum()),
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""


def measure(platforms: int, investors: int, months: int, seed: int) -> dict:
    """One run in a fresh interpreter; its figures."""
    done = subprocess.run([sys.executable, "-c", ONE_RUN, str(platforms), str(investors),
                           str(months), str(seed)], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print one line a size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["250x250000", "500x500000", "1000x1000000"])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    print("platforms  investors  positions  loans at peak  build (s)  run (s)  failed  peak (GB)")
    for size in args.sizes:
        platforms, investors = (int(v) for v in size.split("x"))
        r = measure(platforms, investors, args.months, args.seed)
        print(f"{r['platforms']:9,} {r['investors']:10,} {r['positions']:10,} {r['loans_peak']:14,} "
              f"{r['build_s']:10.1f} {r['run_s']:8.1f} {r['failed']:7,} {r['peak_gb']:10.2f}",
              flush=True)


if __name__ == "__main__":
    main()
