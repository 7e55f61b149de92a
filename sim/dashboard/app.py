"""The Solara app that ``p2psim dashboard`` serves: one market per visitor, views by user.

The scenario comes from ``P2PSIM_DASHBOARD_SCENARIO`` (the command sets it). Each browser session
builds its own :class:`~sim.dashboard.model.DashboardMarket` when its page first renders, so
visitors never see or step each other's market. Tabs: the market (key numbers, volume, arrears),
risk and reserve (the reserve and its coverage, the loss waterfall), cash (the runway and the
plan's minimum cash), the platforms, runs. A frame is a week: the charts of a day each would be
drawn faster than they can be read.
"""

from __future__ import annotations

import os

import solara

from sim.dashboard import charts
from sim.dashboard.model import DashboardMarket
from sim.dashboard.panel import Controls, Inputs

SCENARIO = os.environ.get("P2PSIM_DASHBOARD_SCENARIO", "scenarios/baseline.toml")
DAYS_PER_FRAME = 7
TABS = {  # tab: the views on it
    "Market": [charts.key_numbers_view, charts.volume_chart, charts.arrears_chart],
    "Risk & reserve": [charts.key_numbers_view, charts.reserve_chart, charts.loss_waterfall,
                       charts.arrears_chart],
    "Cash & runway": [charts.cash_chart, charts.key_numbers_view],
    "Platforms": [charts.platforms_view],
    "Runs": [charts.runs_chart],
}
PINNABLE = {charts.volume_chart, charts.arrears_chart, charts.reserve_chart, charts.cash_chart,
            charts.loss_waterfall}


@solara.component
def Page():
    """One visitor's dashboard."""
    first = solara.use_memo(lambda: DashboardMarket(SCENARIO), [])
    market = solara.use_reactive(first)
    values = solara.use_reactive(dict(first.inputs))
    specs = solara.use_reactive(first.specs)
    frame = solara.use_reactive(0)
    pinned = solara.use_reactive(None)
    tab = solara.use_reactive(0)

    def rebuild():
        market.value = DashboardMarket(SCENARIO, **values.value)
        frame.value += 1

    def choose_platform(index: int):
        chosen = DashboardMarket.specs_for(SCENARIO, index)
        specs.value = chosen
        values.value = {name: spec["value"] for name, spec in chosen.items()}

    solara.Title(f"p2psim dashboard: {first.config.run.name}")
    with solara.AppBar():
        solara.AppBarTitle(f"p2psim dashboard: {first.config.run.name}")
    with solara.Sidebar():
        with solara.Card("Run"):
            Controls(market, frame, pinned, rebuild, DAYS_PER_FRAME)
        with solara.Card("Inputs (applied at Reset)"):
            Inputs(specs.value, values, market.value.inputs, choose_platform)
    Views(market.value, frame.value, pinned.value, tab)


@solara.component
def Views(market: DashboardMarket, frame: int, pinned, tab: solara.Reactive):
    """The tabs; only the open one is drawn (``frame`` changes after each frame)."""
    with solara.lab.Tabs(value=tab.value, on_value=tab.set):
        for index, (name, views) in enumerate(TABS.items()):
            with solara.lab.Tab(name):
                if index == tab.value:
                    with solara.ColumnsResponsive(12, large=6):
                        for view in views:
                            solara.Card(children=[view(market, pinned) if view in PINNABLE
                                                  else view(market)])
