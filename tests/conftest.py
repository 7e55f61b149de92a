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
