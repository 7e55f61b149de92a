"""Benchmark of an industry on the one engine: time and memory against its size.

With ``--detailed``, with and without a platform in full detail among the pooled ones. Each case
runs in a fresh process (so its peak resident memory is its own), for ``--days`` on the daily clock
(1,080, the 36 months from January 2017 the aims of docs/performance.md are written for; the
thunderstorm replay itself runs on to the end of 2020), the audit off::

    .venv/bin/python benchmarks/industry_run.py [--sizes 250x250000 1000x1000000 6000x5000000]
                                                [--scenario scenarios/thunderstorm_2018.toml]
    .venv/bin/python benchmarks/industry_run.py --sizes 1000x1000000 --detailed --repeats 3

Each size is PLATFORMSxINVESTORS (drawn platforms, pooled; 2.3 platforms per investor on average).
``--detailed`` runs ``scenarios/seed_plan_in_2018.toml`` at each size twice, alternately, with its
platform in full detail and without it, and prints the ratio. Printed: build and run seconds,
positions, loan rows at the end, loans outstanding at the peak, problem platforms, peak resident
memory (GB).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_RUN = """
import json, resource, sys, time
from sim.model import P2PMarket
scenario, platforms, investors, detailed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
overrides = {"industry.platforms": platforms, "industry.investors": investors,
             "run.horizon_days": int(sys.argv[5])}
if detailed == "no":
    overrides["platforms"] = []
started = time.perf_counter()
model = P2PMarket(scenario, audit="off", **overrides)
built = time.perf_counter()
model.run()
ran = time.perf_counter()
monthly = model.industry.tracker.frame()
print(json.dumps({"platforms": platforms, "investors": investors, "detailed": len(model.platforms),
                  "positions": len(model.industry.positions), "build_s": built - started,
                  "run_s": ran - built, "loans_peak": int(monthly.loans_outstanding.max()),
                  "loan_rows": len(model.book),
                  "problems": int((model.industry.problem_day >= 0).sum()),
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""


def measure(scenario: str, platforms: int, investors: int, detailed: bool,
            days: int = 1080) -> dict:
    """One run of ``days`` in a fresh interpreter; its figures."""
    done = subprocess.run([sys.executable, "-c", ONE_RUN, scenario, str(platforms), str(investors),
                           "yes" if detailed else "no", str(days)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def line(r: dict) -> str:
    """One printed line of a run's figures."""
    return (f"{r['platforms']:9,} {r['investors']:10,} {r['detailed']:8} {r['positions']:11,} "
            f"{r['loan_rows']:11,} {r['loans_peak']:13,} {r['build_s']:9.1f} {r['run_s']:8.1f} "
            f"{r['problems']:8,} {r['peak_gb']:9.2f}")


def main() -> None:
    """Print one line a run (and, with ``--detailed``, the ratio of the medians)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["250x250000", "1000x1000000"])
    parser.add_argument("--scenario", default="scenarios/thunderstorm_2018.toml")
    parser.add_argument("--detailed", action="store_true",
                        help="seed_plan_in_2018 with and without its detailed platform")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--days", type=int, default=1080, help="days on the daily clock")
    args = parser.parse_args()
    print("platforms  investors detailed  positions   loan rows  loans at peak  build (s)  run (s) "
          "problems peak (GB)")
    for size in args.sizes:
        platforms, investors = (int(v) for v in size.split("x"))
        if not args.detailed:
            for _ in range(args.repeats):
                print(line(measure(args.scenario, platforms, investors, True, args.days)),
                      flush=True)
            continue
        times = {True: [], False: []}
        for _ in range(args.repeats):
            for detailed in (False, True):
                r = measure("scenarios/seed_plan_in_2018.toml", platforms, investors, detailed,
                            args.days)
                times[detailed].append(r["build_s"] + r["run_s"])
                print(line(r), flush=True)
        ratio = statistics.median(times[True]) / statistics.median(times[False])
        print(f"with the detailed platform / without, medians of build and run: {ratio:.2f}")


if __name__ == "__main__":
    main()
