"""The company's books: statements that tie to the ledger, costs worked out by hand, targets.

docs/business-plan.md. Each identity is checked on every shipped scenario and on random ones; a
plan without borrowers is checked against figures worked out by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sim.company import StatementError, check_identities
from sim.company.guarantee_arm import company_guarantor, provisions_by_month
from sim.company.record import CompanyRecord
from sim.company.report import company_report, yearly_statements
from sim.company.statements import company_accounts, statements
from sim.company.taxes import income_tax_fen, vat_fen
from sim.ledger import AccountKind, LedgerError, Memo
from sim.model import P2PMarket
from sim.scenario import ScenarioError

SCENARIOS = ["baseline", "fund_pool", "reserve_fund", "guarantor_p2b", "online_offline",
             "pure_intermediary", "run_fund_pool", "custody_vs_none", "stress/guarantor_fails",
             "reserve_top_up"]


def _ties_to_ledger(market, frame) -> None:
    """The last month's balance sheet is the ledger's balances; paid-in capital its owners' memos."""
    journal = market.ledger.journal()
    last = frame.month.max()
    for platform in market.platforms:
        sheet = frame[(frame.platform == platform.name) & (frame.month == last)
                      & (frame.statement == "balance_sheet")].set_index("line").amount_fen
        books = market.bookkeeper
        assert sheet["cash"] == books.balance(platform, AccountKind.PLATFORM_CASH)
        assert sheet["pool_cash"] == books.balance(platform, AccountKind.POOL_CASH)
        assert sheet["reserve_fund"] == books.balance(platform, AccountKind.RESERVE_FUND)
        arm = books.balance(platform, AccountKind.GUARANTOR_CAPITAL)
        assert sheet["guarantee_capital"] == (arm if company_guarantor(platform) else 0)
        cash = platform.account(AccountKind.PLATFORM_CASH)
        owners = journal[journal.memo.isin([Memo.CAPITAL_INJECTION, Memo.CAPITAL_CALL,
                                            Memo.CAPITAL_RAISE, Memo.GUARANTOR_CAPITAL_INJECTION])
                         & journal.target.isin(company_accounts(platform))]
        if platform.guarantee.account != AccountKind.RESERVE_FUND:
            assert sheet["paid_in_capital"] == owners.amount_fen.sum()
        income = frame[(frame.platform == platform.name) & (frame.statement == "income")]
        total = income.groupby("line").amount_fen.sum()
        reserve = platform.account(AccountKind.RESERVE_FUND)  # a fee's share into the reserve
        for line, memos, side in (
                ("management_fees", [Memo.MANAGEMENT_FEE, "management_fee_to_reserve_fund"], "target"),
                ("other_operating_costs", [Memo.OPERATING_COST], "source"),
                ("vat", [Memo.VAT], "source")):
            rows = journal[journal.memo.isin(memos) & journal[side].isin([cash, reserve])]
            sign = 1 if side == "target" else -1
            assert total[line] == sign * rows.amount_fen.sum(), line  # a line is its postings


