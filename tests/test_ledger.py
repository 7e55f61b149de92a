"""The ledger: integer fen, no money created or lost, after every step of random markets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import P2PMarket
from sim.ledger import WORLD, AccountKind, Ledger, LedgerError, Memo


def test_transfers_conserve_and_refuse_overdrafts():
    ledger = Ledger(["a"])
    cash = AccountKind.INVESTOR_CASH
    ledger.transfer(0, WORLD, cash, 1000, Memo.DEPOSIT)
    assert ledger.balance(WORLD, 0) == -1000 and ledger.total() == 0
    with pytest.raises(LedgerError, match="investor_cash:a holds 1000 fen, cannot pay 1001"):
        ledger.transfer(0, cash, WORLD, 1001, Memo.WITHDRAWAL)
    with pytest.raises(LedgerError, match="negative"):
        ledger.transfer(0, WORLD, cash, -5, Memo.DEPOSIT)
    with pytest.raises(LedgerError, match="unknown account kind"):
        ledger.transfer(0, WORLD, "nowhere", 5, Memo.DEPOSIT)
    with pytest.raises(LedgerError, match="a Memo"):
        ledger.transfer(0, WORLD, cash, 5, "a memo typed as text")
    with pytest.raises(LedgerError, match="names its channel"):
        ledger.transfer(0, WORLD, cash, 5, Memo.MARKETING)
    ledger.check()
    assert ledger.journal().amount_fen.sum() == 1000


def test_vector_postings_conserve_to_the_fen_and_refuse_an_overdraft_on_any_platform():
    ledger = Ledger(["a", "b", "c"], journal_days=30)
    cash, claims = AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_CLAIMS
    ledger.post(WORLD, cash, np.array([100, 0, 7]), Memo.DEPOSIT)
    ledger.day = 29
    ledger.post(cash, claims, np.array([40, 0, 7]), Memo.DISBURSEMENT)
    ledger.transfer(2, claims, cash, 3, Memo.REPAYMENT_PRINCIPAL)
    before = ledger.balances()
    with pytest.raises(LedgerError, match="investor_cash:a holds 60 fen, cannot pay 61"):
        ledger.post(cash, WORLD, np.array([61, 0, 0]), Memo.WITHDRAWAL)
    with pytest.raises(LedgerError, match="negative"):
        ledger.post(WORLD, cash, np.array([1, -1, 0]), Memo.DEPOSIT)
    assert ledger.balances() == before and ledger.total() == 0
    ledger.check()
    journal = ledger.journal()
    assert set(journal.day) == {0}  # a month's journal: the period's first day
    assert journal.groupby("memo").amount_fen.sum().to_dict() == {
        "deposit": 107, "disbursement": 47, "repayment_principal": 3}
    assert list(journal[journal.memo == "deposit"].target) == ["investor_cash:a", "investor_cash:c"]


def random_policies(rng: np.random.Generator) -> dict:
    """A platform's policies and fees drawn at random: every family, every built-in."""
    pricing = [{"policy": "grid", "spread": float(rng.uniform(-0.02, 0.05))},
               {"policy": "risk_based", "cost_of_funds": float(rng.uniform(0.03, 0.1)),
                "rate_cap": float(rng.uniform(0.1, 0.36)),
                "above_cap": str(rng.choice(["cap", "reject"]))},
               {"policy": "market_responsive", "step": 0.01}][rng.integers(3)]
    risk = {"policy": "scorecard", "min_score": float(rng.uniform(300, 700)),
            "cap_action": str(rng.choice(["reject", "trim"])),
            "person_cap_platform_cny": float(rng.uniform(20_000, 200_000)),
            "max_grade_share": float(rng.uniform(0.3, 1.0)),
            "collection_intensity": float(rng.uniform(0.5, 2.0)),
            "collection_cost_monthly_cny": float(rng.uniform(0, 50)),
            "early_warning": bool(rng.integers(2)), "warning_bad_rate": 0.02}
    trigger = int(rng.integers(1, 91))
    guarantee = [{"policy": "none"},
                 {"policy": "reserve_fund", "initial_cny": float(rng.uniform(0, 50_000)),
                  "principal_share": float(rng.uniform(0, 0.05)),
                  "fee_share": float(rng.uniform(0, 1)), "trigger_days": trigger,
                  "covers_interest": bool(rng.integers(2))},
                 {"policy": "guarantor", "capital_cny": float(rng.uniform(0, 200_000)),
                  "leverage_limit": float(rng.uniform(1, 20)), "trigger_days": trigger,
                  "guarantee_fee": float(rng.uniform(0, 0.05))},
                 {"policy": "insurance", "limit_cny": float(rng.uniform(0, 100_000)),
                  "premium_rate": float(rng.uniform(0, 0.05)),
                  "trigger_days": trigger}][rng.integers(4)]
    channels = [{"name": kind, "kind": kind, "budget_monthly_cny": float(rng.uniform(0, 20_000)),
                 "unit_cost_cny": float(rng.uniform(1, 100)), "saturation_units": 500.0,
                 "side": "borrowers" if kind == "offline" else "investors"}
                for kind in ("cpc", "red_packet", "referral", "offline")]
    marketing = [{"policy": "none"},
                 {"policy": "channels", "channels": channels,
                  "word_of_mouth": 0.01}][rng.integers(2)]
    pool = guarantee["policy"] == "none" and rng.random() < 0.4
    return {"pricing": pricing, "risk": risk, "guarantee": guarantee, "marketing": marketing,
            "service_fee_timing": str(rng.choice(["upfront", "monthly"])),
            "withdrawal_fee": float(rng.uniform(0, 0.01)), "transfer_fee": 0.01,
            "funding": "fund_pool" if pool else "auto_invest",
            "fund_pool": {"rollover_share": float(rng.uniform(0, 1)), "early_exit_share": 0.05}}


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1),
       rho=st.floats(0.0, 0.5),
       cure=st.floats(0.0, 0.9),
       hazard_scale=st.floats(0.5, 30.0),
       prepay=st.floats(0.0, 0.3),
       penalty=st.floats(0.0, 0.005),
       fee=st.floats(0.0, 0.5),
       window=st.integers(1, 10),
       cash=st.floats(0.0, 50000.0),
       method=st.sampled_from(["annuity", "equal_principal", "interest_only", "bullet"]),
       term=st.integers(1, 12),
       opening=st.integers(0, 300),
       platforms=st.integers(1, 3),
       policy_seed=st.integers(0, 2**32 - 1))
