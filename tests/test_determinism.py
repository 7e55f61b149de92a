"""Same seed, same numbers bit for bit; different seed, different numbers."""

from __future__ import annotations

import pandas as pd

from sim import P2PMarket


def run(seed, **kw):
    model = P2PMarket(rng=seed, run__horizon_days=120, borrowers__applications_per_day=10.0,
                      investors__count=500, initial_book__loans=200, **kw)
    model.run()
    return model


def test_same_seed_same_frame_and_ledger():
    a, b = run(7), run(7)
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(),
                                  b.datacollector.get_model_vars_dataframe(), check_exact=True)
    assert a.ledger.balances() == b.ledger.balances()
    pd.testing.assert_frame_equal(a.book.loans.frame(), b.book.loans.frame(), check_exact=True)


def test_different_seed_different_frame():
    a, b = run(7), run(8)
    fa = a.datacollector.get_model_vars_dataframe()
    fb = b.datacollector.get_model_vars_dataframe()
    assert not fa.equals(fb)
    assert a.ledger.balances() != b.ledger.balances()


def test_scenario_seed_is_used_when_rng_is_not_given():
    a = P2PMarket(run__seed=5, run__horizon_days=30)
    b = P2PMarket(rng=5, run__horizon_days=30)
    a.run(), b.run()
    assert a.seed == b.seed == 5
    assert a.ledger.balances() == b.ledger.balances()


def test_mesa_batch_run_builds_the_model_from_keywords():
    import mesa

    results = mesa.batch_run(P2PMarket, parameters={"run__horizon_days": 20,
                                                    "platforms__0__service_fee": [0.01, 0.05]},
                             rng=[3], iterations=None, max_steps=20, number_processes=1,
                             display_progress=False, data_collection_period=-1)
    frame = pd.DataFrame(results)
    assert sorted(frame["platforms__0__service_fee"]) == [0.01, 0.05]
    assert (frame["volume_cny"] >= 0).all()