@pytest.mark.parametrize("name", SCENARIOS)
def test_statements_balance_and_tie_to_the_ledger_every_month(name):
    market = P2PMarket(f"scenarios/{name}.toml", audit="off", run__horizon_days=390)
    market.run()
    frame = statements(market)
    assert check_identities(market, frame) == []
    _ties_to_ledger(market, frame)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_identities_hold_on_random_plans(seed):
    """Random fees, costs, taxes, raises and business models: every identity, every month."""
    rng = np.random.default_rng(seed)
    reserve = {"policy": "reserve_fund", "principal_share": 0.03, "fee_share": 0.2}
    funding, guarantee = [("auto_invest", {"policy": "none"}), ("fund_pool", {"policy": "none"}),
                          ("auto_invest", reserve), ("fund_pool", {"policy": "none"})][seed - 1]
    company = {"staff": {"market": {"headcount": [int(rng.integers(0, 20))],
                                    "salary_monthly_cny": float(rng.uniform(5e3, 2e4))},
                         "risk": {"headcount": [2, 4], "salary_monthly_cny": 15000.0}},
               "technology_monthly_cny": [float(rng.uniform(0, 2e5))], "rent_monthly_cny": [5e4],
               "branches": [int(rng.integers(0, 4))], "branch_monthly_cny": 3e4,
               "credit_data_per_application_cny": float(rng.uniform(0, 10)),
               "vat_rate": 0.06, "income_tax_rate": 0.25,
               "capital_raises": [{"month": int(rng.integers(1, 13)), "amount_cny": 2e6}]}
    market = P2PMarket({
        "run": {"horizon_days": 420, "seed": seed},
        "borrowers": {"applications_per_day": float(rng.uniform(5, 25))},
        "investors": {"count": 3000},
        "platforms": [{"name": "plan", "funding": funding, "guarantee": guarantee,
                       "service_fee": float(rng.uniform(0, 0.05)), "capital_cny": 3e6,
                       "company": company,  # owners who pay every cost: the books all run
                       "liquidity": {"capital_call_limit_cny": -1.0}}]}, audit="off")
    market.run()
    frame = statements(market)
    assert check_identities(market, frame) == []
    _ties_to_ledger(market, frame)
    income = frame[(frame.statement == "income")].pivot(index="line", columns="month",
                                                        values="amount_fen")
    vat = -income.loc["vat"].to_numpy()  # paid on the month before's revenue, rounded to the fen
    expected = np.round(0.06 * np.maximum(income.loc["revenue"].to_numpy(), 0))
    assert vat[0] == 0 and np.array_equal(vat[1:], expected[:-1])


def test_a_plan_without_borrowers_matches_figures_worked_out_by_hand():
    """Staff, technology, rent and branches by year; a raise in month 13; capital calls between."""
    market = P2PMarket({
        "run": {"horizon_days": 720, "seed": 1},
        "borrowers": {"applications_per_day": 0.0},
        "investors": {"count": 10},
        "platforms": [{"name": "plan", "capital_cny": 1_000_000.0,
                       "operating_cost_monthly_cny": 0.0,
                       "liquidity": {"capital_call_limit_cny": -1.0},  # owners who pay all
                       "company": {"staff": {"market": {"headcount": [2, 3],
                                                        "salary_monthly_cny": 10_000.0}},
                                   "technology_monthly_cny": [50_000.0, 60_000.0],
                                   "rent_monthly_cny": [20_000.0],
                                   "branches": [1, 2], "branch_monthly_cny": 5_000.0,
                                   "vat_rate": 0.06, "income_tax_rate": 0.25,
                                   "capital_raises": [{"month": 12, "amount_cny": 500_000.0}]}}],
        "plan": {"targets": ["payback_month <= 12", "min_cash_cny >= 0",
                             "cash_out_month >= 11", "net_income_cny[year=2] >= -1440000",
                             "costs_cny[month=13] <= 119999"]},
    }, audit="full")
    market.run()
    report = company_report(market)
    monthly = report.monthly["plan"]
    costs = np.array([95_000.0] * 12 + [120_000.0] * 12)  # 2x10k + 50k + 20k + 5k; 3x10k + 60k + 20k + 10k
    assert np.array_equal(monthly.costs_cny.to_numpy(), costs)
    assert np.array_equal(monthly.net_income_cny.to_numpy(), -costs)
    # months 1-10 paid from capital (10 x 95k = 950k), month 11 calls 45k, month 12 95k; the raise
    # of 500k pays months 13-16 (480k) and 20k of month 17; the rest is called
    called = 45_000 + 95_000 + (120_000 - 20_000) + 7 * 120_000
    once = report.once["plan"]
    assert once["capital_called_cny"] == called
    assert once["cash_out_month"] == 11 and once["min_cash_cny"] == 0.0
    assert once["break_even_month"] is None and once["payback_month"] is None
    sheet = yearly_statements(report).set_index("line")
    assert sheet.loc["paid_in_capital", "year_2"] == 1_000_000 + 500_000 + called
    assert sheet.loc["retained_earnings", "year_2"] == -costs.sum()
    assert sheet.loc["income_tax", "year_2"] == 0 and sheet.loc["vat", "year_2"] == 0
    assert [t["met"] for t in report.targets] == [False, True, True, True, False]


