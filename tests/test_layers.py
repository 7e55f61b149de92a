"""Layered protection (sim.policies.layers): layers in order, each paying what the one before could not."""

from __future__ import annotations

import numpy as np
import pytest

from sim import P2PMarket
from sim.cli import main
from sim.scenario import ScenarioError

from .test_guarantees import GUARANTOR, RESERVE, postings, run
from .test_policies import frame

LEAN_GUARANTOR = GUARANTOR | {"capital_cny": 150_000.0, "leverage_limit": 100.0}
RESERVE_BEHIND = RESERVE | {"initial_cny": 200_000.0, "covers_interest": True}


def layered(*layers):
    return {"policy": "layered", "layers": list(layers)}


def payouts_from(model, account):
    paid = postings(model, "guarantee_payout")
    return paid[paid.source == f"{account}:{model.platforms[0].name}"]


@pytest.mark.parametrize("guarantee", [RESERVE, GUARANTOR], ids=["reserve_fund", "guarantor"])
def test_a_scheme_of_one_layer_is_the_policy_itself_bit_for_bit(guarantee):
    alone = run(days=300, audit="step", platforms__0__guarantee=guarantee)
    as_layer = run(days=300, audit="step", platforms__0__guarantee=layered(guarantee))
    assert frame(alone).equals(frame(as_layer))
    assert alone.ledger.journal().equals(as_layer.ledger.journal())


def test_the_reserve_behind_a_guarantor_pays_only_what_the_guarantor_could_not():
    model = run(days=540, platforms__0__guarantee=layered(LEAN_GUARANTOR, RESERVE_BEHIND))
    platform = model.platforms[0]
    guarantor, reserve = platform.layers
    failed = guarantor.failed_day
    assert failed is not None and reserve.failed_day is None
    by_guarantor = payouts_from(model, "guarantor_capital")
    by_reserve = payouts_from(model, "reserve_fund")
    # to the fen: the guarantor paid out what it received less what it has left
    received = sum(postings(model, m).query("target.str.startswith('guarantor_capital')")
                   .amount_fen.sum() for m in ("guarantor_capital_injection", "guarantee_fee",
                                               "held_repayment_principal",
                                               "held_repayment_interest", "held_recovery"))
    assert by_guarantor.amount_fen.sum() == received - model.account_total("guarantor_capital")
    assert by_guarantor.day.max() <= failed  # it fails on the first claim it cannot pay in full
    assert by_reserve.day.min() == failed  # that day the reserve paid that claim and the rest
    assert guarantor.paid_fen + reserve.paid_fen == platform.guarantee.paid_fen
    assert platform.guarantee.paid_fen == postings(model, "guarantee_payout").amount_fen.sum()
    # investors lost nothing on covered loans while the reserve lasted
    data = frame(model).set_index("day")
    assert data.guarantee_payout_cny.sum() * 100 == pytest.approx(platform.guarantee.paid_fen)
    assert data.guarantor_payout_cny.sum() * 100 == pytest.approx(guarantor.paid_fen)
    assert data.reserve_payout_cny.sum() * 100 == pytest.approx(reserve.paid_fen)


def test_each_layer_holds_the_claims_it_paid_for_and_collects_on_them():
    model = run(days=540, platforms__0__guarantee=layered(LEAN_GUARANTOR, RESERVE_BEHIND))
    loans = model.book.loans.frame()
    held = loans[loans.held_fen > 0]
    assert set(held.holder) == {0, 1}  # some claims the guarantor's, some the reserve's
    name = model.platforms[0].name
    balance = model.ledger.balance
    assert balance("guarantor_claims", 0) == held[held.holder == 0].held_fen.sum()
    assert balance("held_claims", 0) == held[held.holder == 1].held_fen.sum()
    collected = postings(model, "held_repayment_principal")
    assert {f"guarantor_capital:{name}", f"reserve_fund:{name}"} <= set(collected.target)


