"""One self-contained HTML page: styles inline, figures embedded as data, nothing fetched.

A :class:`Page` is built section by section (key numbers, tables, figures, text) and written with
:meth:`Page.html`. Everything shown is escaped; figures are PNG files read and embedded as base64,
so the page opens the same on a machine with no network and without the results folder.
"""

from __future__ import annotations

import base64
import html
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.outputs.labels import SCALE, Column, column

GENERATOR = '<meta name="generator" content="p2psim report">'
"""The page's first line after its doctype: how ``p2psim report`` knows a file it may replace."""

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "WenQuanYi Micro Hei",
       sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5em; color: #1d2733; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #d5dde6; padding-bottom: 0.2em;
     margin-top: 2em; }
.meta { color: #5a6b7d; font-size: 0.9em; } .meta span { margin-right: 1.5em; display: inline-block; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e3e8ee; padding: 0.3em 0.8em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; } th { background: #f3f6f9; }
table.key td:first-child { color: #3b4b5c; } table.key td { font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #e3e8ee; }
figcaption { color: #5a6b7d; font-size: 0.85em; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 0.8em; }
.missed { color: #b3261e; font-weight: 600; } .met { color: #1e7d32; font-weight: 600; }
p.note { color: #5a6b7d; font-size: 0.9em; } div.wide { overflow-x: auto; }
ul.warnings { background: #fff4e5; border-left: 4px solid #e07b00; padding: 0.6em 0.6em 0.6em 2em; }
a.csv { font-size: 0.8em; margin-left: 0.5em; color: #3b6ea5; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 9pt; }
  h2 { margin-top: 1.2em; break-after: avoid; }
  div.wide { overflow: visible; }
  table { width: 100%; font-size: 7pt; }
  th, td { padding: 1px 3px; overflow-wrap: anywhere; white-space: normal; }
  th { overflow-wrap: normal; hyphens: auto; }
  table.key { table-layout: auto; font-size: 8pt; }
  figure { break-inside: avoid; } figure img { max-width: 100%; max-height: 120mm; }
  a.csv, details { display: none; }
}
"""


def number_text(value, unit: str = "") -> str:
    """A number as a person reads it: thousands separated, shares as percent, NaN as a dash."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "share":
        return f"{value:.2%}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1:
            return f"{value:.4g}"
        return f"{value:,.2f}"
    return str(value)


def facts(kind, scenario, seed, version, revision, created, overridden: str = "") -> dict[str, str]:
    """The line under a page's title that makes its result reproducible.

    ``created``: when the results were made (None: not recorded); ``overridden``: the keys set
    beside the scenario file, in words (:func:`sim.report.scenario_text.overrides_text`).
    """
    shown = {"kind": kind, "scenario": str(scenario), "seed": str(seed),
             "p2psim": str(version or "unknown"), "git revision": str(revision or "unknown"),
             "made": str(created or "not recorded")}
    if overridden:
        shown["overridden"] = overridden
    return shown


@dataclass
class Page:
    """An HTML report being built: a title, a line of facts, then sections in order."""

    title: str
    facts: dict[str, str] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)
    tables: int = 0
    key_rows: list[tuple[str, str]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Start a section."""
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def text(self, text: str, css: str = "") -> None:
        """A paragraph."""
        klass = f' class="{css}"' if css else ""
        self.parts.append(f"<p{klass}>{html.escape(text)}</p>")

    def key_numbers(self, rows: list[tuple[str, str]], element_id: str = "key-numbers") -> None:
        """A two-column table of labelled numbers (the label carries the unit), with its CSV."""
        self.key_rows += rows
        body = "".join(f"<tr><td>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>"
                       for label, value in rows)
        self.parts.append(f'<table class="key" id="{element_id}"><tbody>{body}</tbody></table>')
        csv = pd.DataFrame(rows, columns=["key number", "value"]).to_csv(index=False)
        self.parts.append(_csv_link(csv, element_id))

    def table(self, frame: pd.DataFrame, columns: dict[str, Column] | None = None,
              max_rows: int = 200) -> None:
        """A data table, each column labelled with its unit and its values in that unit.

        Columns are named by :func:`sim.outputs.labels.column` unless ``columns`` names them. The
        table as shown (headers, values in their units) is embedded as a CSV file to download.
        """
        shown = readable(frame.head(max_rows), columns or {})
        units = {c.header: c.unit for c in _columns(frame, columns or {})}
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
        rows = []
        for record in shown.itertuples(index=False):
            cells = "".join(_cell(v, units.get(c, "")) for c, v in zip(shown.columns, record))
            rows.append(f"<tr>{cells}</tr>")
        self.tables += 1
        name = f"table-{self.tables}"
        self.parts.append(f'<div class="wide"><table id="{name}"><thead><tr>{head}</tr></thead>'
                          f"<tbody>{''.join(rows)}</tbody></table></div>"
                          + _csv_link(shown.to_csv(index=False), name))
        if len(frame) > max_rows:
            self.text(f"First {max_rows} of {len(frame):,} rows; the rest are in the results "
                      f"folder.", "note")

    def warnings(self, items: list[str]) -> None:
        """What the results cannot answer, in words, set apart (nothing when there is none)."""
        if items:
            self.heading("Warnings")
            self.parts.append('<ul class="warnings" id="warnings">' + "".join(
                f"<li>{html.escape(item)}</li>" for item in items) + "</ul>")

    def figures(self, folder, listing) -> None:
        """A "Figures" section: each ``(file, caption)`` of ``listing`` the results folder has."""
        present = [(file, caption) for file, caption in listing if folder.has(file)]
        if present:
            self.heading("Figures")
        for file, caption in present:
            self.figure(folder.path / file, caption)

    def figure(self, path: Path, caption: str) -> None:
        """A PNG figure, embedded."""
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        self.parts.append(f'<figure><img alt="{html.escape(caption)}" '
                          f'src="data:image/png;base64,{data}"><figcaption>'
                          f"{html.escape(caption)}</figcaption></figure>")

    def figure_png(self, png: bytes, caption: str) -> None:
        """A figure drawn for the page (PNG bytes), embedded."""
        data = base64.b64encode(png).decode("ascii")
        self.parts.append(f'<figure><img alt="{html.escape(caption)}" '
                          f'src="data:image/png;base64,{data}"><figcaption>'
                          f"{html.escape(caption)}</figcaption></figure>")

    def preformatted(self, text: str, summary: str) -> None:
        """Text shown as is, folded under ``summary``."""
        self.parts.append(f"<details><summary>{html.escape(summary)}</summary>"
                          f"<pre>{html.escape(text)}</pre></details>")

    def html(self) -> str:
        """The whole page."""
        written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        facts = "".join(f"<span>{html.escape(k)}: <b>{html.escape(v)}</b></span>"
                        for k, v in {**self.facts, "report written": written}.items())
        return (f'<!DOCTYPE html>\n<html lang="en"><head>{GENERATOR}<meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1><div class=\"meta\">{facts}</div>"
                f"{''.join(self.parts)}</body></html>\n")


def _csv_link(csv: str, name: str) -> str:
    """A link that downloads ``csv`` (embedded: the page stays one file) as ``name``.csv."""
    data = base64.b64encode(csv.encode("utf-8")).decode("ascii")
    return (f'<p class="note"><a class="csv" download="{name}.csv" '
            f'href="data:text/csv;charset=utf-8;base64,{data}">download this table (CSV)</a></p>')


def readable(frame: pd.DataFrame, columns: dict[str, Column]) -> pd.DataFrame:
    """``frame`` as a reader sees it: headers with units, shares in %, amounts in M (or 亿) CNY."""
    shown = pd.DataFrame(index=frame.index)
    for name, spec in zip(frame.columns, _columns(frame, columns)):
        values = frame[name]
        if values.dtype.kind in "fiu" and spec.unit in SCALE:
            values = values * SCALE[spec.unit]
        elif values.dtype == object and spec.unit == "text":
            values = values.map(lambda v: label_of(v) if isinstance(v, str) else v)
        shown[spec.header] = values
    return _counts_as_integers(shown.reset_index(drop=True))


def _columns(frame: pd.DataFrame, columns: dict[str, Column]) -> list[Column]:
    return [columns[c] if c in columns else column(str(c)) for c in frame.columns]


def label_of(value: str) -> str:
    """A code name in a text column (a figure's name) as its label; other text as it is."""
    if re.fullmatch(r"[a-z][a-z0-9_]*_(cny|rate|share|count|loans|days)|[a-z]+(_[a-z0-9]+)+",
                    value):
        return column(value).header
    return value


def _counts_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns that hold whole numbers only (days, months, counts; NaN allowed) as integers.

    Amounts (a column in CNY) and percentages keep their decimals even when whole.
    """
    frame = frame.copy()
    for name in frame.columns:
        values = frame[name]
        if (values.dtype.kind == "f" and "CNY" not in str(name) and "%" not in str(name)
                and values.notna().any() and (values.dropna() % 1 == 0).all()):
            frame[name] = values.astype("Int64")
    return frame


def _cell(value, unit: str) -> str:
    value = _plain(value)
    css = ' class="text"' if isinstance(value, str) else ""
    return f"<td{css}>{html.escape(cell_text(value, unit))}</td>"


def cell_text(value, unit: str) -> str:
    """A table's number in its column's unit (already scaled).

    Shares and amounts: at most 2 decimals, fewer where the value was rounded to its error
    (34.2 stays 34.2), 2 significant digits where it is tiny.
    """
    if isinstance(value, float) and unit in ("share", "rate", "cny", "yi") and not math.isnan(
            value):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.2g}"
        text = repr(value)
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 2
        return f"{value:,.{min(2, decimals)}f}"
    return number_text(value)


def _plain(value):
    """A numpy scalar as the Python number it holds."""
    return value.item() if hasattr(value, "item") else value
