"""The Vasicek limit case: the reserve study's loss quantiles against the closed form (a table).

    .venv/bin/python benchmarks/reserve_vasicek.py --paths 400

For several monthly hazards and asset correlations, runs ``p2psim reserve`` on
``scenarios/vasicek_limit.toml`` and prints a Markdown table of the simulated loss quantiles (with
their bootstrap standard errors) next to the one-factor Gaussian distribution of the same finite
book (binomial given the factor) and Vasicek's large-pool quantile (docs/reserve.md shows it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.reserve import ReserveRequest, run_reserve_study  # noqa: E402
from sim.reserve.vasicek import due_count_shares, large_pool_quantile, loss_quantile  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

CASES = [(0.005, 0.05), (0.01, 0.15), (0.02, 0.30)]
LEVELS = (0.9, 0.99, 0.999)


def main() -> None:
    """Run the cases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    path = ROOT / "scenarios" / "vasicek_limit.toml"
    scenario = load_scenario(path)
    loans, amount = scenario.initial_book.loans, scenario.borrowers.amount_median_cny
    shares = due_count_shares(36, scenario.run.horizon_days - scenario.loans.default_after_days - 2)
    print("| monthly hazard | correlation | level | simulated loss, M CNY (se) | one-factor, "
          "finite book | Vasicek large pool | difference / se |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for hazard, rho in CASES:
        with tempfile.TemporaryDirectory() as scratch:
            results = run_reserve_study(ReserveRequest(
                scenario=str(path), out=str(Path(scratch) / "s"), paths=args.paths,
                workers=args.workers, confidence=LEVELS, quiet=True, seed=1,
                overrides={"grades.default_hazard_monthly": [hazard],
                           "macro.asset_correlation": rho}))
        rows = {r["statistic"]: r for r in results["statistics"]["defaulted"]}
        for level in LEVELS:
            row = rows[f"q{level * 100:g}"]
            exact = loss_quantile(level, hazard, rho, loans, amount, shares)
            pool = large_pool_quantile(level, hazard, rho, loans, amount, shares)
            print(f"| {hazard} | {rho} | {level} | {row['estimate'] / 1e6:.2f} "
                  f"({row['se'] / 1e6:.2f}) | {exact / 1e6:.2f} | {pool / 1e6:.2f} | "
                  f"{(row['estimate'] - exact) / row['se']:+.2f} |")


if __name__ == "__main__":
    main()
