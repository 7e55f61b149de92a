"""Estimating the industry's behavioural parameters from the WDZJ data (docs/industry.md).

``spec``: the estimation file and its checks; ``moments``: the registry of moments, the data's
values and a run's; ``fit``: the emulator, the search and the uncertainty (simulated method of
moments); ``study``: the runs on the one experiment runner and the results folder; ``summary``:
what is printed;
``command``: ``p2psim estimate``.
"""

from sim.estimation.spec import EstimationError, load_estimation
from sim.estimation.study import run_estimation
from sim.estimation.summary import format_result

__all__ = ["EstimationError", "format_result", "load_estimation", "run_estimation"]
