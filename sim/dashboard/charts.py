"""The dashboard's live views: charts of the market, a table of its platforms, and runs.

Each view is a function of the model that returns a Solara element; SolaraViz redraws it after every
frame (``render_interval`` days). Charts read the market's DataCollector and are drawn with
matplotlib's object interface (no pyplot: frames are drawn from Solara's threads).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure

from sim.ledger import AccountKind
from sim.outputs.charts import CJK_FONT

WEEK = 7
MANY_PLATFORMS = 12  # beyond this the platforms are shown as distributions and the largest ones


def key_numbers(model):
    """The day, the book and the settings the market was built with."""
    return solara.Markdown(key_numbers_text(model), style={"font-size": "0.85em"})


def key_numbers_text(model) -> str:
    """:func:`key_numbers` as Markdown: a table, then the inputs' values."""
    daily = _daily(model)
    volume = daily["volume_cny"].sum() if len(daily) else 0.0
    rows = [("day", f"{model.day:,} of {model.horizon_days:,}"),
            ("volume lent, CNY", f"{volume:,.0f}"),
            ("outstanding principal, CNY", f"{model.outstanding_fen() / 100:,.0f}"),
            ("defaults (written off)", f"{int(daily['defaults'].sum()) if len(daily) else 0:,}"),
            ("platform cash, CNY", f"{model.account_total(AccountKind.PLATFORM_CASH) / 100:,.0f}"),
            ("platforms failed", f"{sum(p.run.state.failed for p in model.platforms)}")]
    settings = ", ".join(f"{name} = {_setting(value)}" for name, value in model.inputs.items())
    table = "\n".join(["| | |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows])
    return f"{table}\n\n**Built with** {settings}"


def volume_chart(model):
    """Volume lent and listings funded and failed (流标), by week."""
    weekly = _weekly(model, ["volume_cny", "funded_listings", "failed_listings"])
    fig = _figure(2)
    top, bottom = fig.axes
    top.fill_between(weekly.index, weekly["volume_cny"] / 1e6, step="mid", color="#3b6ea5")
    top.set_ylabel("volume, M CNY / week")
    bottom.plot(weekly.index, weekly["funded_listings"], label="funded (满标)")
    bottom.plot(weekly.index, weekly["failed_listings"], label="failed (流标)", color="#b3261e")
    bottom.set_ylabel("listings / week")
    bottom.set_xlabel("week")
    if len(weekly):
        bottom.legend(loc="upper left", fontsize=8)
    return solara.FigureMatplotlib(fig, format="png")


def arrears_chart(model):
    """Balance in arrears by bucket (M1, M2, M3), CNY."""
    fig, _, _ = _daily_lines(model, "Arrears by bucket (逾期)", "in arrears, M CNY",
                             {b.upper(): f"arrears_{b}_cny" for b in ("m1", "m2", "m3")})
    return solara.FigureMatplotlib(fig, format="png")


def protection_chart(model):
    """Reserve fund and guarantor capital, and the reserve's coverage of investors' claims."""
    fig, axis, daily = _daily_lines(model, "Protection and cash", "M CNY",
                                    {"reserve fund": "reserve_fund_cny",
                                     "guarantor capital": "guarantor_capital_cny",
                                     "platform cash": "platform_cash_cny"})
    if len(daily):
        coverage = axis.twinx()
        coverage.plot(daily["day"], 100 * daily["reserve_coverage"].fillna(0.0), color="0.5",
                      linestyle=":")
        coverage.set_ylabel("reserve / claims, % (dotted)")
    return solara.FigureMatplotlib(fig, format="png")


def _daily_lines(model, title: str, ylabel: str, series: dict[str, str]):
    """One panel of daily amounts in M CNY, ``series`` = {label: reporter}; (figure, axis, daily)."""
    daily = _daily(model)
    fig = _figure(1)
    axis = fig.axes[0]
    if len(daily):
        for label, column in series.items():
            axis.plot(daily["day"], daily[column] / 1e6, label=label)
        axis.legend(loc="upper left", fontsize=8)
    axis.set_ylabel(ylabel)
    axis.set_xlabel("day")
    axis.set_title(title, fontsize=10)
    return fig, axis, daily


def platforms_view(model):
    """Each platform now; with many, their distribution and the largest."""
    loans = model.book.loans
    funded = np.bincount(loans.platform[loans.orig_day >= 0], minlength=len(model.platforms))
    table = pd.DataFrame([_platform_row(model, p, int(funded[p.index])) for p in model.platforms])
    if len(table) <= MANY_PLATFORMS:
        return solara.DataFrame(table, items_per_page=MANY_PLATFORMS)
    fig = _figure(1)
    fig.axes[0].hist(np.log10(table["outstanding, CNY"].clip(lower=1.0)), bins=30)
    fig.axes[0].set_xlabel("outstanding principal, log10 CNY")
    fig.axes[0].set_ylabel("platforms")
    largest = table.nlargest(MANY_PLATFORMS, "outstanding, CNY")
    return solara.Column(children=[solara.FigureMatplotlib(fig, format="png"),
                                   solara.DataFrame(largest, items_per_page=MANY_PLATFORMS)])


def runs_chart(model):
    """Trust (mean, P10-P90), withdrawal queues and states, per platform (with runs on)."""
    if not model.runs.enabled:
        return solara.Markdown("Runs are off: tick **Runs: trust and withdrawals** and press "
                               "Reset to follow trust, queues and failures.")
    runs = model.datacollector.get_table_dataframe("runs")
    fig = _figure(2)
    top, bottom = fig.axes
    for name, rows in runs.groupby("platform", sort=False):
        line, = top.plot(rows["day"], rows["trust_mean"], label=str(name))
        top.fill_between(rows["day"], rows["trust_p10"], rows["trust_p90"], alpha=0.15,
                         color=line.get_color())
        bottom.plot(rows["day"], rows["queued_cny"] / 1e6, label=str(name))
    top.set_ylabel("trust (mean, P10-P90)")
    top.set_ylim(0, 1)
    top.legend(loc="lower left", fontsize=8)
    bottom.set_ylabel("withdrawals queued, M CNY")
    bottom.set_xlabel("day")
    return solara.FigureMatplotlib(fig, format="png")


def _platform_row(model, platform, funded: int) -> dict:
    books = model.bookkeeper
    return {"platform": platform.name, "state": platform.run.state.label,  # whole CNY, to read
            "outstanding, CNY": books.outstanding(platform) // 100,  # a fund pool's book too
            "cash, CNY": books.balance(platform, AccountKind.PLATFORM_CASH) // 100,
            "loans funded": funded,
            "defaulted, CNY": platform.defaulted_fen_total // 100}


def _daily(model) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


def _weekly(model, columns: list[str]) -> pd.DataFrame:
    daily = _daily(model)
    daily = daily[daily["day"] < len(daily) // WEEK * WEEK]  # complete weeks only
    if not len(daily):
        return pd.DataFrame(columns=columns, dtype=float)
    return daily[columns].groupby(daily["day"] // WEEK).sum()


def _figure(rows: int) -> Figure:
    """A figure of ``rows`` panels; fixed margins (a constrained layout doubles the drawing time)."""
    fig = Figure(figsize=(6.4, 2.2 * rows + 0.6), dpi=90)
    fig.subplots(rows, 1, sharex=True)
    fig.subplots_adjust(left=0.13, right=0.87, top=0.92, bottom=0.5 / (2.2 * rows + 0.6) + 0.06,
                        hspace=0.12)
    if CJK_FONT:
        for axis in fig.axes:
            axis.title.set_fontfamily(CJK_FONT)
    return fig


def _setting(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
