"""Market mechanics: 流标 releases bids, arrears move through the buckets, defaults, prepayment, cure."""

from __future__ import annotations

import numpy as np

from sim import P2PMarket
from sim.kernels import DEFAULTED, PREPAID
from sim.market.marketplace import FAILED

NO_FLOWS = {"investors__monthly_deposit_median_cny": 0.0, "investors__withdraw_share_monthly": 0.0}


def test_failed_listings_release_every_bid_to_its_investor():
    # every request is larger than all investors' money together: no listing can fill
    model = P2PMarket(rng=3, audit="full", run__horizon_days=40, investors__count=30,
                      investors__initial_cash_median_cny=1000.0, investors__initial_cash_sigma=0.0,
                      investors__bid_fraction=0.5, borrowers__amount_min_cny=100000.0,
                      borrowers__applications_per_day=3.0, platforms__0__funding_window_days=3,
                      investors__max_grade_share=[0, 0, 0, 0, 0, 0, 1.0],
                      investors__target_rate_min=0.0, investors__target_rate_max=0.0, **NO_FLOWS)
    initial = model.investors.cash_fen.copy()
    committed_seen = []
    for _ in range(40):
        model.step()
        committed_seen.append(model.account_total("investor_committed"))
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame.funded_listings.sum() == 0
    assert frame.failed_listings.sum() > 10
    assert max(committed_seen) > 0  # bids were placed and held
    # what each investor has is their cash plus their bids on listings still open, to the fen
    held = model.investors.cash_fen.copy()
    np.add.at(held[:, 0], model.marketplace.bids["investor"], model.marketplace.bids["amount"])
    assert np.array_equal(held, initial)
    failed = np.flatnonzero(model.marketplace.listings.status == FAILED)
    assert not np.isin(model.marketplace.bids["listing"], failed).any()


def one_loan_market(**overrides):
    """A market with a single outstanding loan and nothing else happening."""
    settings = {"initial_book__loans": 1, "initial_book__notes_per_loan": 3,
                "borrowers__applications_per_day": 0.0, "borrowers__terms_months": [36],
                "borrowers__term_share": [1.0], "investors__count": 10,
                "platforms__0__operating_cost_monthly_cny": 0.0, **NO_FLOWS}
    return P2PMarket(rng=11, audit="full", **(settings | overrides))


def test_arrears_move_through_the_buckets_day_by_day():
    model = one_loan_market(run__horizon_days=150, grades__default_hazard_monthly=[1.0] * 7,
                            grades__cure_probability=0.0)
    loan = model.book.loans
    missed_day = loan.orig_day[0] + 30 * (loan.n_paid[0] + 1)
    balance = int(loan.balance_fen[0])
    model.run()
    frame = model.datacollector.get_model_vars_dataframe().set_index("day")
    for dpd in range(0, 95):
        day = missed_day + dpd
        row = frame.loc[day]
        expected = {"arrears_m1": 1 <= dpd <= 30, "arrears_m2": 31 <= dpd <= 60,
                    "arrears_m3": 61 <= dpd <= 90}
        for column, inside in expected.items():
            assert row[column] == int(inside), (dpd, column)
        assert row["defaults"] == int(dpd == 91)
    assert loan.status[0] == DEFAULTED and loan.default_day[0] == missed_day + 91
    recovered = int(np.floor(balance * model.risk_tables.recovery_rate[0, loan.grade[0]] + 0.5))
    fee = int(np.floor(recovered * model.risk_tables.collection_fee[0] + 0.5))
    assert round(frame.recoveries_cny.sum() * 100) == recovered - fee
    assert model.investors.principal_lost_fen.sum() == balance - (recovered - fee)
    assert model.claims_fen() == 0