def test_a_guarantor_that_never_fails_leaves_the_reserve_untouched():
    rich = GUARANTOR | {"capital_cny": 1_000_000_000.0}
    model = run(days=420, platforms__0__guarantee=layered(rich, RESERVE_BEHIND))
    assert len(payouts_from(model, "guarantor_capital")) > 0
    assert len(payouts_from(model, "reserve_fund")) == 0
    assert model.account_total("reserve_fund") == 200_000_00
    assert model.platforms[0].guarantee.unpaid_fen == 0


def test_what_the_last_layer_cannot_pay_is_the_investors_loss():
    poor = RESERVE_BEHIND | {"initial_cny": 50_000.0}
    model = run(days=540, grades__recovery_rate=[0.0] * 7, grades__cure_probability=0.0,
                platforms__0__guarantee=layered(LEAN_GUARANTOR, poor))
    scheme = model.platforms[0].guarantee
    assert scheme.unpaid_fen > 0 and scheme.failed_day is None  # a reserve does not fail
    data = frame(model)
    assert round(data.guarantee_unpaid_cny.sum() * 100) == scheme.unpaid_fen


def test_a_layer_with_a_layer_behind_pays_whole_loans_and_the_next_pays_the_rest():
    from sim import kernels
    from sim.kernels import BuyOutTotals as B

    one = P2PMarket(rng=3, audit="off", run__horizon_days=1, platforms__0__guarantee=layered(
        GUARANTOR, RESERVE_BEHIND), initial_book__loans=20, initial_book__notes_per_loan=4)
    book, loans = one.book, one.book.loans
    rows = np.arange(3)
    day = int(loans.orig_day[:3].max()) + 60
    owed = loans.balance_fen[:3].astype(np.int64)
    first = np.zeros((1, B.N), dtype=np.int64)
    capacity = np.array([owed[0] + owed[1] // 2])  # the first loan and half the second
    detailed = np.zeros(1, dtype=bool)
    kernels.buy_out(rows, day, capacity, False, 0, detailed, book.loan_columns(),
                    book.note_columns(), one.investors.accounts(), first)
    assert int(first[0, B.PRINCIPAL]) == owed[0] and capacity[0] == 0
    assert int(first[0, B.LEFT]) == 0
    second = np.zeros((1, B.N), dtype=np.int64)
    kernels.buy_out(rows, day, np.array([10**12]), False, 1, detailed, book.loan_columns(),
                    book.note_columns(), one.investors.accounts(), second)
    second = second[0]
    assert int(second[B.PRINCIPAL]) == owed[1] + owed[2]
    assert loans.held_fen[:3].tolist() == owed.tolist()
    assert loans.holder[:3].tolist() == [0, 1, 1]  # every claim has one holder
    assert book.note_sums()[:3].tolist() == [0, 0, 0]


@pytest.mark.parametrize("layers, key", [
    ([], "platforms[0].guarantee.layers: is empty"),
    ([{"policy": "reserve_fun"}], "platforms[0].guarantee.layers[0].policy"),
    ([RESERVE, RESERVE], "platforms[0].guarantee.layers[1].policy"),
    ([GUARANTOR, {"policy": "none"}], "platforms[0].guarantee.layers[1].policy"),
    ([RESERVE | {"target_coverage": 1.5}], "platforms[0].guarantee.layers[0].target_coverage"),
    ([{"principal_share": 0.01}], "platforms[0].guarantee.layers[0]"),
])
def test_a_bad_layer_list_names_the_key(layers, key):
    with pytest.raises(ScenarioError, match=key.replace("[", r"\[").replace("]", r"\]")):
        P2PMarket("scenarios/reserve_fund.toml", platforms__0__guarantee=layered(*layers))


def test_a_bad_layer_exits_2_from_the_command_line(tmp_path, capsys):
    scenario = tmp_path / "bad.toml"
    text = open("scenarios/layered_protection.toml", encoding="utf-8").read()
    scenario.write_text(text.replace('policy = "reserve_fund"', 'policy = "reserve_funds"', 1),
                        encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    message = capsys.readouterr().err
    assert "layers[1].policy" in message and "unknown guarantee policy" in message
    assert "Traceback" not in message and not out.exists()
