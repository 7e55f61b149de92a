"""The company's taxes: VAT after input credit (增值税, 进项抵扣) and income tax after losses (企业所得税).

Paid by :func:`sim.company.costs.company_costs` at a month's (VAT) and a year's (income tax)
opening; the statements show the income tax in the year it is owed
(:func:`sim.company.statements.accrued_income_tax`).
"""

from __future__ import annotations

LOSS_YEARS = 5
"""Years a tax loss can be carried forward (亏损结转, China: five)."""


INPUT_VAT_LINES = ("technology", "rent", "branches", "credit_data", "custody_fees",
                   "other_operating_costs")
"""Purchases that carry VAT a company can credit (staff do not), with every marketing line."""


def vat_fen(record, month_income, rate: float, input_rate: float) -> int:
    """VAT due on a month (its income statement's column), after input credit (fen).

    Output VAT ``rate`` x revenue; input VAT ``input_rate / (1 + input_rate)`` of the purchases
    of :data:`INPUT_VAT_LINES` and marketing (prices include it); a credit beyond the output is
    kept in ``record.vat_credit_fen`` for the next month (留抵).
    """
    output = max(0, round(rate * int(month_income["revenue"])))
    lines = [line for line in month_income.index
             if line in INPUT_VAT_LINES or line.startswith("marketing_")]
    purchases = -int(month_income[lines].sum())
    credit = record.vat_credit_fen + max(0, round(input_rate / (1 + input_rate) * purchases))
    due = max(0, output - credit)
    record.vat_credit_fen = credit - (output - due)
    return due


def income_tax_fen(record, year: int, profit_fen: int, rate: float) -> int:
    """Tax on year ``year``'s profit before tax after earlier losses (fen); keeps a loss for later.

    ``record.tax_losses`` holds ``[year, loss_fen]`` of the last :data:`LOSS_YEARS` years, used
    oldest first.
    """
    losses = [entry for entry in record.tax_losses if year - entry[0] <= LOSS_YEARS]
    if profit_fen <= 0:
        record.tax_losses = [*losses, [year, -profit_fen]]
        return 0
    taxable = profit_fen
    for entry in losses:
        used = min(entry[1], taxable)
        entry[1] -= used
        taxable -= used
    record.tax_losses = [entry for entry in losses if entry[1] > 0]
    return round(rate * taxable)
