"""Same seed, same numbers bit for bit; different seed, different numbers."""

from __future__ import annotations

import pandas as pd
import pytest

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


def test_threads_do_not_change_results(monkeypatch):
    import sim.market.servicing

    monkeypatch.setattr(sim.market.servicing, "PARALLEL_MIN_ROWS", 0)  # parallel even on a small book
    import numba

    a, b = run(9, threads=1), run(9, threads=min(2, numba.config.NUMBA_NUM_THREADS))
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(),
                                  b.datacollector.get_model_vars_dataframe(), check_exact=True)
    assert a.ledger.balances() == b.ledger.balances()
    assert (a.investors.cash_fen == b.investors.cash_fen).all()


def test_chunked_servicing_equals_one_chunk():
    """The kernel's parallel path with 2, 3 and 7 chunks gives what one chunk gives."""
    import numpy as np

    from sim import kernels
    from sim.book import MAX_DUE_MONTHS

    model = run(3)
    book, inv = model.book, model.investors
    starts, ends, months = book.due_ranges(model.day, MAX_DUE_MONTHS)
    n_rows = int((ends - starts).sum())
    uniforms = np.random.default_rng(1).random(n_rows)
    outcomes = []
    for chunks in (1, 2, 3, 7):
        columns = book.loan_columns()
        loans = {k: getattr(columns, k).copy() for k in
                 ("status", "balance_fen", "n_paid", "delinquent", "first_missed_day", "held_fen")}
        notes, cash, income = book.notes.balance_fen.copy(), inv.cash_fen.copy(), inv.net_income_fen.copy()
        arrears = model.arrears.by_first_miss()
        counts, balances = arrears.count.copy(), arrears.balance_fen.copy()
        totals = np.zeros((1, kernels.ServiceTotals.N), dtype=np.int64)
        new = np.empty(n_rows, dtype=np.int64)
        terms = model.risk_tables.servicing_terms(model.day)
        found = kernels.service_due_loans(
            model.day, starts, ends, months, uniforms, columns._replace(**loans),
            kernels.NoteColumns(book.notes.investor, notes),
            kernels.InvestorAccounts(cash, income, inv.principal_lost_fen.copy()),
            terms._replace(miss_hazard=terms.miss_hazard * 20), totals, new,
            kernels.ArrearsByDay(counts, balances, arrears.offset), chunks)
        outcomes.append([*loans.values(), notes, cash, income, counts, balances, totals,
                         new[:found]])
    assert outcomes[0][-1].size > 0  # some loans missed, so the arrears lists are compared too
    for other in outcomes[1:]:
        for x, y in zip(outcomes[0], other):
            assert np.array_equal(x, y)


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_business_models_are_reproducible_in_a_fresh_process():
    """Policies add no hidden randomness: a fresh process gives the same numbers, bit for bit.

    Marketing draws, churn, pool exits and payouts all come from the run's seeded streams.
    """
    import subprocess
    import sys

    from .conftest import SCENARIOS

    code = ("import sys; from sim import P2PMarket; "
            "m = P2PMarket(sys.argv[1], run__horizon_days=240, threads=int(sys.argv[2])); m.run(); "
            "f = m.datacollector.get_model_vars_dataframe(); "
            "print(f.to_csv(index=False)); print(sorted(m.ledger.balances().items()))")
    for name in ("online_offline", "fund_pool", "reserve_fund"):
        path = str(SCENARIOS / f"{name}.toml")
        here = P2PMarket(path, run__horizon_days=240, threads=1)
        here.run()
        expected = (here.datacollector.get_model_vars_dataframe().to_csv(index=False) + "\n"
                    + str(sorted(here.ledger.balances().items())) + "\n")
        for threads in ("1", "2"):
            out = subprocess.run([sys.executable, "-c", code, path, threads], capture_output=True,
                                 text=True, check=True).stdout
            assert out == expected, (name, threads)


def test_an_industry_s_positions_are_the_same_on_one_thread_and_on_two(monkeypatch):
    """The positions' kernels (trust's too) run the platforms in parallel: each writes its own slice."""
    import numba
    import numpy as np

    import sim.kernels.positions

    monkeypatch.setattr(sim.kernels.positions, "PARALLEL_MIN_POSITIONS", 0)  # even a small book

    from .conftest import ROOT

    def industry(threads):
        model = P2PMarket(ROOT / "scenarios" / "thunderstorm_2018.toml", rng=11, threads=threads,
                          **{"industry.platforms": 30, "industry.investors": 4000})
        model.run(180)
        return model

    a, b = industry(1), industry(min(2, numba.config.NUMBA_NUM_THREADS))
    assert a.ledger.balances() == b.ledger.balances()
    for name in ("balance_fen", "queued_fen", "queued_since", "lending"):
        assert np.array_equal(getattr(a.industry.positions, name),
                              getattr(b.industry.positions, name)), name
    assert np.array_equal(a.runs.pooled.level, b.runs.pooled.level)  # their trust, too
    assert np.array_equal(a.industry.problem_day, b.industry.problem_day)
