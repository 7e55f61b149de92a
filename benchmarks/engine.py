"""Engine benchmark: a steady-state book on the daily clock, build and run timed apart.

    python benchmarks/engine.py                     # 100,000 and 1,000,000 loans, 1 and 2 threads
    python benchmarks/engine.py --loans 100000 --threads 1 --repeats 5

For each book size it builds ``scenarios/steady_state_100k.toml`` scaled to that size (20 notes per
loan, 20,000 investors, new lending replacing repaid loans), runs it for the horizon, and reports the
median build and run time over the repeats and loan-months serviced per second of run time. Beside
it, a naive Mesa model of the same loan mechanics (benchmarks/naive_mesa.py: one Agent per loan and
per investor) services the 100,000-loan book for ``--naive-days`` days, and the ratio of the two
throughputs is printed. Results go to stdout and, with ``--json``, to a file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sim import P2PMarket  # noqa: E402

SCENARIO = ROOT / "scenarios" / "steady_state_100k.toml"


def build_engine(loans: int, days: int, seed: int, threads: int = 1) -> P2PMarket:
    """The steady-state market of ``loans`` outstanding loans."""
    return P2PMarket(SCENARIO, rng=seed, audit="step", threads=threads, run__horizon_days=days,
                     initial_book__loans=loans, borrowers__applications_per_day=loans / 560.0,
                     investors__initial_cash_median_cny=3.0 * loans,
                     investors__bid_fraction=2500.0 / (3.0 * loans))


def time_engine(loans: int, days: int, repeats: int, threads: int) -> dict:
    """Median build and run seconds, and loan-months per second, over ``repeats`` runs."""
    build_engine(1000, 40, 0, threads).run()  # compile (or load) the kernels, outside the timing
    builds, runs, months = [], [], 0
    for seed in range(repeats):
        start = time.perf_counter()
        model = build_engine(loans, days, seed, threads)
        built = time.perf_counter()
        model.run()
        done = time.perf_counter()
        builds.append(built - start)
        runs.append(done - built)
        months = model.totals["loan_months"]
        notes = (len(model.book.notes)) / max(len(model.book), 1)
    run_s = statistics.median(runs)
    return {"loans": loans, "days": days, "repeats": repeats, "threads": threads,
            "build_s": statistics.median(builds), "run_s": run_s, "run_s_all": runs, "loan_months": months,
            "loan_months_per_s": months / run_s, "notes_per_loan": notes}


def time_naive(loans: int, days: int) -> dict:
    """Build and run seconds of the naive Mesa model, and its loan-months per second."""
    from naive_mesa import NaiveMarket

    start = time.perf_counter()
    model = NaiveMarket(n_loans=loans)
    built = time.perf_counter()
    for _ in range(days):
        model.step()
    done = time.perf_counter()
    return {"loans": loans, "days": days, "build_s": built - start, "run_s": done - built,
            "loan_months": model.loan_months, "loan_months_per_s": model.loan_months / (done - built)}


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loans", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=1080, help="horizon, days (36 months)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="servicing threads; the 100,000-loan aim is for 1 (one core)")
    parser.add_argument("--naive-days", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = {"engine": [], "naive": None}
    for loans in args.loans:
        for threads in args.threads:
            row = time_engine(loans, args.days, args.repeats, threads)
            results["engine"].append(row)
            print(f"engine  {loans:>9,} loans  {args.days} days  {threads} thread(s)  "
                  f"build {row['build_s']:6.2f} s  run {row['run_s']:6.2f} s "
                  f"(median of {args.repeats}, fastest {min(row['run_s_all']):.2f})  "
                  f"{row['loan_months_per_s']:12,.0f} loan-months/s  "
                  f"({row['notes_per_loan']:.1f} notes/loan)", flush=True)
    if args.naive_days > 0:
        naive = time_naive(100_000, args.naive_days)
        results["naive"] = naive
        print(f"naive   {100_000:>9,} loans  {args.naive_days} days  build {naive['build_s']:6.2f} s  "
              f"run {naive['run_s']:6.2f} s  {naive['loan_months_per_s']:12,.0f} loan-months/s")
        engine_100k = next((r for r in results["engine"]
                            if r["loans"] == 100_000 and r["threads"] == 1), None)
        if engine_100k:
            ratio = engine_100k["loan_months_per_s"] / naive["loan_months_per_s"]
            results["ratio_100k"] = ratio
            print(f"engine (1 thread) / naive at 100,000 loans: {ratio:,.1f} x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
