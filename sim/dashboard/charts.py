"""The dashboard's views: key numbers, charts of the market, its platforms, runs.

Each view is a function of the market (and of a pinned earlier run, drawn grey and dashed, or None)
that returns a Solara element; the page redraws the open tab's views after every frame. Charts
share one time axis (days, with every third month marked) and the scenario's dated events, and are
drawn with matplotlib's object interface (no pyplot: frames are drawn from Solara's threads).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure

from sim.dashboard.numbers import MILLION, daily, key_numbers, minimum_cash_cny
from sim.ledger import AccountKind
from sim.loans import DAYS_PER_MONTH
from sim.outputs.charts import cjk_titles
from sim.outputs.losses import LOSS_LAYERS, loss_layers

WEEK = 7
MANY_PLATFORMS = 12  # beyond this the platforms are shown as distributions and the largest ones
PINNED = {"color": "0.55", "linestyle": "--", "linewidth": 1.0}


def key_numbers_view(market):
    """The key numbers with their units, and the values the market was built with.

    Plain HTML, not Markdown: Solara's Markdown asks for KaTeX from a CDN the page cannot reach.
    """
    return solara.HTML(tag="div", unsafe_innerHTML=key_numbers_html(market),
                       style={"font-size": "0.85em"})


def key_numbers_html(market) -> str:
    """:func:`key_numbers_view`'s HTML: a table, then the inputs' values."""
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{html.escape(v)}"
                   f"</td></tr>" for k, v in key_numbers(market))
    settings = ", ".join(f"{name} = {_setting(value)}" for name, value in market.inputs.items())
    return (f"<table class='key-numbers' style='width:100%'>{rows}</table>"
            f"<p><b>Built with</b> {html.escape(settings)}</p>")


def volume_chart(market, pinned=None):
    """Volume lent per complete week and listings funded and failed (流标), on the day axis."""
    fig = _figure(2)
    top, bottom = fig.axes
    for rows, style in _runs(market, pinned):
        weekly = _weekly(rows, ["volume_cny", "funded_listings", "failed_listings"])
        days = weekly.index * WEEK + WEEK / 2
        top.step(days, weekly["volume_cny"] / MILLION, where="mid", **style)
        bottom.plot(days, weekly["funded_listings"], **(style or {"label": "funded (满标)"}))
        if not style:
            bottom.plot(days, weekly["failed_listings"], label="failed (流标)", color="#b3261e")
    top.set_ylabel("volume lent,\nM CNY per week")
    bottom.set_ylabel("listings per week")
    _finish(fig, market, "Volume lent (成交额)")
    return solara.FigureMatplotlib(fig, format="png")


def arrears_chart(market, pinned=None):
    """Balance in arrears by bucket (M1, M2, M3), M CNY."""
    fig = _figure(1)
    axis = fig.axes[0]
    for rows, style in _runs(market, pinned):
        for bucket in ("m1", "m2", "m3"):
            if len(rows):
                axis.plot(rows["day"], rows[f"arrears_{bucket}_cny"] / MILLION,
                          **(style or {"label": bucket.upper()}))
    axis.set_ylabel("in arrears, M CNY")
    _finish(fig, market, "Arrears by bucket (逾期)")
    return solara.FigureMatplotlib(fig, format="png")


def reserve_chart(market, pinned=None):
    """The reserve fund and guarantor capital (M CNY), and the reserve's coverage on its own axis."""
    fig = _figure(2)
    top, bottom = fig.axes
    for rows, style in _runs(market, pinned):
        if len(rows):
            top.plot(rows["day"], rows["reserve_fund_cny"] / MILLION,
                     **(style or {"label": "reserve fund"}))
            top.plot(rows["day"], rows["guarantor_capital_cny"] / MILLION,
                     **(style or {"label": "guarantor capital"}))
            bottom.plot(rows["day"], 100 * rows["reserve_coverage"].fillna(0.0),
                        **(style or {"color": "#3b6ea5"}))
    top.set_ylabel("protection, M CNY")
    bottom.set_ylabel("reserve coverage,\n% of claims")
    _finish(fig, market, "Reserve fund (风险准备金) and its coverage")
    return solara.FigureMatplotlib(fig, format="png")


def cash_chart(market, pinned=None):
    """The platforms' own cash (M CNY) with the plan's minimum-cash line where it sets one."""
    fig = _figure(1)
    axis = fig.axes[0]
    for rows, style in _runs(market, pinned):
        if len(rows):
            axis.plot(rows["day"], rows["platform_cash_cny"] / MILLION,
                      **(style or {"label": "platform cash"}))
    floor = minimum_cash_cny(market)
    if floor is not None:
        axis.axhline(floor / MILLION, color="#b3261e", linewidth=1.0,
                     label=f"plan's minimum cash ({floor / MILLION:,.1f} M)")
    axis.set_ylabel("own cash, M CNY")
    _finish(fig, market, "Cash (自有资金) and the plan's minimum")
    return solara.FigureMatplotlib(fig, format="png")