def test_income_tax_sets_losses_of_the_five_years_before_against_profit():
    record = CompanyRecord()
    assert income_tax_fen(record, 1, -100_000, 0.25) == 0
    assert income_tax_fen(record, 2, 60_000, 0.25) == 0  # 40,000 of the loss left
    assert income_tax_fen(record, 3, 100_000, 0.25) == 15_000  # on 60,000
    assert income_tax_fen(record, 4, -50_000, 0.25) == 0
    assert income_tax_fen(record, 10, 80_000, 0.25) == 20_000  # year 4's loss has expired


def test_statements_refuse_a_posting_no_line_claims():
    market = P2PMarket("scenarios/baseline.toml", audit="off", run__horizon_days=60)
    market.run()
    platform = market.platforms[0]
    with pytest.raises(LedgerError, match="a posting's memo is a Memo"):  # no memo typed as text
        market.bookkeeper.move(platform, AccountKind.PLATFORM_CASH, "world", 100, "a_new_cost")
    # a memo no statement line claims, crossing the company's books
    market.bookkeeper.move(platform, AccountKind.PLATFORM_CASH, "world", 100,
                           Memo.FAILED_LISTING_RELEASE)
    with pytest.raises(StatementError, match="failed_listing_release"):
        statements(market)


def test_identities_catch_a_pool_liability_that_moves_without_a_record():
    market = P2PMarket("scenarios/fund_pool.toml", audit="off", run__horizon_days=150)
    market.run()
    assert check_identities(market, statements(market)) == []
    market.platforms[0].company.accrue(2, 12_345)  # interest promised that nobody owes
    failures = check_identities(market, statements(market))
    assert failures and "12345 fen unexplained" in failures[0]


@pytest.mark.parametrize("key, value, words", [
    ("plan.targets", ["net_margin[year=4] >= 0.05"], "plan.targets[0]"),
    ("plan.targets", ["profit_margin[year=1] >= 0.05"], "names no figure 'profit_margin'"),
    ("plan.targets", ["net_margin[year=1] => 0.05"], "is not a comparison"),
    ("plan.targets", ["net_income_cny[year=1] >= 1e999"], "the threshold 1e999 is out of range"),
    ("plan.platform", "nobody", "plan.platform names no such platform"),
    ("platforms[0].company.staff", {"market": {"headcount": [-1], "salary_monthly_cny": 1.0}},
     "headcount"),
    ("platforms[0].company.staff", {"market": {"headcount": [1], "salary_monthly_cny": -5.0}},
     "salary_monthly_cny"),
    ("platforms[0].company.staff", {"sales": {"headcount": [1], "salary_monthly_cny": 5.0}},
     "no such department"),
    ("platforms[0].company.capital_raises", [{"month": 36, "amount_cny": 1e6}],
     "capital_raises[0].month is 36"),
])
def test_bad_plan_input_names_the_key(key, value, words, tmp_path):
    text = (open("scenarios/baseline.toml", encoding="utf-8").read()
            + _toml(key, value))
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=words.replace("[", r"\[").replace("]", r"\]")):
        P2PMarket(str(path))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(path), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not out.exists()


def _toml(key: str, value) -> str:
    """``value`` under ``key`` appended to the baseline (a table of the first platform, or plan)."""
    section, _, name = key.rpartition(".")
    if section == "plan":
        return f"\n[plan]\n{name} = {json.dumps(value)}\n"
    table = section.replace("platforms[0]", "platforms")
    if name == "capital_raises":
        rows = "".join(f"\n[[{table}.capital_raises]]\nmonth = {r['month']}\n"
                       f"amount_cny = {r['amount_cny']}\n" for r in value)
        return rows
    rows = ""
    for department, spec in value.items():
        rows += (f"\n[{table}.staff.{department}]\nheadcount = {json.dumps(spec['headcount'])}\n"
                 f"salary_monthly_cny = {spec['salary_monthly_cny']}\n")
    return rows


