"""Report benchmark: how long ``p2psim report`` takes on full-size results (docs/performance.md).

    python benchmarks/report.py                    # makes the results below once, then times
    python benchmarks/report.py results/my-run     # times the reports of given folders

Without folders it makes (in ``results/bench-report/``, kept for the next time) a full baseline
run (1,080 days), the seed business plan (20 runs) and the 2018 wave (the full industry), then
times the report of each, and of the comparison of the run with itself. The aim: at most 10 s a
report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MADE = ROOT / "results" / "bench-report"
COMMANDS = {
    "run": ["run", "scenarios/baseline.toml"],
    "plan": ["plan", "scenarios/seed_business_plan.toml", "--runs", "20"],
    "industry": ["industry", "scenarios/thunderstorm_2018.toml"],
}


def make() -> list[Path]:
    """The full-size results folders, made once."""
    from sim.cli import main as cli

    folders = []
    for name, argv in COMMANDS.items():
        folder = MADE / name
        if not folder.exists():
            print(f"making {folder} ...", file=sys.stderr)
            assert cli([*argv, "--out", str(folder), "--quiet"]) == 0, name
        folders.append(folder)
    return folders


def main() -> None:
    """Time each report (and a comparison) and print the figures."""
    from sim.report import write_comparison, write_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    args = parser.parse_args()
    folders = args.folders or make()
    out = MADE / "reports"
    out.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        started = time.perf_counter()
        path = write_report(folder, out / f"{folder.name}.html")
        print(f"{folder}: report {time.perf_counter() - started:.2f} s, "
              f"{path.stat().st_size / 1e6:.1f} MB")
    started = time.perf_counter()
    path = write_comparison([folders[0], folders[0]], out / "comparison.html")
    print(f"comparison of {folders[0]} with itself: {time.perf_counter() - started:.2f} s, "
          f"{path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
