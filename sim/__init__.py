"""p2psim: an agent-based simulator of P2P lending markets, on Mesa.

>>> from sim import P2PMarket, schedule
>>> market = P2PMarket("scenarios/baseline.toml", rng=1)   # doctest: +SKIP
>>> market.run()                                            # doctest: +SKIP
>>> market.datacollector.get_model_vars_dataframe()         # doctest: +SKIP
"""

from sim.loans import schedule
from sim.model import P2PMarket
from sim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"
__all__ = ["P2PMarket", "Scenario", "ScenarioError", "load_scenario", "schedule", "__version__"]
