"""A/B timing of two revisions of the engine, run alternately so that a noisy machine hits both alike.

    .venv/bin/python benchmarks/compare_revisions.py --old ec0f9dd --loans 1000000 --days 360 --threads 2

The old revision (and the new one, if ``--new`` names one; otherwise the working tree) is checked out
in a temporary git worktree; each round runs the benchmark book (``benchmarks/engine.py``'s steady
state of that revision) in a fresh process for the old code, then for the new, and times ``days``
days after a 30-day warm-up. Naming ``--new`` keeps edits made while it runs out of the timings.
Prints ms per simulated day for every run, the medians, and the median of each round's new / old.
``--scenario scenarios/baseline.toml`` times that scenario's whole run instead (as shipped, its own
horizon and seed), in ms per simulated day too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys, time
sys.path[:0] = [{tree!r}, {tree!r} + "/benchmarks"]
from engine import build_engine
model = build_engine({loans}, 1080, 1, threads={threads})
model.run(30)
start = time.perf_counter()
model.run({days})
print(1000 * (time.perf_counter() - start) / {days})
"""
SCENARIO_CHILD = """
import sys, time
sys.path[:0] = [{tree!r}]
from sim.model import P2PMarket
model = P2PMarket({scenario!r})
start = time.perf_counter()
model.run()
print(1000 * (time.perf_counter() - start) / model.config.run.horizon_days)
"""


def time_tree(tree: Path, args) -> float:
    """Milliseconds per day of one run of the benchmark book with the code in ``tree``."""
    if args.scenario:
        code = SCENARIO_CHILD.format(tree=str(tree), scenario=str(tree / args.scenario))
    else:
        code = CHILD.format(tree=str(tree), loans=args.loans, threads=args.threads, days=args.days)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tree)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the rounds and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="git revision to compare with")
    parser.add_argument("--new", help="git revision to time (default: the working tree)")
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=360)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenario", help="time this scenario's whole run (a path in the "
                        "repository, e.g. scenarios/baseline.toml) instead of the benchmark book")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        old, new = Path(scratch) / "old", Path(scratch) / "new"
        trees = [(old, args.old)] + ([(new, args.new)] if args.new else [])
        for tree, revision in trees:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree),
                            revision], check=True)
        new = new if args.new else ROOT
        try:
            times = {"old": [], "new": []}
            for round_ in range(args.rounds):
                for label, tree in (("old", old), ("new", new)):
                    times[label].append(time_tree(tree, args))
                    print(f"round {round_ + 1}: {label} {times[label][-1]:.2f} ms/day", flush=True)
        finally:
            for tree, _ in trees:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                               check=False)
    for label, values in times.items():
        print(f"{label} ({args.old if label == 'old' else args.new or 'working tree'}): median "
              f"{statistics.median(values):.2f} ms/day over {len(values)} runs")
    ratios = [new / old for old, new in zip(times["old"], times["new"])]
    print(f"new / old, median of the rounds' ratios: {statistics.median(ratios):.3f} "
          f"(a busy minute slows both runs of its round alike)")


if __name__ == "__main__":
    main()
