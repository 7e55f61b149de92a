"""The company's month: capital raised on its dates, staff, offices, credit data and taxes.

Called at each month's opening (:func:`sim.market.month.open_month`): :func:`open_books` first
(last month's products owed, capital raised this month), then the platform pays
:func:`company_costs` with its other costs (:meth:`sim.market.treasury.Treasury.pay_costs`).

A company follows its platform's state. Once the platform has failed, no planned raise arrives
(investors in a financing round do not pay into a failed platform), and in a wind-down (良性退出)
it pays only the costs of the wind-down: the staff of :data:`WIND_DOWN_DEPARTMENTS`, the
technology that collects and pays out, and the taxes it owes, beside the platform's collection
costs, custodian and other operating costs (legal, audit: :meth:`~sim.market.treasury.Treasury.
pay_costs`); no rent, branches or credit data, and no marketing (:mod:`sim.market.acquisition`).
A closed or fled platform pays nothing more.
"""

from __future__ import annotations

from sim.company.guarantee_arm import close_month
from sim.company.statements import income_by_month, products_owed_now
from sim.company.taxes import income_tax_fen, vat_fen
from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH
from sim.money import to_fen
from sim.scenario.company import for_year

WIND_DOWN_DEPARTMENTS = ("collection", "management")
"""The staff a wind-down (良性退出) keeps: 催收 to collect the loans, 管理 to run the exit."""


def open_books(market, platform, month: int) -> None:
    """A month opens: record last month's end; raise this month's capital.

    Last month's end: a fund pool's products owed, the company's own guarantor's balance (and
    with it its provisions).
    """
    record = platform.company
    if month > 0 and platform.is_fund_pool:
        record.products_owed_fen[month - 1] = products_owed_now(market, platform)
    close_month(platform, month)
    record.new_month()
    if platform.run.state.failed:
        return  # a financing round does not pay into a failed platform
    for raised in platform.config.company.capital_raises:
        if raised.month == month:
            market.bookkeeper.move(platform, WORLD, AccountKind.PLATFORM_CASH,
                                   to_fen(raised.amount_cny), Memo.CAPITAL_RAISE)


def company_costs(market, platform, month: int) -> list[tuple[Memo, str, int]]:
    """The company costs of ``month``: (memo, its detail, fen) in the order they are paid.

    A department's salaries are ``Memo.STAFF`` with the department as the detail. A platform
    winding down pays only a wind-down's costs (the module's docstring).
    """
    company = platform.config.company
    winding_down = platform.run.state.failed
    costs = [(Memo.STAFF, name, to_fen(for_year(dept.headcount, month) * dept.salary_monthly_cny))
             for name, dept in company.staff.items()
             if not winding_down or name in WIND_DOWN_DEPARTMENTS]
    costs.append((Memo.TECHNOLOGY, "", to_fen(for_year(company.technology_monthly_cny, month))))
    if not winding_down:
        costs += [
            (Memo.RENT, "", to_fen(for_year(company.rent_monthly_cny, month))),
            (Memo.BRANCHES, "", to_fen(for_year(company.branches, month)
                                       * company.branch_monthly_cny)),
            (Memo.CREDIT_DATA, "", to_fen(platform.company.applications_last_month
                                          * company.credit_data_per_application_cny)),
        ]
    if company.vat_rate > 0 and month > 0:
        vat = vat_fen(platform.company, _last_months(market, platform, month, 1).iloc[:, 0],
                      company.vat_rate, company.vat_input_rate)
        costs += [(Memo.VAT, "", vat),
                  (Memo.VAT_SURCHARGE, "", round(company.vat_surcharge_rate * vat))]
    if company.income_tax_rate > 0 and month > 0 and month % 12 == 0:
        profit = int(_last_months(market, platform, month, 12).loc["profit_before_tax"].sum())
        costs.append((Memo.INCOME_TAX, "", income_tax_fen(platform.company, month // 12, profit,
                                                          company.income_tax_rate)))
    return [(memo, detail, fen) for memo, detail, fen in costs if fen > 0]


def _last_months(market, platform, month: int, n: int):
    """The income statement of months ``month - n`` .. ``month - 1`` (lines x months, fen)."""
    journal = market.ledger.journal(since_day=(month - n) * DAYS_PER_MONTH)
    journal["month"] = journal.day // DAYS_PER_MONTH
    return income_by_month(journal, platform, month).iloc[:, month - n:month]