def test_capital_raised_by_the_owners_is_not_profit():
    """The summary's profit leaves out every owners' flow the statements count as equity.

    The seed plan raises 8 M CNY in month 6: with the raise or without it, the same run earns the
    same profit (it was counted as profit when the summary kept a list of owners' memos of its own).
    """
    from sim.company.lines import OWNER_MEMOS
    from sim.outputs import summarise

    assert Memo.CAPITAL_RAISE in OWNER_MEMOS
    profits, cash = [], []
    for raises in ([{"month": 6, "amount_cny": 8_000_000.0}], []):
        market = P2PMarket("scenarios/seed_business_plan.toml", rng=5, audit="off",
                           **{"run.horizon_days": 240, "investors.count": 1500, "plan.targets": [],
                              "platforms.0.company.capital_raises": raises,
                              "platforms.0.capital_cny": 40e6})  # never short: the same run
        market.run()
        profits.append(summarise(market)["platform_profit_cny"])
        cash.append(market.bookkeeper.balance(market.platforms[0], AccountKind.PLATFORM_CASH))
    assert cash[0] - cash[1] == 800_000_000  # the raise reached the platform's cash
    assert profits[0] == profits[1]  # and is not profit


# ----------------------------------------------------------------- the company's own guarantor

SEED_YEAR = {"run.horizon_days": 390, "investors.count": 4000, "plan.targets": [],
             "platforms.0.company.capital_raises": []}  # the seed plan's first 13 months

def test_the_guarantee_arm_is_on_the_company_books_to_the_fen():
    """借贷担保: its capital is paid-in capital, its fees revenue, its provisions by the 2010 rules."""
    market = P2PMarket("scenarios/seed_business_plan.toml", audit="off", **SEED_YEAR)
    market.run()
    frame = statements(market)
    assert check_identities(market, frame) == []
    _ties_to_ledger(market, frame)
    platform = market.platforms[0]
    layer = company_guarantor(platform)
    journal = market.ledger.journal()
    journal["month"] = journal.day // 30
    arm = platform.account(AccountKind.GUARANTOR_CAPITAL)
    fees = journal[(journal.memo == Memo.GUARANTEE_FEE) & (journal.target == arm)]
    by_month = fees.groupby("month").amount_fen.sum().reindex(range(13), fill_value=0)
    assert [*layer.fees_by_month, layer.fees_month_fen] == by_month.tolist()  # its count = ledger
    table = frame[frame.platform == platform.name].pivot_table(
        index=["statement", "line"], columns="month", values="amount_fen", aggfunc="sum")
    assert (table.loc[("income", "guarantee_fees")] == by_month).all()  # fees are revenue
    assert table.loc[("balance_sheet", "paid_in_capital"), 0] == 30_000_000_00  # 10 M + arm's 20 M
    balance = [platform.company.guaranteed_fen[m] for m in range(12)]
    balance.append(int(platform.layer_states[0].guaranteed_outstanding_fen))
    # month 11 closes the year, month 12 (the run's last) the books: by hand
    unearned_11 = round(0.5 * by_month[:12].sum())
    compensation_11 = round(0.01 * balance[11])
    compensation_12 = max(compensation_11, min(round(0.1 * balance[12]),
                                               compensation_11 + round(0.01 * balance[12])))
    sheet = table.loc["balance_sheet"]
    assert sheet.loc["unearned_guarantee_fees", 10] == 0 and sheet.loc["compensation_reserve", 10] == 0
    assert sheet.loc["unearned_guarantee_fees", 11] == unearned_11 > 0
    assert sheet.loc["compensation_reserve", 11] == compensation_11 > 0
    assert sheet.loc["unearned_guarantee_fees", 12] == round(0.5 * by_month[12])
    assert sheet.loc["compensation_reserve", 12] == compensation_12
    provisions = table.loc[("income", "guarantee_provisions")]
    assert provisions[11] == -(unearned_11 + compensation_11)
    assert provisions.sum() == -(sheet[12].loc["unearned_guarantee_fees"]
                                 + sheet[12].loc["compensation_reserve"])
    assert layer.provisions_fen == unearned_11 + compensation_11  # what its leverage reads


