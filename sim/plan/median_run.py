"""The median run's monthly statements in ``plan.xlsx``, totals as formulas a founder can audit.

The P10 / P50 / P90 sheets say how wide the plan's outcomes are, but a percentile line is not a
statement (its lines do not add up). One run's statements do: the run whose net income over the
plan is the median of the runs (the lower one of an even number) is run again from its seed and
its draws (the same numbers, bit for bit) and written month by month, every line a value and
every total (revenue, profit before tax, net income; net change in cash; total assets,
liabilities, equity) an Excel formula over the lines it adds up, with a Total column of ``SUM``
formulas for the flows, so a change to a line in Excel moves its totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.company.lines import REVENUE_LINES, TAX_LINES, label
from sim.company.statements import ASSET_LINES
from sim.plan.workbook import Formula

SHEETS = {"income": "Median run, income", "cash_flow": "Median run, cash flow",
          "balance_sheet": "Median run, balance"}
LIABILITY_LINES = ["products_owed", "unearned_guarantee_fees", "compensation_reserve",
                   "income_tax_payable"]


def median_run(records: list[dict]) -> dict:
    """The record of the run whose net income summed over the plan's years is the median."""
    totals = [sum(v for v in r["plan"]["statements"]["income:net_income"] if v is not None)
              for r in records]
    order = np.argsort(totals, kind="stable")
    return records[int(order[(len(order) - 1) // 2])]


def monthly_statements(task, platform: str) -> dict[str, pd.DataFrame]:
    """The run of ``task`` again: its three statements, lines x plan months, CNY."""
    from sim.company.statements import statements
    from sim.model import P2PMarket

    model = P2PMarket(task.scenario, rng=task.seed, audit="off", threads=1, **task.overrides)
    try:
        model.run()
        frame = statements(model)
    finally:
        model.release()
    frame = frame[frame.platform == platform]
    out = {}
    for statement in SHEETS:
        rows = frame[frame.statement == statement]
        order = list(dict.fromkeys(rows.line))
        table = rows.pivot(index="line", columns="month", values="amount_fen").loc[order] / 100
        table.columns = [f"Month {m + 1}" for m in table.columns]
        out[statement] = table
    return out


def components(statement: str, lines: list[str]) -> dict[str, list[str]]:
    """Each total line of ``statement`` and the lines it adds up."""
    if statement == "income":
        revenue, before = lines.index("revenue"), lines.index("profit_before_tax")
        return {"revenue": list(REVENUE_LINES),
                "profit_before_tax": ["revenue", *lines[revenue + 1:before]],
                "net_income": ["profit_before_tax", *TAX_LINES]}
    if statement == "cash_flow":
        return {"net_cash_flow": ["operating", "investing", "financing"]}
    return {"total_assets": list(ASSET_LINES), "total_liabilities": LIABILITY_LINES,
            "total_equity": ["paid_in_capital", "retained_earnings"]}


def formula_sheet(table: pd.DataFrame, statement: str) -> pd.DataFrame:
    """``table`` as a sheet: a Line column, values by month, totals as formulas (row 1: header)."""
    lines = list(table.index)
    row_of = {line: i + 2 for i, line in enumerate(lines)}  # sheet rows: the header is row 1
    totals = components(statement, lines)
    letters = [_column(j + 2) for j in range(table.shape[1])]  # B, C, ...
    sheet = {"Line": [label(line) for line in lines]}
    for letter, month in zip(letters, table.columns):
        sheet[month] = [Formula(f"=SUM({_ranges(letter, [row_of[c] for c in totals[line]])})")
                        if line in totals else float(table.at[line, month]) for line in lines]
    if statement != "balance_sheet" and letters:  # flows: the plan's total, a SUM across
        sheet["Total"] = [Formula(f"=SUM({letters[0]}{row_of[line]}:{letters[-1]}{row_of[line]})")
                          for line in lines]
    return pd.DataFrame(sheet)


def _ranges(letter: str, rows: list[int]) -> str:
    """``B2:B7,B9`` for the rows given: contiguous runs as ranges."""
    rows, parts, start = sorted(rows), [], None
    for i, row in enumerate(rows):
        start = row if start is None else start
        if i + 1 == len(rows) or rows[i + 1] != row + 1:
            parts.append(f"{letter}{start}" if start == row else f"{letter}{start}:{letter}{row}")
            start = None
    return ",".join(parts)


def _column(index: int) -> str:
    """Excel's letters of 1-based column ``index`` (1: A, 27: AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
