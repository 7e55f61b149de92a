"""The company behind a platform: its costs, taxes and capital, and its financial statements.

:mod:`~sim.company.costs` pays the month's company costs and raises capital on its dates;
:mod:`~sim.company.statements` reads the income statement, cash-flow statement and balance sheet
of every platform and month from the ledger's journal (docs/business-plan.md);
:mod:`~sim.company.record` keeps what they need that the ledger does not hold.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.company.record import CompanyRecord
    from sim.company.statements import StatementError, check_identities

__all__ = ["CompanyRecord", "StatementError", "check_identities"]

_LAZY = {"CompanyRecord": "sim.company.record", "StatementError": "sim.company.statements",
         "check_identities": "sim.company.statements"}
# the function that reads the statements is sim.company.statements.statements: the package's
# ``statements`` is its module, one meaning per name


def __getattr__(name: str):
    """The package's names, imported when first asked for.

    Entering the package to import one of its modules (``sim.company.targets``) imports nothing
    else, so no import circle runs through it (tests/test_style.py).
    """
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim.company' has no attribute {name!r}")
