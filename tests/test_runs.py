"""Runs on a platform: the mechanisms of docs/runs.md, each shown by what it does."""

from __future__ import annotations

import numpy as np
import pytest

from sim.company.report import company_books, statement_total
from sim.kernels import ACTIVE
from sim.model import P2PMarket
from sim.runs.diamond_dybvig import classic_failure_share, failure_share, patient_run_share
from sim.runs.states import RunState
from sim.scenario import ScenarioError, load_scenario

RUN_SCENARIO = "scenarios/run_fund_pool.toml"
SMALL = {"investors__count": 4000, "borrowers__applications_per_day": 15.0,
         "run__horizon_days": 420}


def pool_market(**overrides) -> P2PMarket:
    """A lone fund pool in Diamond and Dybvig's setting: no own money, no costs, no news."""
    scenario = {
        "run": {"horizon_days": 300, "seed": 3},
        "borrowers": {"applications_per_day": 20.0, "terms_months": [36], "term_share": [1.0]},
        "investors": {"count": 3000, "monthly_deposit_median_cny": 0.0,
                      "withdraw_share_monthly": 0.0},
        "runs": {"enabled": True, "rule": "never"},
        "platforms": [{"name": "pool", "funding": "fund_pool", "capital_cny": 0.0,
                       "operating_cost_monthly_cny": 0.0,
                       "fund_pool": {"product_term_months": 36, "rollover_share": 1.0},
                       "liquidity": {"capital_call_limit_cny": 0.0, "fire_sale_price": 0.6,
                                     "custody": False}}],
    }
    return P2PMarket(scenario, audit="full", **overrides)


@pytest.mark.parametrize("factor", [0.9, 0.98, 1.02, 1.1])
def test_diamond_dybvig_limit_fails_exactly_beyond_the_closed_form_share(factor):
    market = pool_market()
    market.run(150)
    pool, day = market.platforms[0], market.day
    books, loans = market.bookkeeper, market.book.loans
    current = (loans.status == ACTIVE) & (loans.first_missed_day < 0)
    cash = books.balance(pool, "pool_cash") + books.balance(pool, "platform_cash")  # fees kept
    book = int(loans.held_fen[current].sum())
    liabilities = int(market.investors.product_fen[:, 0].sum())
    threshold = failure_share(cash, book, 0.6, liabilities)
    assert 0.05 < threshold < 0.95  # a pool that has lent most of its money
    market.runs.liquidity_shock(pool, min(1.0, threshold * factor), day)
    asked = market.runs.queue.requested_fen[0] / liabilities  # the share drawn, to the fen
    market.runs.pay_queues(day)
    market.audit(full=True)
    slack = current.sum() / liabilities  # fire sales round each loan's price down to the fen
    assert abs(asked / threshold - factor) < 0.06
    if asked > threshold + slack:
        assert pool.run.state == RunState.CLOSED
        assert pool.run.failure_reason == "cannot pay redemptions with every loan sold"
    else:
        assert asked < threshold
        assert pool.run.state == RunState.NORMAL
        assert market.runs.queue.total_fen(pool) == 0


def test_closed_forms_agree_with_diamond_dybvig():
    assert classic_failure_share(1.1, 0.8) == pytest.approx(failure_share(0.0, 1 / 1.1, 0.8, 1.0))
    # patient investors are indifferent at the threshold: R (1 - f r1 / L) / (1 - f) = r1
    r1, big_r, low = 1.1, 1.5, 0.8
    f = patient_run_share(r1, big_r, low)
    assert big_r * (1 - f * r1 / low) / (1 - f) == pytest.approx(r1)


def test_fund_pool_fails_under_the_shock_the_intermediary_survives():
    market = P2PMarket(RUN_SCENARIO, audit="step", **SMALL)
    market.run()
    pool, intermediary = market.platforms
    assert pool.run.state.failed and pool.run.failed_day >= 360
    assert intermediary.run.state == RunState.NORMAL
    assert intermediary.run.losses_fen["transfer_discount"] > 0  # exits went through 债权转让
    assert market.runs.queue.total_fen(intermediary) == 0        # custody: every withdrawal paid
    assert pool.run.losses_fen["unpaid"] > 0


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_failure_rises_with_the_shock_with_a_threshold():
    failed = []
    for shock in (0.0, 0.05, 0.3, 0.45):
        market = P2PMarket(RUN_SCENARIO, audit="off", runs__events__0__trust_shock=shock, **SMALL)
        market.run()
        failed.append(market.platforms[0].run.state.failed)
    assert failed == sorted(failed) and failed[0] is False and failed[-1] is True


def test_no_shock_no_run_and_runs_off_changes_nothing():
    quiet = P2PMarket(RUN_SCENARIO, audit="off", runs__events__0__trust_shock=0.0, **SMALL)
    quiet.run()
    assert all(p.run.state == RunState.NORMAL for p in quiet.platforms)


def test_operators_flee_reach_investors_cash_only_without_custody():
    market = P2PMarket("scenarios/custody_vs_none.toml", audit="full", run__horizon_days=200)
    market.run()
    custody, none = market.platforms
    assert custody.run.state == none.run.state == RunState.FLED
    assert none.run.losses_fen["taken"] > 0
    assert custody.run.losses_fen["taken"] == 0
    assert custody.run.taken_fen > 0  # its own cash and reserve were within reach
    journal = market.ledger.journal()
    taken = journal[journal.memo == "taken_by_operators"].amount_fen.sum()
    assert taken == custody.run.taken_fen + none.run.taken_fen


