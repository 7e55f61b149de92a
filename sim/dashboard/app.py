"""The Solara app that ``p2psim dashboard`` serves: Mesa's SolaraViz on a :class:`DashboardMarket`.

The scenario comes from ``P2PSIM_DASHBOARD_SCENARIO`` (the command sets it). Page 0 shows the
market, page 1 its platforms, page 2 runs; a frame is ``render_interval`` days (a week by default:
the charts of a day each would be drawn faster than they can be read).
"""

from __future__ import annotations

import os

from mesa.visualization import SolaraViz

from sim.dashboard import charts
from sim.dashboard.inputs import model_params
from sim.dashboard.model import DashboardMarket

SCENARIO = os.environ.get("P2PSIM_DASHBOARD_SCENARIO", "scenarios/baseline.toml")
DAYS_PER_FRAME = 7

model = DashboardMarket(SCENARIO)
page = SolaraViz(
    model,
    components=[(charts.key_numbers, 0), (charts.volume_chart, 0), (charts.arrears_chart, 0),
                (charts.protection_chart, 0), (charts.platforms_view, 1), (charts.runs_chart, 2)],
    model_params=model_params(SCENARIO, model.config),
    render_interval=DAYS_PER_FRAME,
    play_interval=50,
    name=f"p2psim dashboard: {model.config.run.name}",
)
