"""Benchmark of the industry's parts so far (issue 12): platforms, sparse positions, contagion.

Draws platforms and investors' positions, then times per-platform totals and the shared-investor
channel against platforms and investors::

    .venv/bin/python benchmarks/industry.py [--sizes 1000x100000 1000x1000000 6000x3000000]

Each size is PLATFORMSxINVESTORS; peak memory is what numpy allocated (tracemalloc) while drawing.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from sim.industry import draw_industry, draw_positions, load_hazard


def measure(platforms: int, investors: int, seed: int = 1) -> dict[str, float]:
    """Seconds to draw the industry and the positions, for totals and one day of contagion."""
    rng = np.random.default_rng(seed)
    hazard = load_hazard()
    tracemalloc.start()
    started = time.perf_counter()
    industry = draw_industry(platforms, rng, hazard.provinces)
    positions = draw_positions(investors, industry.investors, rng)
    drawn = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    started = time.perf_counter()
    for _ in range(10):
        positions.platform_totals_fen()
    totals = (time.perf_counter() - started) / 10
    failed = np.zeros(platforms, dtype=bool)
    failed[rng.choice(platforms, max(platforms // 100, 1), replace=False)] = True
    started = time.perf_counter()
    for _ in range(10):
        positions.shared_investor_withdrawals(failed, 0.3)
    contagion = (time.perf_counter() - started) / 10
    return {"platforms": platforms, "investors": investors, "positions": len(positions),
            "draw_s": drawn, "peak_mb": peak / 1e6, "totals_ms": totals * 1e3,
            "contagion_ms": contagion * 1e3}


def main() -> None:
    """Print one line a size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1000x100000", "1000x1000000"])
    args = parser.parse_args()
    print("platforms  investors  positions  draw (s)  peak (MB)  totals (ms)  contagion (ms)")
    for size in args.sizes:
        platforms, investors = (int(v) for v in size.split("x"))
        r = measure(platforms, investors)
        print(f"{r['platforms']:9,} {r['investors']:10,} {r['positions']:10,} {r['draw_s']:9.2f} "
              f"{r['peak_mb']:10.0f} {r['totals_ms']:12.1f} {r['contagion_ms']:15.1f}")


if __name__ == "__main__":
    main()
