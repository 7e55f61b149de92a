"""p2psim: an agent-based simulator of P2P lending markets, on Mesa.

>>> from sim import P2PMarket, schedule
>>> market = P2PMarket("scenarios/baseline.toml", rng=1)   # doctest: +SKIP
>>> market.run()                                            # doctest: +SKIP
>>> market.datacollector.get_model_vars_dataframe()         # doctest: +SKIP

The engine is imported when one of its names is first asked for, so that ``import sim`` (and the
command's start, :mod:`sim.console`) is quick and can be interrupted cleanly.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"
__all__ = ["P2PMarket", "Scenario", "ScenarioError", "load_scenario", "schedule", "__version__"]

_LAZY = {"P2PMarket": "sim.model", "Scenario": "sim.scenario", "ScenarioError": "sim.scenario",
         "load_scenario": "sim.scenario", "schedule": "sim.loans"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
