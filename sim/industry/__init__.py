"""An industry of many platforms (网贷行业), drawn from the WDZJ data.

A background failure hazard calibrated on it, and investors who hold positions on several
platforms (docs/industry.md).

``hazard``: the calibrated monthly hazard of a platform failing and the type of failure.
``population``: an industry of platforms drawn from the reporting platforms of 2017.
``positions``: investors' positions across platforms, sparse (investor, platform) pairs, and the
shared-investor channel of contagion read from them.
"""

from sim.industry.hazard import BackgroundHazard, load_hazard
from sim.industry.population import Industry, draw_industry
from sim.industry.positions import Positions, draw_positions

__all__ = ["BackgroundHazard", "Industry", "Positions", "draw_industry", "draw_positions",
           "load_hazard"]
