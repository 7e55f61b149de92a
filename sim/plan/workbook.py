"""The plan as a spreadsheet a founder opens in Excel or LibreOffice (``plan.xlsx``), and as CSV.

One sheet per statement with P10 / P50 / P90 columns by year, the targets with their odds, timing,
drivers, every run's inputs and figures, and a sheet that says how it was made. Numbers are
formatted (CNY without decimals, shares as percentages) and headers are frozen.

Text is always a value: only a :class:`Formula` p2psim made (a chosen run's totals) is written as
a formula. A text from a scenario or a user that starts like one (``=HYPERLINK(...)``, ``+``, ``-``,
``@``) is written as text with Excel's quote prefix, so neither Excel nor LibreOffice evaluates it
(formula injection); control characters a workbook cannot hold are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

CNY = "#,##0"
SHARE = "0.0%"
NUMBER = "0.000"
STATEMENT_SHEETS = {"income": "Income statement", "cash_flow": "Cash flow",
                    "balance_sheet": "Balance sheet"}
NOT_ADDITIVE = ("P10, P50 and P90 are each line's own percentiles over the runs, so they do not add "
                "up: the P50 of revenue less costs is not the P50 of revenue less the P50 of costs. "
                "Read a total from its own line (revenue, profit before tax, net income, totals).")
"""Said under every statement sheet: a percentile of a sum is not the sum of percentiles."""


class Formula(str):
    """A formula p2psim writes on purpose (``=SUM(B2:B7)``); every other text is a value."""


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""What a workbook cannot hold (XML 1.0): dropped from text written to it."""


def statement_sheet(quantiles: pd.DataFrame, statement: str) -> pd.DataFrame:
    """Lines as rows, ``Year N P10 / P50 / P90`` as columns (CNY), in the statement's order."""
    rows = quantiles[quantiles.statement == statement]
    order = list(dict.fromkeys(rows.line))
    wide = rows.pivot(index="line", columns="year", values=["p10", "p50", "p90"])
    columns = {}
    for year in sorted(rows.year.unique()):
        for q in ("p10", "p50", "p90"):
            columns[f"Year {year} {q.upper()}"] = wide[(q, year)]
    table = pd.DataFrame(columns).loc[order]
    labels = rows.drop_duplicates("line").set_index("line").label
    table.insert(0, "Line", labels.loc[order].to_numpy())
    return table.reset_index(drop=True)


def write_workbook(path: Path, sheets: dict[str, tuple[pd.DataFrame, dict[str, str]]],
                   about: list[tuple[str, str]], notes: dict[str, str] | None = None) -> None:
    """Write ``sheets`` (title: (table, number format by column)) and an About sheet to ``path``.

    ``notes``: a sentence written in italics two rows under a sheet's table, by its title.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.remove(book.active)
    for title, (table, formats) in sheets.items():
        sheet = book.create_sheet(title[:31])
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.itertuples(index=False):
            _append(sheet, row)
        for j, column in enumerate(table.columns, start=1):
            letter = sheet.cell(row=1, column=j).column_letter
            number = formats.get(column) or formats.get("*")
            width = max([len(str(column))] + [len(str(v)) for v in table[column].head(200)])
            sheet.column_dimensions[letter].width = min(60, max(10, width + 2))
            if number:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    if isinstance(cell.value, int | float) or cell.data_type == "f":
                        cell.number_format = number
        sheet.freeze_panes = "B2"
        if title in (notes or {}):
            sheet.append([])
            sheet.append([notes[title]])
            sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True)
    sheet = book.create_sheet("About")
    for key, value in about:
        _append(sheet, (key, value))
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 100
    book.save(path)


def _append(sheet, values) -> None:
    """Append a row; text is a value (never evaluated) unless it is a :class:`Formula`."""
    sheet.append([_cell(v) for v in values])
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if isinstance(value, str) and not isinstance(value, Formula) and cell.data_type == "f":
            cell.data_type = "s"
            cell.quotePrefix = True


def _cell(value):
    """A value openpyxl writes: plain floats, no NaN (an empty cell instead), text it can hold."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, Formula):
        return str(value)
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    if hasattr(value, "item"):
        return value.item()
    return value