def test_books_balance_after_every_step(seed, rho, cure, hazard_scale, prepay, penalty, fee, window,
                                        cash, method, term, opening, platforms, policy_seed):
    base = [0.00194, 0.00438, 0.0058, 0.00745, 0.00831, 0.01171, 0.01235]
    choose = np.random.default_rng(policy_seed)
    platform_tables = [{"name": f"p{i}", "market_share": 1 / platforms,
                        "investor_share": 1 / platforms, "funding_window_days": window,
                        "penalty_daily_rate": penalty, "management_fee": fee,
                        "operating_cost_monthly_cny": 50000.0, "capital_cny": 100000.0,
                        **random_policies(choose)}
                       for i in range(platforms)]
    scenario = {
        "run": {"horizon_days": 150},
        "macro": {"asset_correlation": rho},
        "grades": {"default_hazard_monthly": [min(1.0, h * hazard_scale) for h in base],
                   "prepay_hazard_monthly": [prepay] * 7, "cure_probability": min(cure, 0.99)},
        "borrowers": {"applications_per_day": 6.0, "terms_months": [term], "term_share": [1.0],
                      "methods": [method], "method_share": [1.0]},
        "investors": {"count": 300, "initial_cash_median_cny": cash, "bid_fraction": 0.1,
                      "multi_home_share": 0.5, "churn_base": float(choose.uniform(0, 0.1))},
        "platforms": platform_tables,
        "initial_book": {"loans": opening, "notes_per_loan": 7},
    }
    # audit="full" checks the ledger, the investors' cash, committed bids, every loan's notes and
    # held part, held claims and the investors' income against the ledger after every step; any
    # fen out raises LedgerError
    model = P2PMarket(scenario, rng=seed % 1000, audit="full")
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 150
    assert model.ledger.total() == 0


def _stray_posting(market, kind):
    platform = market.platforms[0]
    market.ledger.transfer(platform.index, kind, WORLD, 1, Memo.OPERATING_COST)


CORRUPTIONS = {
    "a posting out of investors' cash": (
        lambda m: _stray_posting(m, AccountKind.INVESTOR_CASH), "investors' cash on"),
    "a posting out of investors' claims": (
        lambda m: _stray_posting(m, AccountKind.INVESTOR_CLAIMS), "investor_claims on"),
    "a note's balance": (
        lambda m: m.book.notes.balance_fen.__setitem__(5, m.book.notes.balance_fen[5] - 1),
        "notes and held part do not add up"),
    "an investor's cash": (
        lambda m: m.investors.cash_fen.__setitem__((17, 0), m.investors.cash_fen[17, 0] + 1),
        "investors' cash on"),
    "an investor's income": (
        lambda m: m.investors.net_income_fen.__setitem__(17, m.investors.net_income_fen[17] + 1),
        "investors' income does not match"),
    "a loan's balance": (
        lambda m: m.book.loans.balance_fen.__setitem__(3, m.book.loans.balance_fen[3] + 1),
        "investor_claims on"),
}


@pytest.mark.parametrize("what", list(CORRUPTIONS))
def test_the_audit_catches_one_fen_out_of_place(what):
    """Corrupt one thing by one fen after a few days: the full audit names what is off."""
    corrupt, message = CORRUPTIONS[what]
    market = P2PMarket(rng=3, audit="off", run__horizon_days=60, initial_book__loans=200,
                       investors__count=300)
    market.run(35)
    market.audit(full=True)  # the books balance before
    corrupt(market)
    with pytest.raises(LedgerError, match=message):
        market.audit(full=True)
