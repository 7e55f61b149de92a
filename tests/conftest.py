"""Shared fixtures: small, fast markets for the engine's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# a small market: a few hundred loans a quarter, enough to exercise every mechanism in < 1 s
SMALL = {
    "run__horizon_days": 180,
    "borrowers__applications_per_day": 8.0,
    "investors__count": 400,
    "investors__initial_cash_median_cny": 20000.0,
    "investors__bid_fraction": 0.2,
}


@pytest.fixture
def small_market():
    """Factory for a small market with overrides on top of :data:`SMALL`."""
    from sim import P2PMarket

    def build(rng=1, audit="full", **overrides):
        return P2PMarket(rng=rng, audit=audit, **{**SMALL, **overrides})

    return build


EXPERIMENT = f"""
[experiment]
name = "fees"
scenario = "{(SCENARIOS / 'baseline.toml').as_posix()}"
seed = 5
replications = 2

[experiment.fixed]
"run.horizon_days" = 60
"investors.count" = 2000

[[parameters]]
key = "platforms.0.service_fee"
values = [0.01, 0.05]

[outputs]
statistics = ["volume_cny", "platform_profit_cny"]
timeseries = ["outstanding_principal_cny"]
"""


@pytest.fixture(scope="session")
def results_folders(tmp_path_factory):
    """One small results folder of each kind (run, experiment, plan, reserve, industry), made by the CLI."""
    from sim.cli import main

    root = tmp_path_factory.mktemp("results")
    (root / "fees.toml").write_text(EXPERIMENT, encoding="utf-8")
    commands = {
        "run": ["run", str(SCENARIOS / "run_fund_pool.toml"), "--set", "run.horizon_days=420",
                "--set", "investors.count=3000"],
        "experiment": ["experiment", str(root / "fees.toml"), "--executor", "local"],
        "plan": ["plan", str(SCENARIOS / "seed_business_plan.toml"), "--runs", "3",
                 "--executor", "local", "--set", "investors.count=3000"],
        "reserve": ["reserve", str(SCENARIOS / "vasicek_limit.toml"), "--paths", "8",
                    "--executor", "local"],
        "industry": ["industry", str(SCENARIOS / "thunderstorm_2018.toml"), "--set",
                     "industry.platforms=30", "--set", "industry.investors=3000", "--set",
                     "run.horizon_days=360", "--set", "industry.events=[]"],
    }
    folders = {}
    for kind, argv in commands.items():
        folders[kind] = root / kind
        assert main([*argv, "--out", str(folders[kind]), "--quiet"]) == 0, kind
    return folders
