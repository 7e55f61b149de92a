"""``p2psim dashboard``: Mesa's SolaraViz on the market, served on localhost (docs/dashboard.md).

:mod:`~sim.dashboard.inputs` turns sliders into scenario overrides, :mod:`~sim.dashboard.model`
builds the market from them, :mod:`~sim.dashboard.charts` draws it, :mod:`~sim.dashboard.app` is
the Solara page and :mod:`~sim.dashboard.server` checks the port and starts Solara's server.
"""
