"""Guarantees (reserve fund, guarantor, insurance), marketing and the fund pool, in the market."""

from __future__ import annotations

import numpy as np
import pytest

from sim import P2PMarket
from sim.policies import PlatformState, PolicyError, build

from .test_policies import RISKY, context, frame


def postings(model, memo):
    journal = model.ledger.journal()
    return journal[journal.memo == memo]


def run(days=420, rng=1, audit="full", **overrides):
    model = P2PMarket(rng=rng, audit=audit, run__horizon_days=days, **(RISKY | overrides))
    model.run()
    return model


# --------------------------------------------------------------------------- reserve fund

RESERVE = {"policy": "reserve_fund", "initial_cny": 300_000.0, "principal_share": 0.0,
           "fee_share": 0.0, "trigger_days": 30}


def test_the_reserve_pays_investors_one_for_one_until_it_is_empty_and_not_a_fen_after():
    # no cures and no recoveries: nothing flows back into the fund once it has paid
    model = run(platforms__0__guarantee=RESERVE, grades__recovery_rate=[0.0] * 7,
                grades__cure_probability=0.0)
    paid = postings(model, "guarantee_payout")
    # the fund held 300,000 CNY and got nothing more: it paid exactly that, and is empty
    assert paid.amount_fen.sum() == 30_000_000
    assert model.account_total("reserve_fund") == 0
    # it paid every claim in full until the day it ran out, then nothing
    data = frame(model).set_index("day")
    empty_day = paid.day.max()
    assert (data.loc[:empty_day - 1, "guarantee_unpaid_cny"] == 0).all()
    assert data.loc[empty_day:, "guarantee_unpaid_cny"].sum() > 0
    assert data.loc[empty_day + 1:, "guarantee_payout_cny"].sum() == 0
    # one for one: what investors received is the principal the fund took over
    taken = postings(model, "claim_to_guarantee").amount_fen.sum()
    assert taken == paid.amount_fen.sum()  # principal only (covers_interest = false)
    guarantee = model.platforms[0].guarantee
    assert guarantee.paid_fen == 30_000_000 and guarantee.unpaid_fen > 0
    assert guarantee.unpaid_fen == round(data.guarantee_unpaid_cny.sum() * 100)


def test_money_back_into_the_reserve_is_paid_out_again_and_never_more():
    model = run(platforms__0__guarantee=RESERVE)  # cures and recoveries refill the fund
    receipts = sum(postings(model, memo).amount_fen.sum() for memo in
                   ("reserve_initial", "held_repayment_principal", "held_repayment_interest",
                    "held_recovery"))
    paid = postings(model, "guarantee_payout").amount_fen.sum()
    assert paid > 30_000_000
    assert paid == receipts - model.account_total("reserve_fund")
    data = frame(model)
    short = data[data.guarantee_unpaid_cny > 0]
    assert len(short) > 0 and (short.reserve_fund_cny == 0).all()  # short only when empty


def test_while_the_reserve_lasts_investors_lose_nothing_on_covered_loans():
    big = RESERVE | {"initial_cny": 200_000_000.0, "covers_interest": True}
    model = run(days=360, platforms__0__guarantee=big, platforms__0__capital_cny=250_000_000.0)
    data = frame(model)
    assert data.defaults.sum() > 20 and data.guarantee_payouts.sum() > 20
    assert data.guarantee_unpaid_cny.sum() == 0
    assert data.investor_loss_cny.sum() == 0  # the fund owned every loan written off
    assert model.investors.principal_lost_fen.sum() == 0
    # the fund bears the loss and collects the recoveries
    assert postings(model, "held_write_off").amount_fen.sum() > 0
    assert postings(model, "held_recovery").amount_fen.sum() > 0
    # covering interest: investors got more than the principal the fund took over
    assert postings(model, "guarantee_payout").amount_fen.sum() > \
        postings(model, "claim_to_guarantee").amount_fen.sum()


def test_reserve_contributions_from_principal_and_fees_and_coverage_reported():
    spec = RESERVE | {"initial_cny": 0.0, "principal_share": 0.02, "fee_share": 0.5}
    model = run(days=90, platforms__0__guarantee=spec)
    volume = frame(model).volume_cny.sum() * 100
    contributions = postings(model, "reserve_contribution").amount_fen.sum()
    assert contributions == pytest.approx(0.02 * volume, abs=len(model.book))
    fee_part = postings(model, "service_fee_to_reserve_fund").amount_fen.sum()
    kept = postings(model, "service_fee").amount_fen.sum()
    assert fee_part == pytest.approx(kept, abs=len(model.book))  # half of the fees each
    data = frame(model)
    last = data.iloc[-1]
    assert last.reserve_coverage == pytest.approx(last.reserve_fund_cny / last.investor_claims_cny)