def test_a_third_partys_guarantee_fees_are_not_the_companys():
    frames = {}
    for owner in ("third_party", "company"):
        market = P2PMarket("scenarios/seed_business_plan.toml", audit="off",
                           **{**SEED_YEAR, "run.horizon_days": 120,
                              "platforms.0.guarantee.layers.0.owner": owner})
        market.run()
        frame = statements(market)
        assert check_identities(market, frame) == []
        frames[owner] = frame[frame.statement == "income"].groupby("line").amount_fen.sum()
    assert frames["third_party"]["guarantee_fees"] == 0 < frames["company"]["guarantee_fees"]
    assert frames["third_party"]["guarantee_payouts"] == 0


def test_the_arms_leverage_is_limited_by_its_net_assets():
    from sim.policies.base import PlatformState, PolicyContext
    from sim.policies.guarantee import ThirdPartyGuarantee

    params = ThirdPartyGuarantee.Params(owner="company", leverage_limit=10.0)
    arm = ThirdPartyGuarantee(params, PolicyContext(
        platform="p", grade_names=["A"], grade_rate=np.array([0.1]),
        default_hazard_monthly=np.array([0.005]), recovery_rate=np.array([0.1]),
        cure_probability=0.3, default_after_days=90))
    state = PlatformState(guarantee_fund_fen=1_000_000_00, guaranteed_outstanding_fen=0)
    loans = np.full(20, 100_000_00, dtype=np.int64)  # 20 loans of 100,000 CNY
    assert arm.covers(loans, state).sum() == 20      # room 10 M: all 2 M
    arm.provisions_fen = 850_000_00                   # net assets 150,000: room 1.5 M
    assert arm.covers(loans, state).sum() == 15
    # provisions follow the closed months: a year of 1 M fees a month, 100 M guaranteed
    for _ in range(12):
        arm.record_fee(1_000_000_00)
        arm.month_closed(100_000_000_00)
    assert arm.provisions_fen == 6_000_000_00 + 1_000_000_00  # half the year's fees, 1 % of book
    unearned, compensation = provisions_by_month([1] * 30, [1000] * 30, 0.5, 0.01, 0.1)
    assert unearned[11] == 6 and unearned[23] == 6 and compensation[23] == 20  # 1 % a year ...
    assert compensation[29] == 30 and unearned[29] == 3  # ... the last month closes the books


def test_income_tax_is_a_cost_of_the_year_it_is_owed():
    """Paid at the next year's opening, shown in the year's last month and owed until paid."""
    market = P2PMarket("scenarios/baseline.toml", audit="off", run__horizon_days=420,
                       **{"platforms.0.company": {"income_tax_rate": 0.25},
                          "platforms.0.service_fee": 0.06})
    market.run()
    frame = statements(market)
    assert check_identities(market, frame) == []
    table = frame.pivot_table(index=["statement", "line"], columns="month", values="amount_fen",
                              aggfunc="sum")
    journal = market.ledger.journal()
    paid = journal[journal.memo == Memo.INCOME_TAX]
    assert len(paid) == 1 and paid.day.iloc[0] // 30 == 12  # year 1's, at year 2's opening
    year_1 = int(paid.amount_fen.iloc[0])
    profit = table.loc[("income", "profit_before_tax")]
    assert year_1 == round(0.25 * profit[:12].sum()) > 0
    tax, owed = table.loc[("income", "income_tax")], table.loc[("balance_sheet",
                                                               "income_tax_payable")]
    assert tax[11] == -year_1 and (tax[:11] == 0).all() and tax[12] == 0
    assert owed[10] == 0 and owed[11] == year_1 and owed[12] == 0  # owed, then paid
    last = round(0.25 * profit[12:].sum())  # the run's last two months close the books
    assert tax[13] == -last and owed[13] == last


