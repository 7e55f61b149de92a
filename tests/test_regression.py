"""Golden regression: a tiny seeded run must reproduce a stored output exactly.

A change that moves these numbers on purpose (a new mechanism, a fixed bug) looks at the difference
with ``python -m tests.regenerate_golden``, writes it with ``--write`` and says why in its commit. The
test never writes the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import P2PMarket

GOLDEN = Path(__file__).parent / "golden" / "tiny_run.csv"
COLUMNS = ["day", "applications", "funded_listings", "failed_listings", "volume_cny",
           "outstanding_principal_cny", "principal_repaid_cny", "interest_paid_cny",
           "arrears_m1", "arrears_m2", "arrears_m3", "defaults", "recoveries_cny",
           "platform_cash_cny", "investor_cash_cny"]


def tiny_run() -> pd.DataFrame:
    model = P2PMarket(rng=2024, run__horizon_days=150, borrowers__applications_per_day=6.0,
                      investors__count=300, initial_book__loans=400,
                      grades__default_hazard_monthly=[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07])
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()[COLUMNS].reset_index(drop=True)
    return frame.iloc[::5].reset_index(drop=True)


def as_csv(frame: pd.DataFrame) -> str:
    """The run as the golden file stores it: CSV, amounts to the fen."""
    return frame.to_csv(index=False, float_format="%.2f", lineterminator="\n")


def test_tiny_run_matches_the_stored_output():
    assert GOLDEN.exists(), "no golden file: python -m tests.regenerate_golden --write, then commit it"
    new, stored = as_csv(tiny_run()), GOLDEN.read_text(encoding="utf-8")
    assert new == stored, "the tiny run moved: see the difference with python -m tests.regenerate_golden"
