"""Scenario files (TOML): the schema, its validation, and errors that name the file, key and line.

A scenario describes one market: the run (horizon, seed), the macro factor, the borrower grades and
populations, the investors, one or more platforms and an optional book of loans already outstanding;
with an ``[industry]``, the platforms drawn from the WDZJ data around its own (docs/industry.md).
Every key has a default, so ``P2PMarket()`` builds a market without a file; a file only needs the keys
it changes. Units are in the key names (``_cny``, ``_days``, ``_monthly``) or in the field docs.

Validation happens before anything runs: an unknown key, a wrong type, a negative amount, a
probability outside [0, 1], a term of 0 or an unknown repayment method raises :class:`ScenarioError`,
whose message names the file, the key (``platforms[0].service_fee``), its line where it can be found,
and what is allowed.

The package: :mod:`~sim.scenario.schema` (the tables and their keys; the runs, company, plan,
credit, stress and industry tables each in a module of their own), :mod:`~sim.scenario.loading`
(file, overrides, policies) and :mod:`~sim.scenario.messages` (the error's words).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.files import read_text_file
    from sim.scenario.loading import load_scenario, policy_context
    from sim.scenario.schema import (
        BorrowersConfig,
        FundPoolConfig,
        GradesConfig,
        InitialBookConfig,
        InvestorsConfig,
        LoansConfig,
        MacroConfig,
        PlatformConfig,
        RunConfig,
        Scenario,
        ScenarioError,
    )
    from sim.scenario.stress import RecessionWindow, StressConfig

__all__ = ["BorrowersConfig", "FundPoolConfig", "GradesConfig", "InitialBookConfig", "InvestorsConfig",
           "LoansConfig", "MacroConfig", "PlatformConfig", "RecessionWindow", "RunConfig", "Scenario",
           "ScenarioError", "StressConfig", "load_scenario", "policy_context", "read_text_file"]

_LAZY = {**dict.fromkeys(("load_scenario", "policy_context"), "sim.scenario.loading"),
         "read_text_file": "sim.scenario.files",
         **dict.fromkeys(("RecessionWindow", "StressConfig"), "sim.scenario.stress")}


def __getattr__(name: str):
    """The package's names, imported when first asked for (the tables from ``schema``).

    Entering the package to import one of its modules (``sim.scenario.company``) imports nothing
    else, so no import circle runs through it (tests/test_style.py).
    """
    if name in __all__:
        return getattr(importlib.import_module(_LAZY.get(name, "sim.scenario.schema")), name)
    raise AttributeError(f"module 'sim.scenario' has no attribute {name!r}")