def test_vat_is_output_less_input_credit_carried_forward():
    import pandas as pd

    record = CompanyRecord()
    month = pd.Series({"revenue": 1_000_000, "technology": -530_000, "staff_market": -900_000,
                       "marketing_search": -106_000})  # staff carry no VAT
    assert vat_fen(record, month, 0.06, 0.06) == 60_000 - 36_000  # 6/106 of 636,000 credited
    assert record.vat_credit_fen == 0
    quiet = pd.Series({"revenue": 100_000, "technology": -1_060_000})
    assert vat_fen(record, quiet, 0.06, 0.06) == 0 and record.vat_credit_fen == 60_000 - 6_000
    assert vat_fen(record, month, 0.06, 0.06) == 0 and record.vat_credit_fen == 54_000 - 24_000
    assert vat_fen(CompanyRecord(), month, 0.06, 0.0) == 60_000  # no input rate: output only


def test_vat_surcharges_are_their_share_of_the_vat_paid():
    market = P2PMarket("scenarios/baseline.toml", audit="off", run__horizon_days=180,
                       **{"platforms.0.company": {"vat_rate": 0.06, "vat_input_rate": 0.06,
                                                  "vat_surcharge_rate": 0.12,
                                                  "technology_monthly_cny": [300_000.0]}})
    market.run()
    frame = statements(market)
    assert check_identities(market, frame) == []
    income = frame[frame.statement == "income"].pivot(index="line", columns="month",
                                                      values="amount_fen")
    vat, surcharges = -income.loc["vat"], -income.loc["vat_surcharges"]
    assert (surcharges == np.round(0.12 * vat)).all() and vat.sum() > 0
    from sim.company.taxes import INPUT_VAT_LINES
    bought = [line for line in income.index
              if line in INPUT_VAT_LINES or line.startswith("marketing_")]
    revenue, purchases = income.loc["revenue"], -income.loc[bought].sum()
    assert purchases[0] >= 300_000_00
    credit, expected = 0, []
    for m in range(5):  # each month's VAT is on the month before
        credit += round(0.06 / 1.06 * purchases[m])
        due = max(0, round(0.06 * revenue[m]) - credit)
        credit -= round(0.06 * revenue[m]) - due
        expected.append(due)
    assert vat[1:6].tolist() == expected


# ----------------------------------------------------------------- a failed platform's company

@pytest.mark.parametrize("order", ["wind_down_order", "operators_flee"])
def test_a_failed_platform_raises_nothing_markets_nothing_and_pays_a_wind_downs_costs(order):
    """After it fails, the company follows its state (issue 43).

    Ordered to wind down on day 100 (or fled), the seed plan's raise of month 6 never comes, no
    channel spends, and a wind-down pays only its collection and management staff, its technology,
    custody and other costs; a fled (closed) platform pays nothing more.
    """
    market = P2PMarket("scenarios/seed_business_plan.toml", rng=5, audit="off", **{
        "run.horizon_days": 300, "investors.count": 1500, "plan.targets": [],
        "platforms.0.company.capital_raises": [{"month": 6, "amount_cny": 8_000_000.0}],
        "runs.enabled": True, "runs.events": [{"day": 100, "kind": order}]})
    market.run()
    platform = market.platforms[0]
    assert platform.run.failed_day == 100
    journal = market.ledger.journal()
    after = journal[journal.day > 100]
    assert not (after.memo == Memo.CAPITAL_RAISE).any()
    assert not after.memo.str.startswith("marketing").any()
    staff = set(after.memo[after.memo.str.startswith("staff:")])
    costs = set(after.memo[after.source == platform.account(AccountKind.PLATFORM_CASH)])
    if order == "wind_down_order":
        assert staff == {"staff:collection", "staff:management"}
        assert {Memo.TECHNOLOGY, Memo.OPERATING_COST} <= costs
        assert not costs & {Memo.RENT, Memo.BRANCHES, Memo.CREDIT_DATA}
    else:
        assert staff == set() and not costs & {Memo.TECHNOLOGY, Memo.OPERATING_COST}
    once = company_report(market).once[platform.name]
    assert once["raises_forgone_cny"] == 8_000_000.0
    paid_in = journal[journal.memo.isin([Memo.CAPITAL_INJECTION, Memo.CAPITAL_RAISE])
                      & (journal.target == platform.account(AccountKind.PLATFORM_CASH))]
    assert paid_in.day.max() == 0  # only the opening capital came
