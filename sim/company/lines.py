"""The lines of a platform's statements and the memos each line is made of.

A posting that crosses the company's books (:func:`sim.company.statements.company_accounts`) is
income or cost (an income-statement line), owners' money (paid-in capital), or investors' money
the company owes back (a fund pool's products). Every memo that can cross is named here: the
statements refuse a posting whose memo has no line, so a new memo cannot slip past them.
"""

from __future__ import annotations

from sim.ledger import FEE_OF_SHARE, MARKETING_PREFIX, STAFF_PREFIX, Memo
from sim.scenario.company import DEPARTMENTS

REVENUE_LINES = {
    "service_fees": (Memo.SERVICE_FEE,),              # 借款服务费
    "management_fees": (Memo.MANAGEMENT_FEE,),        # 利息管理费
    "guarantee_fees": (Memo.RESERVE_CONTRIBUTION, Memo.GUARANTEE_FEE),  # into its own reserve
    "collection_fees": (Memo.COLLECTION_FEE,),
    "transfer_and_withdrawal_fees": (Memo.TRANSFER_FEE, Memo.WITHDRAWAL_FEE),
    "income_on_claims_held": (Memo.HELD_REPAYMENT_INTEREST, Memo.HELD_RECOVERY),
}
"""Revenue (营业收入) by line; a fee's share paid into the platform's own reserve counts with it."""

COST_LINES = {
    "technology": (Memo.TECHNOLOGY,),
    "rent": (Memo.RENT,),
    "branches": (Memo.BRANCHES,),
    "collection_costs": (Memo.COLLECTION_COST,),
    "credit_data": (Memo.CREDIT_DATA,),
    "custody_fees": (Memo.CUSTODY_FEE,),
    "insurance_premiums": (Memo.INSURANCE_PREMIUM,),
    "other_operating_costs": (Memo.OPERATING_COST,),
    "guarantee_payouts": (Memo.GUARANTEE_PAYOUT,),    # 代偿, what it paid investors ...
    "claims_taken_over": (Memo.CLAIM_TO_GUARANTEE,),  # ... and the claims it took in return
    "claims_written_off": (Memo.HELD_WRITE_OFF,),
    "loans_sold": (Memo.FIRE_SALE, Memo.FIRE_SALE_LOSS),  # price received less balance given up
    "security_breach": (Memo.STOLEN_IN_BREACH, Memo.BREACH_REMEDIATION),
    "vat": (Memo.VAT,),
    "vat_surcharges": (Memo.VAT_SURCHARGE,),
}
"""Costs and other gains and losses before income tax, by line (a signed sum of its postings).

Staff has a line per department (``staff_market`` ...) and marketing one per channel of the
platform's policy (``marketing_search`` ...; ``marketing_other`` for a channel it does not name):
:func:`income_lines`.
"""

STAFF_LINES = {f"staff_{department}": department for department in DEPARTMENTS}

INTEREST_PROMISED = "interest_promised_on_products"
"""A fund pool's promised interest: a cost, recorded outside the ledger (:mod:`sim.company.record`)."""

PRODUCT_OTHER = "products_other_changes"
"""What a fund pool owes that moved without a posting or a promise: zero unless something is amiss."""

TAX_LINES = {"income_tax": (Memo.INCOME_TAX,)}

OWNER_MEMOS = (Memo.CAPITAL_INJECTION, Memo.CAPITAL_CALL, Memo.CAPITAL_RAISE,
               Memo.RESERVE_INITIAL, Memo.GUARANTOR_CAPITAL_INJECTION, Memo.DIVERSION,
               Memo.TAKEN_BY_OPERATORS)
"""Owners' money in (capital, the company's own guarantor's too) and out (挪用, 跑路): equity."""

GUARANTEE_PROVISIONS = "guarantee_provisions"
"""The company's own guarantor: the change in its provisions (未到期责任准备金, 担保赔偿准备金), a
cost recorded outside the ledger (:mod:`sim.company.guarantee_arm`)."""

PRODUCT_MEMOS = (Memo.PRODUCT_SUBSCRIPTION, Memo.PRODUCT_REDEMPTION)
"""A fund pool's products bought and paid back: what it owes, not income."""

STUDY_MEMOS = (Memo.RESERVE_SIZING_FLOAT,)
"""A sizing study's float lent to a protection layer (sim/reserve/paths.py): not the company's."""

INVESTING_MEMOS = (Memo.POOL_DISBURSEMENT, Memo.HELD_REPAYMENT_PRINCIPAL, Memo.FIRE_SALE)
"""Cash lent out of the company's own funds and its principal coming back (investing cash flow)."""

INTERNAL_REVENUE = (Memo.TRANSFER_FEE,)
"""Revenue booked inside the company: a fund pool keeps an early exit's fee out of the product."""