# --------------------------------------------------------------------------- guarantor

GUARANTOR = {"policy": "guarantor", "capital_cny": 1_500_000.0, "guarantee_fee": 0.0,
             "leverage_limit": 100.0, "trigger_days": 30}


def _reserve_after_openings(months, **rules):
    """The reserve's balance and covered principal right after each month's opening (fen)."""
    from sim.market.accounts import AccountKind

    model = P2PMarket("scenarios/reserve_fund.toml", audit="full", run__horizon_days=30 * months + 1,
                      **{f"platforms__0__guarantee__{k}": v for k, v in rules.items()})
    platform, rows = model.platforms[0], []
    base = "guaranteed_arrears_fen" if rules.get("coverage_of") == "arrears" else \
        "guaranteed_outstanding_fen"
    for _ in range(months):
        model.run(30)  # ends with the next month's opening done
        rows.append((model.bookkeeper.balance(platform, AccountKind.RESERVE_FUND),
                     getattr(platform.state, base)))
    return model, rows


def test_a_top_up_rule_brings_the_reserve_to_its_target_coverage_each_month_to_the_fen():
    model, rows = _reserve_after_openings(8, target_coverage=0.05)
    top_ups = postings(model, "reserve_top_up")
    assert len(top_ups) >= 6 and model.platforms[0].guarantee.top_up_short_fen == 0
    for balance, covered in rows:
        assert balance >= -(-5 * covered // 100)  # at least ceil(5 % of covered principal)
    topped = {int(d) // 30: a for d, a in zip(top_ups.day, top_ups.amount_fen)}
    exact = [balance == -(-5 * covered // 100) for m, (balance, covered) in enumerate(rows, 1)
             if m in topped]
    assert exact and all(exact)  # a month topped up ends exactly at the target


def test_a_reserve_can_be_kept_at_a_coverage_of_the_covered_loans_in_arrears():
    model, rows = _reserve_after_openings(11, target_coverage=1.0, coverage_of="arrears")
    assert model.platforms[0].guarantee.top_up_short_fen == 0
    assert all(balance >= arrears for balance, arrears in rows)
    assert any(balance == arrears > 0 for balance, arrears in rows)  # a month it was topped up


def test_a_cap_releases_the_excess_and_a_minimum_is_kept():
    model, rows = _reserve_after_openings(6, cap_coverage=0.01, minimum_cny=2_000_000.0)
    assert len(postings(model, "reserve_release")) >= 3
    for balance, covered in rows:  # never below the minimum, never above the cap over it
        assert 200_000_000 <= balance <= max(covered // 100, 200_000_000)


def test_a_top_up_rule_pays_claims_a_plain_reserve_leaves_unpaid():
    def unpaid(**rules):
        model = P2PMarket("scenarios/reserve_fund.toml", audit="off", run__horizon_days=720,
                          **{f"platforms__0__guarantee__{k}": v for k, v in rules.items()})
        model.run()
        return model.platforms[0].guarantee.unpaid_fen

    plain = unpaid(principal_share=0.005, fee_share=0.0)
    assert plain > 0
    assert unpaid(principal_share=0.005, fee_share=0.0, target_coverage=0.08) < plain


@pytest.mark.parametrize("rules, key", [
    ({"target_coverage": 0.0}, "target_coverage"), ({"target_coverage": 1.5}, "target_coverage"),
    ({"target_coverage": 0.05, "cap_coverage": 0.02}, "cap_coverage must be at least"),
    ({"target_coverage": 0.05, "coverage_of": "claims"}, "coverage_of"),
])
def test_bad_funding_rules_name_the_key(rules, key):
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=key):
        P2PMarket("scenarios/reserve_fund.toml",
                  **{f"platforms__0__guarantee__{k}": v for k, v in rules.items()})


def test_a_guarantor_that_fails_passes_later_losses_to_investors():
    model = run(days=540, platforms__0__guarantee=GUARANTOR)
    guarantor = model.platforms[0].guarantor
    assert guarantor.failed and model.platforms[0].guarantee.unpaid_fen > 0
    failed_day = model.platforms[0].guarantee.failed_day
    data = frame(model).set_index("day")
    # before it failed, every defaulted loan had been paid for: investors lost nothing
    assert data.loc[:failed_day, "investor_loss_cny"].sum() == 0
    # after, it pays nothing more and investors bear the losses
    assert data.loc[failed_day + 1:, "guarantee_payout_cny"].sum() == 0
    assert data.loc[failed_day + 1:, "investor_loss_cny"].sum() > 0
    # and it guarantees no new loan
    loans = model.book.loans.frame()
    assert (loans[loans.orig_day > failed_day].covered == 0).all()


def test_a_guarantor_covers_new_loans_only_within_its_leverage_limit():
    policy = build("guarantee", GUARANTOR | {"leverage_limit": 10.0}, context())
    state = PlatformState(guarantee_fund_fen=100_000_00, guaranteed_outstanding_fen=800_000_00)
    covered = policy.covers(np.full(5, 50_000_00), state)  # room: 10 x 100 k - 800 k = 200 k
    assert covered.tolist() == [True, True, True, True, False]
    model = run(days=180, audit="step", platforms__0__guarantee=GUARANTOR | {
        "capital_cny": 200_000.0, "leverage_limit": 5.0, "trigger_days": 90})
    loans = model.book.loans.frame()
    assert 0 < loans.covered.mean() < 1
    assert loans[loans.covered == 1].principal_fen.sum() <= 5 * 200_000_00 * 1.1 + 200_000_00


def test_guarantee_fees_go_to_the_guarantor():
    model = run(days=60, platforms__0__guarantee=GUARANTOR | {"guarantee_fee": 0.03})
    fees = postings(model, "guarantee_fee").amount_fen.sum()
    covered = model.book.loans.frame().query("covered == 1").principal_fen
    assert fees == np.floor(covered * 0.03 + 0.5).sum()


# --------------------------------------------------------------------------- insurance

def test_insurance_pays_up_to_its_limit_and_is_paid_a_premium():
    spec = {"policy": "insurance", "premium_rate": 0.02, "limit_cny": 200_000.0}
    model = P2PMarket(rng=1, audit="full", run__horizon_days=420,
                      **(RISKY | {"platforms__0__guarantee": spec}))
    asked = []  # each month: 2 % / 12 of the covered book, read from the books at the month's start
    model.hooks.after_review.append(lambda platform: asked.append(
        round(0.02 / 12.0 * platform.state.guaranteed_outstanding_fen)))
    model.run()
    assert postings(model, "guarantee_payout").amount_fen.sum() == 20_000_000
    assert len(asked) == 14 and asked[-1] > 0
    assert postings(model, "insurance_premium").amount_fen.sum() == sum(asked)
    assert postings(model, "held_recovery").amount_fen.sum() == 0  # recoveries go to the insurer
    assert model.account_total("held_claims") >= 0


# --------------------------------------------------------------------------- marketing

def channel(budget, **extra):
    return {"name": "search", "kind": "cpc", "budget_monthly_cny": budget, "unit_cost_cny": 10.0,
            "saturation_units": 20_000.0, "register_rate": 0.1, "activation_rate": 0.5} | extra


def test_more_spend_brings_more_users_at_a_rising_cost_per_user():
    plans = []
    for budget in (50_000.0, 100_000.0, 200_000.0, 400_000.0):
        policy = build("marketing", {"policy": "channels", "channels": [channel(budget)]}, context())
        plan = policy.plan_month(PlatformState(platform_cash_fen=10**12))
        plans.append(plan.channels[0])
    users = [c.expected_users for c in plans]
    cost = [c.spend_fen / 100 / c.expected_users for c in plans]
    assert users == sorted(users) and cost == sorted(cost) and len(set(cost)) == 4
    assert cost[0] == pytest.approx(10.0 / 0.05 * 1.14, rel=0.05)  # 200 CNY a user at first


def test_more_spend_brings_more_users_in_the_market():
    results = {}
    for budget in (100_000.0, 800_000.0):
        model = run(days=180, audit="step", platforms__0__marketing={
            "policy": "channels", "channels": [channel(budget)]})
        table = model.datacollector.get_table_dataframe("marketing")
        results[budget] = (table.new_users.sum(), table.spend_cny.sum() / table.new_users.sum())
        assert len(model.investors) == 2000 + table.new_users.sum()
        assert postings(model, "marketing:search").amount_fen.sum() == table.spend_cny.sum() * 100
    assert results[800_000.0][0] > 2 * results[100_000.0][0]
    assert results[800_000.0][1] > 1.5 * results[100_000.0][1]


def test_red_packets_go_to_new_investors_and_referrals_to_existing_ones():
    channels = [channel(20_000.0, name="packets", kind="red_packet", unit_cost_cny=20.0,
                        saturation_units=5_000.0),
                channel(20_000.0, name="invite", kind="referral", unit_cost_cny=50.0,
                        saturation_units=5_000.0)]
    model = run(days=90, platforms__0__marketing={"policy": "channels", "channels": channels})
    table = model.datacollector.get_table_dataframe("marketing")
    for name in ("packets", "invite"):
        paid = postings(model, f"marketing:{name}")
        assert (paid.target == "investor_cash:platform").all() and paid.amount_fen.sum() > 0
    assert (table.new_users > 0).all()


def test_investors_leave_when_returns_or_trust_fall():
    market = P2PMarket(rng=1, run__horizon_days=30, investors__count=100, initial_book__loans=0,
                       investors__churn_base=0.01, investors__churn_sensitivity=1.0,
                       investors__trust_sensitivity=0.05, investors__target_return=0.08,
                       investors__reputation_sensitivity=10.0)
    share = market.investors.leaving_share
    assert share(PlatformState(month=3, investor_return_annual=0.09)) == 0.01
    assert share(PlatformState(month=3, investor_return_annual=0.05)) == 0.01 + 1.0 * 0.03
    assert share(PlatformState(month=3, investor_return_annual=0.09, loss_rate_annual=0.05)) \
        == 0.01 + 0.05 * (1.0 - 0.5)  # reputation 1 - 10 x 5 %
    assert share(PlatformState(month=0, investor_return_annual=0.0)) == 0.01  # nothing to miss yet


def test_churn_settings_in_marketing_say_where_they_moved():
    with pytest.raises(PolicyError, match=r"churn_base: investors decide when to leave; set it in "
                                          r"\[investors\]"):
        build("marketing", {"policy": "channels", "churn_base": 0.01}, context())


def test_word_of_mouth_and_churn():
    spec = {"policy": "channels", "word_of_mouth": 0.05, "reputation_sensitivity": 0.0}
    grow = run(days=181, audit="step", platforms__0__marketing=spec)  # 7 month starts
    assert 2000 * 1.05 ** 6 < int(grow.investors.active.sum()) < 2000 * 1.05 ** 8
    churn = run(days=181, audit="step", investors__churn_base=0.1)
    active = int(churn.investors.active.sum())
    assert 2000 * 0.9 ** 8 < active < 2000 * 0.9 ** 6
    gone = ~churn.investors.active
    assert (churn.investors.max_grade[gone] == -1).all()


# --------------------------------------------------------------------------- fund pool

POOL = {"platforms__0__funding": "fund_pool", "platforms__0__transfer_fee": 0.01,
        "platforms__0__fund_pool": {"product_term_months": 3, "product_rate": 0.1,
                                    "rollover_share": 0.5, "early_exit_share": 0.05}}


def test_a_fund_pool_lends_first_and_pays_redemptions_from_its_cash():
    model = run(days=360, **POOL)
    loans = model.book.loans.frame()
    assert len(loans) > 0 and (loans.note_end == loans.note_start).all()  # the pool owns them
    assert postings(model, "product_subscription").amount_fen.sum() > 0
    assert postings(model, "product_redemption").amount_fen.sum() > 0
    assert postings(model, "transfer_fee").amount_fen.sum() > 0
    assert postings(model, "bid").empty  # investors never bid on a pool's listings


def test_a_fund_pool_short_of_cash_pays_redemptions_in_part_and_stops_lending():
    # few investors, heavy lending, nobody rolls over: the pool runs out of cash
    model = run(days=360, **(POOL | {"borrowers__applications_per_day": 60.0,
                                     "investors__count": 300,
                                     "platforms__0__fund_pool": {"rollover_share": 0.0}}))
    platform = model.platforms[0]
    assert platform.pool_overdue_fen > 0
    table = model.datacollector.get_table_dataframe("platforms")
    first_overdue = table[table.pool_overdue_cny > 0].day.min()
    assert frame(model).set_index("day").loc[first_overdue + 30:, "volume_cny"].sum() == 0


def test_insurance_cover_lapses_when_the_premium_is_not_paid():
    spec = {"policy": "insurance", "premium_rate": 0.5, "limit_cny": 1e9, "trigger_days": 90}
    # a platform with no capital and no income cannot pay a 50 % premium: new loans go uncovered
    model = run(days=180, audit="step", platforms__0__guarantee=spec,
                platforms__0__capital_cny=0.0, platforms__0__service_fee=0.0,
                platforms__0__management_fee=0.0)
    guarantee = model.platforms[0].guarantee
    assert guarantee.lapsed
    loans = model.book.loans.frame()
    assert loans.covered.iloc[0] == 1 and loans.covered.iloc[-1] == 0
