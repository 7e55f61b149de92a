"""The market's actors.

Borrowers and investors are many and alike, so each is a *population*: one numpy column per
attribute, one row per agent, decision rules that act on all rows at once, and ``population[i]``
for a readable view of one agent. Platforms are few and rich, so each is an ordinary ``mesa.Agent``.
"""

from sim.agents.borrowers import BorrowerPopulation, BorrowerView
from sim.agents.investors import InvestorPopulation, InvestorView
from sim.agents.platform import Platform

__all__ = ["BorrowerPopulation", "BorrowerView", "InvestorPopulation", "InvestorView", "Platform"]
