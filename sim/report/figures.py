"""Figures a report draws itself from a results folder's tables: the loss waterfall, the cash runway.

Drawn with matplotlib's object interface into PNG bytes that the page embeds; every axis has its
label and unit, amounts in M CNY, no offset on the axes.
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.charts import cjk_titles, plain_numbers
from sim.outputs.losses import LOSS_LAYERS, loss_layers

MILLION = 1e6


def loss_waterfall_png(daily: pd.DataFrame, title: str) -> bytes:
    """Who paid for the loans that went bad over the run, layer by layer (M CNY)."""
    layers = loss_layers(daily)
    fig = Figure(figsize=(8, 3.2), dpi=100)
    axis = fig.subplots()
    names = list(LOSS_LAYERS)
    values = [layers[n] / MILLION for n in names]
    axis.barh(names, values, color="#3b6ea5")
    for y, value in enumerate(values):
        axis.annotate(f"{value:,.2f}", (value, y), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)
    axis.invert_yaxis()
    plain_numbers(axis, "x")
    axis.set_xlabel("M CNY, summed over the run")
    axis.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.34, right=0.95, top=0.88, bottom=0.16)
    return png_bytes(fig)


def cash_runway_png(cash: pd.Series, minimum_cny: float | None, title: str,
                    band: tuple[pd.Series, pd.Series] | None = None, unit: str = "day") -> bytes:
    """Own cash over time (M CNY) with the plan's minimum as a red line (and a P10-P90 band)."""
    fig = Figure(figsize=(8, 3.2), dpi=100)
    axis = fig.subplots()
    if band is not None:
        axis.fill_between(band[0].index, band[0] / MILLION, band[1] / MILLION, color="#3b6ea5",
                          alpha=0.2, label="P10 to P90 of the runs")
    axis.plot(cash.index, cash / MILLION, color="#3b6ea5",
              label="median of the runs" if band is not None else "own cash")
    if minimum_cny is not None:
        axis.axhline(minimum_cny / MILLION, color="#b3261e", linewidth=1.0,
                     label=f"the plan's minimum cash, {minimum_cny / MILLION:,.1f} M CNY")
    plain_numbers(axis, "y")
    axis.set_ylabel("own cash (自有资金), M CNY")
    axis.set_xlabel(f"{unit} of the run")
    axis.legend(loc="best", fontsize=8)
    axis.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.16)
    return png_bytes(fig)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes, its titles and y labels in the CJK font where there is one."""
    cjk_titles(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