def loss_waterfall(market, pinned=None):
    """Who paid for the loans that went bad, summed so far (M CNY), layer by layer."""
    layers = loss_layers(daily(market))
    fig = Figure(figsize=(6.4, 2.8), dpi=90)
    axis = fig.subplots()
    names = list(LOSS_LAYERS)
    axis.barh(names, [layers[n] / MILLION for n in names], color="#3b6ea5", label="this run")
    if pinned is not None:
        before = loss_layers(pinned["daily"])
        axis.scatter([before[n] / MILLION for n in names], names, marker="|", s=200, color="0.3",
                     label=f"pinned: {pinned['label']}")
        axis.legend(loc="lower right", fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("M CNY, summed over the days run")
    axis.set_title("Losses by layer: guarantor → reserve → insurer → investors", fontsize=10)
    fig.subplots_adjust(left=0.42, right=0.97, top=0.88, bottom=0.2)
    cjk_titles(fig)
    return solara.FigureMatplotlib(fig, format="png")


def platforms_view(market):
    """Each platform now, amounts formatted; with many, their distribution and the largest."""
    with market.lock:
        loans = market.book.loans
        funded = np.bincount(loans.platform[loans.orig_day >= 0], minlength=len(market.platforms))
        table = pd.DataFrame([_platform_row(market, p, int(funded[p.index]))
                              for p in market.platforms])
    shown = table.copy()
    for column in [c for c in shown.columns if c.endswith("M CNY")]:
        shown[column] = shown[column].map(lambda v: f"{v:,.2f}")
    shown["loans funded"] = shown["loans funded"].map(lambda v: f"{v:,}")
    if len(table) <= MANY_PLATFORMS:
        return solara.DataFrame(shown, items_per_page=MANY_PLATFORMS)
    fig = _figure(1)
    fig.axes[0].hist(np.log10(1e6 * table["outstanding, M CNY"].clip(lower=1e-6)), bins=30)
    fig.axes[0].set_xlabel("outstanding principal, log10 CNY")
    fig.axes[0].set_ylabel("platforms")
    largest = shown.loc[table.nlargest(MANY_PLATFORMS, "outstanding, M CNY").index]
    return solara.Column(children=[solara.FigureMatplotlib(fig, format="png"),
                                   solara.DataFrame(largest, items_per_page=MANY_PLATFORMS)])


def runs_chart(market):
    """Trust (mean, P10-P90), withdrawal queues and states, per platform (with runs on)."""
    if not market.runs.enabled:
        return solara.Info("Runs are off: tick Runs 挤兑 (trust) and press Reset to follow trust, "
                           "queues and failures.")
    with market.lock:
        runs = market.datacollector.get_table_dataframe("runs").copy()
    fig = _figure(2)
    top, bottom = fig.axes
    for name, rows in runs.groupby("platform", sort=False):
        line, = top.plot(rows["day"], rows["trust_mean"], label=str(name))
        top.fill_between(rows["day"], rows["trust_p10"], rows["trust_p90"], alpha=0.15,
                         color=line.get_color())
        bottom.plot(rows["day"], rows["queued_cny"] / MILLION, label=str(name))
    top.set_ylabel("trust (mean, P10-P90)")
    top.set_ylim(0, 1)
    bottom.set_ylabel("withdrawals queued,\nM CNY")
    _finish(fig, market, "Trust and withdrawals (挤兑)")
    return solara.FigureMatplotlib(fig, format="png")


def _platform_row(market, platform, funded: int) -> dict:
    books = market.bookkeeper
    return {"platform": platform.name, "state": platform.run.state.label,
            "outstanding, M CNY": books.outstanding(platform) / 100 / MILLION,  # a pool's too
            "cash, M CNY": books.balance(platform, AccountKind.PLATFORM_CASH) / 100 / MILLION,
            "loans funded": funded,
            "defaulted, M CNY": platform.defaulted_fen_total / 100 / MILLION}


def _runs(market, pinned):
    """(day rows, style) of the pinned run (grey, dashed) and then this one (default style)."""
    out = [] if pinned is None else [(pinned["daily"], dict(PINNED))]
    return [*out, (daily(market), {})]


def _weekly(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    rows = rows[rows["day"] < len(rows) // WEEK * WEEK] if len(rows) else rows  # whole weeks
    if not len(rows):
        return pd.DataFrame(columns=columns, dtype=float)
    return rows[columns].groupby(rows["day"] // WEEK).sum()


def _finish(fig: Figure, market, title: str) -> None:
    """The shared day axis, the dated events, legends and the title."""
    last = fig.axes[-1]
    step = next((months * DAYS_PER_MONTH for months in (3, 6, 12, 24)
                 if market.horizon_days <= 8 * months * DAYS_PER_MONTH), 48 * DAYS_PER_MONTH)
    ticks = np.arange(0, market.horizon_days + 1, step)
    for axis in fig.axes:
        axis.set_xlim(0, market.horizon_days)
        axis.set_xticks(ticks)
        for day, label in market.dated_events():
            axis.axvline(day, color="#b3261e", linewidth=0.8, linestyle=":")
            if axis is fig.axes[0]:
                axis.annotate(label, (day, 1.0), xycoords=("data", "axes fraction"),
                              fontsize=7, color="#b3261e", ha="left", va="top", rotation=90)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="upper left", fontsize=7, framealpha=0.8)
    last.set_xticklabels([f"{d}\nm{d // DAYS_PER_MONTH}" for d in ticks], fontsize=7)
    last.set_xlabel("day of the run (m: month)", fontsize=8)
    fig.axes[0].set_title(title, fontsize=10)


def _figure(rows: int) -> Figure:
    """A figure of ``rows`` panels; fixed margins (a constrained layout doubles the drawing time)."""
    fig = Figure(figsize=(6.4, 2.0 * rows + 0.9), dpi=90)
    fig.subplots(rows, 1, sharex=True)
    fig.subplots_adjust(left=0.15, right=0.97, top=0.9, bottom=0.9 / (2.0 * rows + 0.9) + 0.04,
                        hspace=0.12)
    cjk_titles(fig)
    return fig


def _setting(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
