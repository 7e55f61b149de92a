"""Slow checks, run by CI after the main suite (``make test-slow``)."""

from __future__ import annotations

import pytest

from sim import P2PMarket

from .conftest import SCENARIOS


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "two_platforms"])
def test_full_scenarios_balance_to_the_fen_every_day(name):
    model = P2PMarket(SCENARIOS / f"{name}.toml", audit="full")
    model.run()
    assert model.day == model.horizon_days
    assert model.ledger.total() == 0
