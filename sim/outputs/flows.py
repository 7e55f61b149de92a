"""Money over the run: by platform and month from the journal, by platform from the statements.

Flows are found by :class:`~sim.market.accounts.Memo`, never by a string typed here: a memo that no
longer exists fails at import, not as a column of silent zeros.
"""

from __future__ import annotations

import pandas as pd

from sim.company.report import company_books, statement_total
from sim.ledger import MARKETING_PREFIX, Memo
from sim.loans import DAYS_PER_MONTH
from sim.runs.report import runs_summary

MONTHLY_FLOWS = (
    # column of the platforms table, the memos it sums, the side of the posting that names the platform
    ("volume_cny", (Memo.DISBURSEMENT, Memo.POOL_DISBURSEMENT), "target"),
    ("principal_repaid_cny", (Memo.REPAYMENT_PRINCIPAL,), "source"),
    ("interest_to_investors_cny", (Memo.REPAYMENT_INTEREST,), "target"),
    ("defaulted_principal_cny", (Memo.DEFAULT_WRITE_OFF, Memo.HELD_WRITE_OFF), "source"),
    ("recoveries_cny", (Memo.RECOVERY,), "target"),
    ("service_fee_cny", (Memo.SERVICE_FEE,), "target"),
    ("management_fee_cny", (Memo.MANAGEMENT_FEE,), "target"),
    ("collection_fee_cny", (Memo.COLLECTION_FEE,), "target"),
    ("operating_cost_cny", (Memo.OPERATING_COST,), "source"),
    ("withdrawal_fee_cny", (Memo.WITHDRAWAL_FEE,), "target"),
    ("deposits_cny", (Memo.DEPOSIT,), "target"),
    ("withdrawals_cny", (Memo.WITHDRAWAL,), "source"),
    ("guarantee_payout_cny", (Memo.GUARANTEE_PAYOUT,), "target"),
    ("reserve_contribution_cny", (Memo.RESERVE_CONTRIBUTION,), "target"),
    ("reserve_top_up_cny", (Memo.RESERVE_TOP_UP,), "target"),
    ("guarantee_fee_cny", (Memo.GUARANTEE_FEE,), "target"),
    ("insurance_premium_cny", (Memo.INSURANCE_PREMIUM,), "source"),
    ("collection_cost_cny", (Memo.COLLECTION_COST,), "source"),
    ("marketing_cny", MARKETING_PREFIX, "source"),
    ("product_subscription_cny", (Memo.PRODUCT_SUBSCRIPTION,), "target"),
    ("product_redemption_cny", (Memo.PRODUCT_REDEMPTION,), "source"),
)
"""The month's flows of each platform: a tuple of memos, or the prefix of a family of memos."""


def platform_monthly(market) -> pd.DataFrame:
    """Per platform and month: the month-end balances and the month's flows from the journal (CNY)."""
    table = market.datacollector.get_table_dataframe("platforms")
    journal = market.ledger.journal(platforms=len(market.platforms))
    journal["month"] = journal["day"] // DAYS_PER_MONTH
    for column, memos, side in MONTHLY_FLOWS:
        if isinstance(memos, str):
            match = journal["memo"].str.startswith(memos)
        else:
            match = journal["memo"].isin(memos)
        rows = journal[match]
        platform = rows[side].str.split(":", n=1).str[1]
        sums = (rows.assign(platform=platform).groupby(["month", "platform"])["amount_fen"].sum()
                / 100.0).rename(column)
        table = table.merge(sums, left_on=["month", "platform"], right_index=True, how="left")
        table[column] = table[column].fillna(0.0)  # a month without that flow
    return table


def platform_summary(market) -> dict[str, dict]:
    """Per platform: loans funded in the run, book, defaults, revenue and cash (CNY)."""
    loans = market.book.loans
    books = company_books(market)  # revenue, net income and cash: the statements' own
    result = {}
    for p, platform in enumerate(market.platforms):
        mine = loans.platform == p
        defaulted = mine & (loans.default_day >= 0)
        result[platform.name] = {
            "policies": {family: getattr(platform.config, family)["policy"]
                         for family in ("pricing", "risk", "guarantee", "marketing")},
            "funding": platform.config.funding,
            "loans_funded": int((mine & (loans.orig_day >= 0)).sum()),
            "outstanding_principal_cny": market.bookkeeper.outstanding(platform) / 100,
            "defaulted_principal_cny": platform.defaulted_fen_total / 100,  # balance written off
            "defaults": int(defaulted.sum()),
            "revenue_cny": statement_total(books, "income", "revenue", platform.name),
            "net_income_cny": statement_total(books, "income", "net_income", platform.name),
            "platform_cash_cny": statement_total(books, "balance_sheet", "cash", platform.name),
            "unpaid_costs_cny": platform.unpaid_costs_fen / 100,
            "guarantee_paid_cny": platform.guarantee.paid_fen / 100,
            "guarantee_unpaid_cny": platform.guarantee.unpaid_fen / 100,
            "guarantee_failed_day": platform.guarantee.failed_day,
            "marketing_spend_cny": platform.marketing_spend_total_fen / 100,
            "pool_overdue_cny": platform.pool_overdue_fen / 100,
            "run": runs_summary(platform),
        }
    return result
