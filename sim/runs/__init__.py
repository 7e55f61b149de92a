"""Runs on a platform (挤兑): trust, decisions, withdrawal queues, 债权转让, states and failure.

The part :class:`~sim.runs.part.Runs` runs each day after the arrears and before the marketplace.
Its pieces: :mod:`~sim.runs.trust` (trust per investor and platform), :mod:`~sim.runs.network`
(the investors' social network), :mod:`~sim.runs.rules` (decision rules, pluggable),
:mod:`~sim.runs.queue` (withdrawal queues), :mod:`~sim.runs.secondary` (the secondary market),
:mod:`~sim.runs.liquidity` (capital calls, fire sales), :mod:`~sim.runs.failure` (states and
failure), :mod:`~sim.runs.states` and :mod:`~sim.runs.diamond_dybvig` (the closed-form limit case).
docs/runs.md explains the mechanisms and their parameters.
"""
