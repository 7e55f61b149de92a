"""A representative run's monthly statements in ``plan.xlsx``, totals as formulas a founder can audit.

The P10 / P50 / P90 sheets say how wide the plan's outcomes are, but a percentile line is not a
statement (its lines do not add up). One run's statements do. Which run is chosen by a stated
rule (:func:`representative_run`): the run nearest the median of the plan's key figures
*jointly* (:data:`KEY_FIGURES`: each year's revenue and net income, the lowest cash), not the
median of one figure, which can be a run that failed early and is typical of nothing else. Where
runs failed, the failed run nearest the failed runs' joint median is chosen the same way and
written beside it. Each is run again from its seed and draws (the same numbers, bit for bit) and
written month by month, every line a value and every total (revenue, profit before tax, net
income; net change in cash; total assets, liabilities, equity) an Excel formula over the lines it
adds up, with a Total column of ``SUM`` formulas for the flows, so a change to a line in Excel
moves its totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.company.lines import REVENUE_LINES, TAX_LINES, label
from sim.company.statements import ASSET_LINES
from sim.plan.workbook import Formula

SHEETS = {"income": "{who} run, income", "cash_flow": "{who} run, cash flow",
          "balance_sheet": "{who} run, balance"}
"""Sheet titles of a chosen run's statements; ``who`` is "Representative" or "Failed"."""
KEY_FIGURES = ("income:revenue", "income:net_income")
"""Statement lines whose every year is a key figure; with them, the run's lowest own cash."""
LIABILITY_LINES = ["products_owed", "unearned_guarantee_fees", "compensation_reserve",
                   "income_tax_payable"]


def key_figures(records: list[dict]) -> pd.DataFrame:
    """Runs x key figures: each year's revenue and net income, and the lowest own cash (CNY)."""
    rows = []
    for r in records:
        row = {}
        for line in KEY_FIGURES:
            for year, value in enumerate(r["plan"]["statements"].get(line, []), start=1):
                row[f"{line.split(':')[1]}_year_{year}"] = np.nan if value is None else value
        row["min_cash"] = r["plan"]["once"]["min_cash_cny"]
        rows.append(row)
    return pd.DataFrame(rows, index=[r["run"] for r in records])


def representative_run(records: list[dict]) -> tuple[dict, pd.Series]:
    """The run nearest the median of the key figures jointly, and its rank on each (0-1).

    Each figure is replaced by its rank among the runs, scaled to 0 .. 1 (ties share a rank); a
    run's distance from the median is the root mean square of its ranks' distances from 0.5; the
    nearest run is chosen (the lower run number on a tie). Returns its record and its ranks (a
    rank of 0.5 is the median of that figure; 0 the lowest, 1 the highest).
    """
    figures = key_figures(records)
    n = len(records)
    ranks = (figures.rank(method="average") - 1) / max(n - 1, 1)
    ranks = ranks.fillna(0.5)
    distance = np.sqrt(((ranks - 0.5) ** 2).mean(axis=1)).to_numpy()
    chosen = int(np.argmin(distance))
    return records[chosen], ranks.iloc[chosen]


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
