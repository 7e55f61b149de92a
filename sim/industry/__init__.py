"""An industry of many platforms (网贷行业) around the market, drawn from the WDZJ data (docs/industry.md).

``hazard``: the calibrated monthly hazard of a platform failing and the type of failure.
``population``: the industry's platforms, drawn from the reporting platforms of 2017, and the
scenario's own among them. ``part``: the industry as a part of the one market (pooled platforms,
their investors' positions, the day's hooks); ``lending``: the pooled platforms' new loans;
``failures``: how platforms fail; ``events``: the dated events on the market's calendar;
``tracker``, ``results``: the trackers' monthly table and the results folder; ``command``:
``p2psim industry``, a front end of the one engine. The contagion channels are
:mod:`sim.runs.contagion`; investors' positions :mod:`sim.agents.positions`; the tables of the
scenario :mod:`sim.scenario.industry`.
"""

from sim.industry.hazard import BackgroundHazard, load_hazard
from sim.industry.population import IndustryPlatforms, draw_industry

__all__ = ["BackgroundHazard", "IndustryPlatforms", "draw_industry", "load_hazard"]
