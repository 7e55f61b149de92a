"""The company behind a platform: its costs, taxes and capital, and its financial statements.

:mod:`~sim.company.costs` pays the month's company costs and raises capital on its dates;
:mod:`~sim.company.statements` reads the income statement, cash-flow statement and balance sheet
of every platform and month from the ledger's journal (docs/business-plan.md);
:mod:`~sim.company.record` keeps what they need that the ledger does not hold.
"""

from sim.company.record import CompanyRecord
from sim.company.statements import StatementError, check_identities, statements

__all__ = ["CompanyRecord", "StatementError", "check_identities", "statements"]
