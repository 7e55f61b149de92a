"""Reserve-fund sizing (风险准备金测算): how large a reserve must be, with error bars, in minutes.

``p2psim reserve SCENARIO`` runs the scenario's market many times (:mod:`sim.reserve.paths`: each
path with a reserve that cannot run dry, so that one path answers for every initial reserve and
contribution rate), samples the macro factor's tail with importance sampling and strata
(:mod:`sim.reserve.sampling`), and estimates, with bootstrap errors (:mod:`sim.reserve.analysis`):
the distributions of credit losses and reserve payouts, the probability that the reserve runs dry by
each month, and the initial reserve and contribution rate each confidence level needs
(:mod:`sim.reserve.study`, figures in :mod:`sim.reserve.figures`). See docs/reserve.md.
"""

from sim.reserve.study import ReserveError, ReserveRequest, run_reserve_study
from sim.reserve.text import format_results

__all__ = ["ReserveError", "ReserveRequest", "format_results", "run_reserve_study"]