def test_capital_calls_then_failure_instead_of_unpaid_costs():
    market = P2PMarket(None, run__horizon_days=120, platforms__0__capital_cny=0.0,
                       platforms__0__operating_cost_monthly_cny=5_000_000.0,
                       platforms__0__liquidity__capital_call_limit_cny=150_000.0, audit="step")
    market.run()
    platform = market.platforms[0]
    assert platform.run.capital_called_fen == 15_000_000
    assert platform.run.state == RunState.CLOSED
    assert platform.run.failure_reason == "cannot pay its costs"
    # the owners' calls are their money, not the platform's profit
    cash = market.bookkeeper.balance(platform, "platform_cash")
    books = company_books(market)
    assert statement_total(books, "balance_sheet", "paid_in_capital") * 100 == 15_000_000
    assert statement_total(books, "income", "net_income") * 100 == pytest.approx(
        cash - platform.run.capital_called_fen, abs=0.5)  # the calls are equity, not income


def test_by_default_owners_call_no_capital_and_the_summary_says_what_they_lacked():
    """No limit in the scenario: no unplanned capital; the platform fails when its cash runs out."""
    from sim.outputs import format_summary, summarise

    market = P2PMarket(None, run__horizon_days=120, platforms__0__capital_cny=1_000_000.0,
                       platforms__0__operating_cost_monthly_cny=5_000_000.0, audit="step")
    market.run()
    platform = market.platforms[0]
    assert platform.config.liquidity.capital_call_limit_cny == 0
    assert platform.run.capital_called_fen == 0 and platform.run.failed_day is not None
    assert platform.run.failure_reason == "cannot pay its costs"
    text = format_summary(summarise(market))
    short = platform.unpaid_costs_fen / 100
    assert short > 0 and f"would have had to put in at least {short:,.2f} CNY more" in text
    assert "the owners put in 1,000,000.00 CNY" in text


def test_self_dealing_loans_never_repay():
    market = P2PMarket(None, run__horizon_days=240, audit="full",
                       platforms__0__liquidity__self_dealing_share=0.2)
    market.run()
    loans = market.book.loans
    own = loans.hazard_mult >= 1e9
    assert own.sum() > 0 and market.platforms[0].run.self_dealt_fen > 0
    assert (loans.n_paid[own] == 0).all()


@pytest.mark.parametrize("override, key", [
    ({"runs__rule": "panic"}, "runs.rule"),
    ({"runs__network__mean_degree": 1}, "runs.network.mean_degree"),
    ({"runs__events": [{"day": 5000, "kind": "operators_flee"}]}, "runs.events[0].day"),
    ({"runs__events": [{"day": 5, "kind": "alien_invasion"}]}, "runs.events.0.kind"),
    ({"platforms__0__liquidity__on_failure": "vanish"}, "on_failure"),
])
def test_bad_run_input_names_the_key(override, key):
    with pytest.raises(ScenarioError) as error:
        load_scenario(None, override)
    assert key.split(".")[-1].split("[")[0] in str(error.value)


def test_trust_network_is_reproducible_and_sparse():
    a = P2PMarket(RUN_SCENARIO, audit="off", **SMALL)
    b = P2PMarket(RUN_SCENARIO, audit="off", **SMALL)
    for market in (a, b):
        market.run(400)
    assert np.array_equal(a.runs.trust.level, b.runs.trust.level)
    assert a.runs.trust.adjacency.nnz <= 12 * len(a.investors)


@pytest.mark.parametrize("setting, key", [
    ("runs.events.0.day=5000", "runs.events[0].day"),
    ("runs.rule=panic", "runs.rule"),
    ("runs.network.rewire=1.5", "runs.network.rewire"),
])
def test_the_command_line_refuses_bad_run_input_with_exit_2(tmp_path, capsys, setting, key):
    from sim.cli import main

    out = tmp_path / "results"
    assert main(["run", RUN_SCENARIO, "--set", setting, "--out", str(out), "--quiet"]) == 2
    message = capsys.readouterr().err
    assert key in message and "Traceback" not in message
    assert not out.exists()


def test_a_guarantee_that_runs_dry_moves_trust():
    def mean_trust_after(day, **overrides):
        market = P2PMarket("scenarios/stress/guarantor_fails.toml", audit="off",
                           runs__enabled=True, run__horizon_days=day + 1, **overrides)
        market.run()
        return float(market.runs.trust.level.mean())

    day = 12 * 30 + 1  # the day after the guarantor fails (month 12)
    failing = mean_trust_after(day)
    sound = mean_trust_after(day, stress__guarantee_fails_month=None)
    assert sound - failing > 0.2  # state_shock 0.3, a day's recovery taken back


def test_an_ordinary_disclosed_loss_rate_leaves_trust_alone():
    """Only the disclosed loss rate above ``disclosure_tolerance`` moves trust (docs/runs.md)."""
    def trust_gap(**overrides):
        market = P2PMarket("scenarios/baseline.toml", audit="off", runs__enabled=True,
                           run__horizon_days=540, **overrides)
        market.run()
        trust = market.runs.trust
        return float(trust.anchor.mean() - trust.level.mean()), market.platforms[0].state

    tolerated, state = trust_gap(runs__disclosure_tolerance=0.10)
    assert 0.0 < state.loss_rate_annual < 0.10  # the baseline's book is losing money as it seasons
    assert tolerated < 0.05
    untolerated, _ = trust_gap(runs__disclosure_tolerance=0.0)
    assert untolerated > tolerated + 0.1  # weight 0.05 x a 4-7 % loss rate / recovery 0.02
