"""A pooled reserve-fund platform's reserve pays by the one protection path of a detailed layer.

At ``[industry.reserve_fund] trigger_days`` past due the reserve buys the loan from its investors
(代偿, :func:`sim.kernels.buy_out`), takes its later payments and its recovery, and pays while it
has money and the platform operates; a reserve that leaves a claim unpaid has run dry, news its
investors hear once (``[runs] state_shock``), as a detailed platform's do.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.kernels import ACTIVE, POOLED_RESERVE
from sim.ledger import AccountKind
from sim.model import P2PMarket

from .conftest import ROOT
from .test_industry_detailed import ROW, TWIN_COMMON

THUNDERSTORM = ROOT / "scenarios" / "thunderstorm_2018.toml"
RESERVE_PLATFORMS = TWIN_COMMON.replace("model_shares = {{ pure_intermediary = 1.0 }}",
                                        "model_shares = {{ reserve_fund = 1.0 }}")
LISTENING = """
[runs]
enabled = true
rule = "never"                        # nobody runs: trust is watched, not acted on
"""


def _market(tmp_path, horizon: int = 360, runs: bool = False, **overrides) -> P2PMarket:
    (tmp_path / "twin.csv").write_text(ROW, encoding="utf-8")
    text = RESERVE_PLATFORMS.format(seed=4) + (LISTENING if runs else "")
    (tmp_path / "reserve.toml").write_text(text, encoding="utf-8")
    return P2PMarket(tmp_path / "reserve.toml", audit="full",
                     **{"run.horizon_days": horizon, **overrides})


def _journal_sum(model, memo: str, side: str, kind: str) -> int:
    journal = model.ledger.journal()
    rows = journal[(journal.memo == memo) & journal[side].str.startswith(f"{kind}:")]
    return int(rows.amount_fen.sum())


def test_a_reserve_with_money_buys_the_late_loans_and_the_investors_lose_nothing(tmp_path):
    model = _market(tmp_path, **{"industry.reserve_fund.opening_coverage": 0.5})
    model.run()
    industry, loans = model.industry, model.book.loans
    assert industry.has_reserve.all() and not industry.reserve_dry.any()
    bought = loans.holder == POOLED_RESERVE
    assert bought.sum() > 50 and (loans.covered[bought] >> POOLED_RESERVE & 1 == 1).all()
    frame = industry.tracker.frame()
    assert frame.reserve_payouts_cny.sum() > 0 and frame.losses_cny.sum() == 0
    paid = _journal_sum(model, "guarantee_payout", "source", "reserve_fund")
    assert paid == round(frame.reserve_payouts_cny.sum() * 100)
    # the loans it bought are its own: their write-offs and repayments are the reserve's
    assert _journal_sum(model, "held_write_off", "source", "held_claims") > 0
    assert _journal_sum(model, "default_write_off", "source", "investor_claims") == 0
    assert _journal_sum(model, "held_repayment_principal", "target", "reserve_fund") > 0
    held = loans.balance_fen[bought & (loans.status == ACTIVE)].astype(np.int64).sum()
    assert held == model.ledger.accounts[AccountKind.HELD_CLAIMS].sum()
    # the loans' whole outstanding, whoever holds them, is the tracker's balance
    outstanding = loans.balance_fen[loans.status == ACTIVE].astype(np.int64).sum()
    assert outstanding == industry.outstanding_fen().sum()


def test_an_empty_reserve_pays_nothing_and_its_investors_hear_it_has_run_dry(tmp_path):
    empty = {"industry.reserve_fund.fee_share": 0.0}  # no opening money, no fees: nothing to pay
    model = _market(tmp_path, horizon=150, runs=True, **empty)
    calm = _market(tmp_path, horizon=150, runs=True, **empty, **{"runs.state_shock": 0.0})
    for day in range(150):
        model.step()
        calm.step()
        if model.industry.reserve_dry.any():
            break
    assert model.industry.reserve_dry.all() and calm.industry.reserve_dry.all()
    model.step()  # the news is heard at the next update of trust
    calm.step()
    drop = calm.runs.pooled.level.mean() - model.runs.pooled.level.mean()
    assert 0.2 < drop <= 0.3 + 1e-6  # state_shock 0.3, less a day's recovery
    assert _journal_sum(model, "guarantee_payout", "source", "reserve_fund") == 0
    assert day >= 30  # no claim reaches the reserve before 30 days past due


def test_the_reserve_opens_from_its_owners_within_their_registered_capital(tmp_path):
    model = _market(tmp_path, horizon=30, **{"industry.reserve_fund.opening_coverage": 0.1})
    industry = model.industry
    opened = _journal_sum(model, "reserve_initial", "target", "reserve_fund")
    book = industry.outstanding_fen().sum()
    assert opened == pytest.approx(0.1 * book, rel=1e-6, abs=2)
    assert industry.capital_called_fen.sum() >= opened


@pytest.mark.parametrize("setting, words", [
    ("industry.reserve_fund.trigger_days=120", ["industry.reserve_fund.trigger_days",
                                                "loans.default_after_days (90)"]),
    ("industry.behaviour.reserve_share_of_fees=0.3", ["reserve_share_of_fees",
                                                      "renamed [industry.reserve_fund] fee_share"]),
    ("industry.reserve_fund.opening_coverage=2", ["industry.reserve_fund.opening_coverage"]),
    ("investors.withdraw_share_monthly=0.1", ["investors.withdraw_share_monthly",
                                              "deposit_daily and withdrawal_daily"])])
def test_a_bad_pooled_reserve_key_is_refused_by_name(tmp_path, capsys, setting, words):
    from sim.cli import main

    code = main(["run", str(THUNDERSTORM), "--set", setting, "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2 and all(word in error for word in words), error
    assert "Traceback" not in error and not (tmp_path / "out").exists()