def test_cured_borrowers_pay_arrears_with_penalty_interest():
    """A loan misses instalment k and cures at k+1: it pays both, and 罚息 on k for 30 days, to the fen.

    Penalty = round(payment_k x penalty_daily_rate x 30 days) (instalment k+1 is due today: no
    penalty), from the closed-form schedule; the day's interest is i_k + i_(k+1) + penalty.
    """
    from sim.loans import RepaymentMethod, schedule

    rate = 0.001
    model = one_loan_market(run__horizon_days=120, grades__default_hazard_monthly=[1.0] * 7,
                            grades__cure_probability=0.999999, grades__prepay_hazard_monthly=[0.0] * 7,
                            platforms__0__penalty_daily_rate=rate,
                            platforms__0__service_fee=0.0, platforms__0__management_fee=0.0)
    loans = model.book.loans
    k = int(loans.n_paid[0]) + 1                      # the instalment it will miss
    missed_day = int(loans.orig_day[0]) + 30 * k
    plan = schedule(loans.principal_fen[0] / 100, float(loans.annual_rate[0]), int(loans.term[0]),
                    RepaymentMethod(int(loans.method[0])))
    due = plan.set_index("month")
    penalties = {}
    model.hooks.after_payouts.append(lambda day: penalties.__setitem__(day, model.today.penalty_fen))
    model.run()
    frame = model.datacollector.get_model_vars_dataframe().set_index("day")
    penalty = int(np.floor(due.payment_fen[k] * rate * 30 + 0.5))
    assert penalty > 0 and frame.loc[missed_day, "missed_payments"] == 1
    assert frame.loc[missed_day + 30, "cured"] == 1
    assert penalties[missed_day + 30] == penalty
    assert sum(v for day, v in penalties.items() if day < missed_day + 60) == penalty
    interest = due.interest_fen[k] + due.interest_fen[k + 1] + penalty
    assert round(frame.loc[missed_day + 30, "interest_paid_cny"] * 100) == interest
    assert round(frame.loc[missed_day + 30, "principal_repaid_cny"] * 100) == (
        due.principal_fen[k] + due.principal_fen[k + 1])


def test_prepayment_closes_loans_and_returns_principal():
    model = one_loan_market(run__horizon_days=40, grades__default_hazard_monthly=[0.0] * 7,
                            grades__prepay_hazard_monthly=[1.0] * 7, initial_book__loans=50)
    principal = model.claims_fen()
    model.run()
    loans = model.book.loans
    assert (loans.status == PREPAID).sum() >= 45  # those not in their last month prepay
    assert model.claims_fen() == 0
    frame = model.datacollector.get_model_vars_dataframe()
    assert round(frame.principal_repaid_cny.sum() * 100) == principal


def test_notes_are_paid_pro_rata_to_the_fen():
    model = one_loan_market(run__horizon_days=31, grades__default_hazard_monthly=[0.0] * 7,
                            grades__prepay_hazard_monthly=[0.0] * 7, initial_book__notes_per_loan=7)
    from sim.loans import RepaymentMethod, schedule

    loans = model.book.loans
    plan = schedule(loans.principal_fen[0] / 100, float(loans.annual_rate[0]), int(loans.term[0]),
                    RepaymentMethod(int(loans.method[0])))
    due = int(plan.principal_fen[int(loans.n_paid[0])])  # the principal of the one instalment due
    notes_before = model.book.notes.balance_fen.copy()
    model.run()
    paid = notes_before - model.book.notes.balance_fen
    total = paid.sum()
    assert total == due
    # each note's principal is within one fen of its pro-rata share
    share = total * notes_before / notes_before.sum()
    assert np.all(np.abs(paid - share) < 1.0)


def test_large_loans_split_exactly_beyond_float_precision():
    # 4-5 M CNY loans: a prepayment splits X = B over the notes and X x B exceeds 2**53 fen², so
    # the kernels take the integer division
    model = P2PMarket(rng=6, audit="full", run__horizon_days=70, borrowers__applications_per_day=0.0,
                      borrowers__amount_min_cny=4_000_000.0, borrowers__amount_max_cny=5_000_000.0,
                      initial_book__loans=40, initial_book__notes_per_loan=13,
                      grades__default_hazard_monthly=[0.2] * 7, grades__prepay_hazard_monthly=[0.2] * 7,
                      grades__cure_probability=0.0)
    assert (model.book.loans.balance_fen.astype(float) ** 2 > 2**53).mean() > 0.5
    claims = model.claims_fen()
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame.prepayments.sum() > 0
    # every fen of the opening claims is repaid, written off or still owed (audit="full" checked
    # the notes against the loans every day)
    repaid, written_off = (round(frame[c].sum() * 100) for c in ("principal_repaid_cny",
                                                                 "default_principal_cny"))
    assert repaid + written_off + model.claims_fen() == claims


def test_floor_division_is_exact_on_both_sides_of_2_pow_53():
    from sim.kernels.servicing import floor_div as _floor_div

    rng = np.random.default_rng(0)
    for high in (10**6, 2**40, 2**53 - 1, 2**62):
        x = rng.integers(0, high, size=2000, dtype=np.int64)
        d = rng.integers(1, 2**30, size=2000, dtype=np.int64)
        for xi, di in zip(x, d):
            assert _floor_div(xi, di) == xi // di
        # exact multiples and one below them, the cases where rounding would bite
        for di in d[:200]:
            q = (2**53 - 1) // di
            assert _floor_div(q * di, di) == q and _floor_div(q * di - 1, di) == q - 1
