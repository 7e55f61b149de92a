"""An industry of many platforms (网贷行业), drawn from the WDZJ data, and its run (docs/industry.md).

``hazard``: the calibrated monthly hazard of a platform failing and the type of failure.
``population``: an industry of platforms drawn from the reporting platforms of 2017.
``positions``: investors' positions across platforms, sparse (investor, platform) pairs.
``config``, ``scenario``: the industry scenario's tables and how a file is read and checked.
``loanbook``, ``ledger``, ``kernels``: the industry's loans, its vector ledger, compiled loops.
``market``: the daily run (a Mesa model); ``failures``, ``channels``, ``events``: how platforms fail,
how a failure travels, the dated events. ``tracker``, ``results``: the monthly table and the folder.
``experiment``, ``command``: variants of a scenario, and ``p2psim industry``.
"""

from sim.industry.hazard import BackgroundHazard, load_hazard
from sim.industry.population import Industry, draw_industry
from sim.industry.positions import Positions, draw_positions

__all__ = ["BackgroundHazard", "Industry", "Positions", "draw_industry", "draw_positions",
           "load_hazard"]