LABELS = {
    "service_fees": "Borrower service fees (借款服务费)",
    "management_fees": "Investor management fees (利息管理费)",
    "guarantee_fees": "Guarantee fees and reserve contributions (担保费, 风险准备金)",
    "collection_fees": "Collection fees (催收费)",
    "transfer_and_withdrawal_fees": "Transfer and withdrawal fees (转让费, 提现费)",
    "income_on_claims_held": "Interest and recoveries on claims held",
    "revenue": "Revenue (营业收入)",
    "staff_market": "Staff: market (市场)",
    "staff_risk": "Staff: risk (风控)",
    "staff_collection": "Staff: collection (催收)",
    "staff_technology": "Staff: technology (技术)",
    "staff_customer_service": "Staff: customer service (客服)",
    "staff_management": "Staff: management (管理)",
    "marketing_other": "Marketing: other channels",
    "technology": "Technology (技术)",
    "rent": "Rent and offices (租金)",
    "branches": "Offline branches (线下门店)",
    "collection_costs": "Collection costs (催收成本)",
    "credit_data": "Credit data (征信)",
    "custody_fees": "Custodian bank (存管费)",
    "insurance_premiums": "Insurance premiums (保费)",
    "other_operating_costs": "Other operating costs",
    "guarantee_payouts": "Guarantee payouts (代偿)",
    "claims_taken_over": "Claims taken over on payouts (代偿债权)",
    "claims_written_off": "Claims held written off (坏账核销)",
    "loans_sold": "Loans sold: price less balance",
    INTEREST_PROMISED: "Interest promised on products (理财利息)",
    PRODUCT_OTHER: "Products owed: other changes",
    "security_breach": "Security breach: money stolen, remediation (安全事件)",
    "vat": "VAT (增值税)",
    "vat_surcharges": "Surcharges on VAT (税金及附加)",
    "profit_before_tax": "Profit before tax (利润总额)",
    "income_tax": "Income tax (企业所得税)",
    "net_income": "Net income (净利润)",
    "operating": "Operating cash flow (经营活动)",
    "investing": "Investing cash flow (投资活动)",
    "financing": "Financing cash flow (筹资活动)",
    "net_cash_flow": "Net change in cash (现金净增加额)",
    "cash": "Own cash (自有资金)",
    "pool_cash": "Fund pool's cash (资金池)",
    "reserve_fund": "Restricted: reserve fund (风险准备金)",
    "claims_held": "Claims held (应收债权)",
    "guarantee_capital": "Restricted: guarantee arm's capital (担保资本金)",
    "unearned_guarantee_fees": "Unearned guarantee fees (未到期责任准备金)",
    "compensation_reserve": "Compensation reserve (担保赔偿准备金)",
    "income_tax_payable": "Income tax payable (应交所得税)",
    GUARANTEE_PROVISIONS: "Guarantee provisions (提取担保准备金)",
    "total_assets": "Total assets (资产合计)",
    "products_owed": "Owed to investors: products (应付理财款)",
    "total_liabilities": "Total liabilities (负债合计)",
    "paid_in_capital": "Paid-in capital (实收资本)",
    "retained_earnings": "Retained earnings (未分配利润)",
    "total_equity": "Total equity (所有者权益)",
}
"""What each line is called in the spreadsheet and the charts."""


def line_of(memo: str, lines: dict) -> str | None:
    """The line of ``lines`` that ``memo`` belongs to, or None.

    A fee's share paid into a fund (``<fee>_to_<fund>``) counts with the fee.
    """
    base = FEE_OF_SHARE.get(memo, memo)
    for line, memos in lines.items():
        if isinstance(memos, str):
            if memo.startswith(memos):
                return line
        elif base in memos:
            return line
    return None


def channels_of(platform) -> list[str]:
    """The marketing channels a platform's policy names, in its order."""
    return [channel["name"] for channel in platform.config.marketing.get("channels", [])
            if isinstance(channel, dict) and "name" in channel]


def income_lines(channels: list[str]) -> list[str]:
    """The lines of the income statement, in order, for a platform with these ``channels``."""
    costs = list(COST_LINES)
    marketing = [f"marketing_{name}" for name in channels] + ["marketing_other"]
    return [*REVENUE_LINES, "revenue", *STAFF_LINES, *costs[:3], *marketing, *costs[3:],
            INTEREST_PROMISED, PRODUCT_OTHER, GUARANTEE_PROVISIONS, "profit_before_tax",
            *TAX_LINES, "net_income"]


def income_line(memo: str, channels: list[str]) -> str | None:
    """The income-statement line of a posting's ``memo`` on a platform with ``channels``, or None."""
    if memo.startswith(STAFF_PREFIX):
        line = "staff_" + memo.removeprefix(STAFF_PREFIX)
        return line if line in STAFF_LINES else None
    if memo.startswith(MARKETING_PREFIX):
        name = memo.removeprefix(MARKETING_PREFIX)
        return f"marketing_{name}" if name in channels else "marketing_other"
    return line_of(memo, REVENUE_LINES) or line_of(memo, COST_LINES) or line_of(memo, TAX_LINES)


def label(line: str) -> str:
    """What ``line`` is called in the spreadsheet (a channel's line by its channel)."""
    if line in LABELS:
        return LABELS[line]
    if line.startswith("marketing_"):
        return f"Marketing: {line.removeprefix('marketing_')}"
    return line
