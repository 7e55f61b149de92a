"""Runs benchmark: what daily trust, decisions and queues cost (docs/performance.md).

    python benchmarks/runs.py                 # both checks, 3 alternating rounds
    python benchmarks/runs.py --rounds 5 --skip-large

1. The baseline (scenarios/baseline.toml, 1,080 days) with ``[runs] enabled`` against without, run
   alternately; the ratio of medians is the overhead (aim: at most 1.25). A third series runs the
   same machinery with the ``never`` rule (trust moves, nobody acts on it): what the machinery costs
   apart from what investors then do (stop reinvesting, sell, withdraw).
2. 100,000 investors on one platform with daily trust updates on a small-world network, 36 months
   (aim: at most 60 s, build included).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import P2PMarket  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"


def timed(**overrides) -> float:
    """Seconds to build and run the baseline with ``overrides`` (audit off, as in production)."""
    start = time.perf_counter()
    market = P2PMarket(BASELINE, audit="off", **overrides)
    market.run()
    elapsed = time.perf_counter() - start
    market.release()  # each round starts from the same memory (Mesa's model lives in cycles)
    gc.collect()
    return elapsed


def main() -> None:
    """Time both checks and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    timed(run__horizon_days=400, runs__enabled=True)  # load every kernel once (sellers included)
    timed(run__horizon_days=60)
    off, on, never = [], [], []
    for _ in range(args.rounds):
        off.append(timed())
        on.append(timed(runs__enabled=True))
        never.append(timed(runs__enabled=True, runs__rule="never"))
    ratio = statistics.median(on) / statistics.median(off)
    rounds = statistics.median(b / a for a, b in zip(off, on))
    print(f"baseline 1080 days: runs off median {statistics.median(off):.2f} s, on "
          f"{statistics.median(on):.2f} s, overhead x{ratio:.3f} (median of the rounds' ratios "
          f"x{rounds:.3f}; {args.rounds} rounds, off: {' '.join(f'{t:.2f}' for t in off)}, "
          f"on: {' '.join(f'{t:.2f}' for t in on)})")
    print(f"  machinery alone (rule 'never'): median {statistics.median(never):.2f} s, "
          f"x{statistics.median(never) / statistics.median(off):.3f}")
    if args.skip_large:
        return
    start = time.perf_counter()
    market = P2PMarket(BASELINE, audit="off", runs__enabled=True, investors__count=100_000,
                       run__horizon_days=1080, investors__max_scan_per_listing=2000)
    built = time.perf_counter() - start
    market.run()
    total = time.perf_counter() - start
    print(f"100,000 investors, daily trust, 36 months: {total:.1f} s (build {built:.1f} s); "
          f"trust cells {market.runs.trust.level.size:,}, network links "
          f"{market.runs.trust.adjacency.nnz // 2:,}")


if __name__ == "__main__":
    main()
