"""A platform's financial statements, month by month, read from the ledger's journal to the fen.

The company's books are the ledger accounts it owns (:func:`company_accounts`): its own cash (自有资金),
a fund pool's cash, its reserve fund (restricted cash), and the claims held by its reserve or pool. Money
that crosses their edge is income or cost (:mod:`sim.company.lines`), owners' capital, or a fund
pool's products (what it owes investors, recorded in :mod:`sim.company.record`). Investors' cash and
claims on an intermediary are theirs, not the company's, and stay off its balance sheet.

Three identities hold every month and :func:`check_identities` checks them: assets less
liabilities equal paid-in capital plus retained earnings; the cash-flow statement explains the
change in cash; what a fund pool owes moves only by products bought, paid back, promised interest
and fees kept (its ``products_other_changes`` line is zero).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from sim.company.guarantee_arm import company_guarantor, month_end_balances, provisions_by_month
from sim.company.lines import (
    GUARANTEE_PROVISIONS,
    INTEREST_PROMISED,
    INTERNAL_REVENUE,
    INVESTING_MEMOS,
    OWNER_MEMOS,
    PRODUCT_MEMOS,
    PRODUCT_OTHER,
    REVENUE_LINES,
    STUDY_MEMOS,
    TAX_LINES,
    channels_of,
    income_line,
    income_lines,
)
from sim.company.taxes import income_tax_fen
from sim.ledger import AccountKind
from sim.loans import DAYS_PER_MONTH

CASH_FLOW_LINES = ["operating", "investing", "financing", "net_cash_flow"]
BALANCE_LINES = ["cash", "pool_cash", "reserve_fund", "guarantee_capital", "claims_held",
                 "total_assets", "products_owed", "unearned_guarantee_fees", "compensation_reserve",
                 "income_tax_payable", "total_liabilities", "paid_in_capital", "retained_earnings",
                 "total_equity"]
ASSET_LINES = ["cash", "pool_cash", "reserve_fund", "guarantee_capital", "claims_held"]
CASH_LINES = ("cash", "pool_cash", "reserve_fund", "guarantee_capital")  # the cash-flow statement's
"""The lines of the cash-flow statement and the balance sheet, in order (the income statement's
depend on the platform's marketing channels: :func:`sim.company.lines.income_lines`)."""


class StatementError(RuntimeError):
    """A posting crosses the company's books under a memo that no line claims."""


def company_accounts(platform) -> dict[str, str]:
    """The ledger accounts that are the company's own, each with its balance-sheet line."""
    accounts = {platform.account(AccountKind.PLATFORM_CASH): "cash",
                platform.account(AccountKind.POOL_CASH): "pool_cash",
                platform.account(AccountKind.RESERVE_FUND): "reserve_fund"}
    accounts[platform.account(AccountKind.HELD_CLAIMS)] = "claims_held"  # the reserve's, the pool's
    if company_guarantor(platform) is not None:  # its own guarantee arm (借贷担保)
        accounts[platform.account(AccountKind.GUARANTOR_CAPITAL)] = "guarantee_capital"
        accounts[platform.account(AccountKind.GUARANTOR_CLAIMS)] = "claims_held"
    return accounts


def income_by_month(journal: pd.DataFrame, platform, months: int) -> pd.DataFrame:
    """The income statement of ``platform``: lines x months 0 .. ``months`` - 1, fen.

    ``journal`` may hold only the months wanted (:meth:`Ledger.journal` ``since_day``); the
    products' lines need the whole run and are left to :func:`statements`.
    """
    accounts, channels = company_accounts(platform), channels_of(platform)
    table = pd.DataFrame(0, index=income_lines(channels), columns=range(months), dtype=np.int64)
    crossing, flow = _crossing(journal, accounts)
    lines = crossing.memo.map(lambda memo: income_line(memo, channels))
    _refuse_unclaimed(crossing.memo[lines.isna() & ~_is_capital_or_product(crossing.memo)],
                      platform)
    _add(table, lines, crossing.month, flow)
    internal = journal[journal.source.isin(accounts) & journal.target.isin(accounts)
                       & journal.memo.isin(INTERNAL_REVENUE)]
    _add(table, internal.memo.map(lambda memo: income_line(memo, channels)), internal.month,
         internal.amount_fen)
    accrued = platform.company.interest_accrued_fen
    table.loc[INTEREST_PROMISED] = [-accrued.get(m, 0) for m in range(months)]
    unearned, compensation = guarantee_provisions(platform, months)
    table.loc[GUARANTEE_PROVISIONS] = -np.diff(unearned + compensation, prepend=0)
    _totals(table)
    return table


def accrued_income_tax(platform, income: pd.DataFrame) -> np.ndarray:
    """Income tax (企业所得税) in the year it is owed: each year's last month, the run's last (fen).

    The tax on a year's profit is paid at the next year's opening (:mod:`sim.company.costs`);
    here it is the cost of the year's last month, owed (``income_tax_payable``) until paid. The
    run's last month closes the books: the tax on its year, not paid within the run, is reckoned
    as it would be paid (after the losses carried, on a copy of the record).
    """
    paid = income.loc["income_tax"].to_numpy()
    months = len(paid)
    accrued = np.zeros(months, np.int64)
    for month in range(12, months, 12):
        accrued[month - 1] += paid[month]
    rate, last = platform.config.company.income_tax_rate, months - 1
    if rate > 0:  # the last year's tax is not paid within the run
        start = last // 12 * 12
        profit = int(income.loc["profit_before_tax"].to_numpy()[start:].sum())
        record = copy.deepcopy(platform.company)
        accrued[last] -= income_tax_fen(record, last // 12 + 1, profit, rate)
    return accrued


def guarantee_provisions(platform, months: int) -> tuple[np.ndarray, np.ndarray]:
    """The company's own guarantor's provisions at each month's end, the last a closing (fen).

    Zeros without one. Its fees by month are the layer's own count (a test ties them to the
    journal's guarantee fees); its balances those recorded at each month's end.
    """
    layer = company_guarantor(platform)
    if layer is None:
        return np.zeros(months, np.int64), np.zeros(months, np.int64)
    fees = [*layer.fees_by_month, layer.fees_month_fen][:months]
    fees += [0] * (months - len(fees))
    p = layer.params
    return provisions_by_month(fees, month_end_balances(platform, months),
                               p.unearned_fee_share, p.compensation_reserve_rate,
                               p.compensation_reserve_cap)


def statements(market, journal: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every platform's three statements by month: platform, month, year, statement, line, fen.

    ``journal`` is the ledger's (read here if not given); a ``month`` column is added to it.
    """
    journal = (market.ledger.journal(platforms=len(market.platforms)) if journal is None
               else journal)
    journal["month"] = journal.day // DAYS_PER_MONTH
    months = max(1, (market.day - 1) // DAYS_PER_MONTH + 1)
    frames = []
    for platform in market.platforms:
        for statement, table in platform_statements(market, journal, platform, months).items():
            long = table.rename_axis("line").reset_index().melt(
                id_vars="line", var_name="month", value_name="amount_fen")
            frames.append(long.assign(platform=platform.name, statement=statement))
    if not frames:  # an industry with no detailed platform: no company's books
        return pd.DataFrame({"platform": [], "month": np.zeros(0, np.int64),
                             "year": np.zeros(0, np.int64), "statement": [], "line": [],
                             "amount_fen": np.zeros(0, np.int64)})
    frame = pd.concat(frames, ignore_index=True)
    frame["month"] = frame.month.astype(np.int64)
    frame["year"] = frame.month // 12 + 1
    return frame[["platform", "month", "year", "statement", "line", "amount_fen"]]


def platform_statements(market, journal: pd.DataFrame, platform, months: int) -> dict:
    """The income, cash-flow and balance-sheet tables (lines x months, fen) of one platform."""
    accounts = company_accounts(platform)
    income = income_by_month(journal, platform, months)
    owed = _products_owed(market, platform, months)
    crossing, flow = _crossing(journal, accounts)
    products = _by_month(flow[crossing.memo.isin(PRODUCT_MEMOS)],
                         crossing.month[crossing.memo.isin(PRODUCT_MEMOS)], months)
    retained_fees = _by_month(*_internal_revenue(journal, accounts), months)
    explained = products - income.loc[INTEREST_PROMISED].to_numpy() - retained_fees
    income.loc[PRODUCT_OTHER] = -(np.diff(owed, prepend=0) - explained)
    _totals(income)
    paid_tax = income.loc["income_tax"].to_numpy().copy()
    income.loc["income_tax"] = accrued_income_tax(platform, income)
    _totals(income)
    tax_payable = np.cumsum(paid_tax) - np.cumsum(income.loc["income_tax"].to_numpy())
    owners = crossing.memo.isin(OWNER_MEMOS)
    paid_in = np.cumsum(_by_month(flow[owners], crossing.month[owners], months))
    balance = _balance_sheet(journal, accounts, months, owed, paid_in,
                             np.cumsum(income.loc["net_income"].to_numpy()),
                             (*guarantee_provisions(platform, months), tax_payable))
    return {"income": income, "cash_flow": _cash_flow(journal, accounts, months, platform),
            "balance_sheet": balance}


def check_identities(market, frame: pd.DataFrame) -> list[str]:
    """The identities every month of every platform must meet; what fails, in words (empty: none)."""
    failures = []
    for (platform, month), rows in frame.groupby(["platform", "month"]):
        value = dict(zip(rows.statement + ":" + rows.line, rows.amount_fen))
        gap = (value["balance_sheet:total_assets"] - value["balance_sheet:total_liabilities"]
               - value["balance_sheet:total_equity"])
        if gap:
            failures.append(f"{platform} month {month}: assets - liabilities - equity = {gap} fen")
        if value["income:" + PRODUCT_OTHER]:
            failures.append(f"{platform} month {month}: products owed moved by "
                            f"{value['income:' + PRODUCT_OTHER]} fen unexplained")
    for platform, rows in frame[frame.statement == "balance_sheet"].groupby("platform"):
        cash = rows[rows.line.isin(CASH_LINES)].groupby("month").amount_fen.sum()
        flows = frame[(frame.platform == platform) & (frame.line == "net_cash_flow")]
        change = np.diff(cash.to_numpy(), prepend=0)
        gap = change - flows.sort_values("month").amount_fen.to_numpy()
        for month in np.flatnonzero(gap):
            failures.append(f"{platform} month {month}: cash moved {change[month]} fen, the "
                            f"cash-flow statement says {change[month] - gap[month]}")
    return failures


# ---------------------------------------------------------------------- pieces


def _is_capital_or_product(memos: pd.Series) -> pd.Series:
    """Owners' money, a fund pool's products, or a sizing study's float: financing, not income."""
    return memos.isin(OWNER_MEMOS) | memos.isin(PRODUCT_MEMOS) | memos.isin(STUDY_MEMOS)


def _refuse_unclaimed(memos: pd.Series, platform) -> None:
    if len(memos):
        raise StatementError(f"platform {platform.name!r}: postings under {sorted(set(memos))} "
                             f"cross the company's books but no statement line claims them "
                             f"(sim/company/lines.py)")


def _crossing(journal: pd.DataFrame, accounts) -> tuple[pd.DataFrame, np.ndarray]:
    """Postings with one side in ``accounts``, and their signed amounts (+ into the company)."""
    inside_source, inside_target = journal.source.isin(accounts), journal.target.isin(accounts)
    crossing = journal[inside_source ^ inside_target]
    sign = np.where(crossing.target.isin(accounts), 1, -1)
    return crossing, sign * crossing.amount_fen.to_numpy()


def _internal_revenue(journal: pd.DataFrame, accounts) -> tuple[np.ndarray, pd.Series]:
    rows = journal[journal.source.isin(accounts) & journal.target.isin(accounts)
                   & journal.memo.isin(INTERNAL_REVENUE)]
    return rows.amount_fen.to_numpy(), rows.month


def _by_month(amounts, months_of, months: int) -> np.ndarray:
    """Sum of ``amounts`` by month, months 0 .. ``months`` - 1 (fen, exact)."""
    total = np.zeros(months + 1, dtype=np.int64)
    np.add.at(total, np.minimum(np.asarray(months_of, dtype=np.int64), months),
              np.asarray(amounts, dtype=np.int64))
    return total[:months]


def _add(table: pd.DataFrame, lines: pd.Series, months_of: pd.Series, amounts) -> None:
    frame = pd.DataFrame({"line": lines.to_numpy(), "month": months_of.to_numpy(),
                          "amount": np.asarray(amounts, dtype=np.int64)}).dropna()
    for (line, month), amount in frame.groupby(["line", "month"]).amount.sum().items():
        if month < table.shape[1]:
            table.loc[line, month] += amount


def _totals(table: pd.DataFrame) -> None:
    """Revenue, profit before tax and net income from the lines above them."""
    table.loc["revenue"] = table.loc[list(REVENUE_LINES)].sum()
    lines = list(table.index)
    before_tax = lines[lines.index("revenue") + 1:lines.index("profit_before_tax")]
    table.loc["profit_before_tax"] = table.loc["revenue"] + table.loc[before_tax].sum()
    table.loc["net_income"] = table.loc["profit_before_tax"] + table.loc[list(TAX_LINES)].sum()


def _products_owed(market, platform, months: int) -> np.ndarray:
    """What a fund pool owes its investors at each month's end (fen); zeros otherwise."""
    if not platform.is_fund_pool:
        return np.zeros(months, dtype=np.int64)
    owed = platform.company.products_owed_fen
    now = products_owed_now(market, platform)
    return np.array([owed.get(m, now) for m in range(months)], dtype=np.int64)


def products_owed_now(market, platform) -> int:
    """What a fund pool owes its investors now: their products and redemptions queued (fen)."""
    inv, p = market.investors, platform.index
    return int(inv.product_fen[:, p].sum() + inv.queued_fen[:, p].sum())


def _cash_flow(journal: pd.DataFrame, accounts, months: int, platform) -> pd.DataFrame:
    cash = [a for a, line in accounts.items() if line in CASH_LINES]
    rows, flow = _crossing(journal, cash)
    financing = _is_capital_or_product(rows.memo)
    investing = rows.memo.isin(INVESTING_MEMOS) & ~financing
    operating = ~financing & ~investing
    channels = channels_of(platform)
    unclaimed = rows.memo.map(lambda memo: income_line(memo, channels)).isna()
    _refuse_unclaimed(rows.memo[operating & unclaimed], platform)
    table = pd.DataFrame(0, index=CASH_FLOW_LINES, columns=range(months), dtype=np.int64)
    for line, mask in (("operating", operating), ("investing", investing),
                       ("financing", financing)):
        table.loc[line] = _by_month(flow[mask.to_numpy()], rows.month[mask], months)
    table.loc["net_cash_flow"] = table.loc[["operating", "investing", "financing"]].sum()
    return table


def _balance_sheet(journal, accounts, months, owed, paid_in, retained,
                   provisions) -> pd.DataFrame:
    table = pd.DataFrame(0, index=BALANCE_LINES, columns=range(months), dtype=np.int64)
    for account, line in accounts.items():
        into = journal.target == account
        out = journal.source == account
        net = (_by_month(journal.amount_fen[into], journal.month[into], months)
               - _by_month(journal.amount_fen[out], journal.month[out], months))
        table.loc[line] += np.cumsum(net)
    table.loc["total_assets"] = table.loc[ASSET_LINES].sum()
    table.loc["products_owed"] = owed
    unearned, compensation, tax_payable = provisions
    table.loc["unearned_guarantee_fees"], table.loc["compensation_reserve"] = unearned, compensation
    table.loc["income_tax_payable"] = tax_payable
    table.loc["total_liabilities"] = owed + unearned + compensation + tax_payable
    table.loc["paid_in_capital"] = paid_in
    table.loc["retained_earnings"] = retained
    table.loc["total_equity"] = paid_in + retained
    return table


__all__ = ["BALANCE_LINES", "CASH_FLOW_LINES",
           "StatementError", "check_identities", "company_accounts", "income_by_month",
           "platform_statements", "products_owed_now", "statements"]
