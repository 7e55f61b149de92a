"""What a platform's company books need that the ledger does not hold.

The ledger holds money; a fund pool's promise to its investors (their products, 理财产品) is not
money until it is paid, so the pool's liability and the interest it promises are recorded here, by
month. So are the applications reviewed this month (they drive the credit-data cost).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CompanyRecord:
    """Per platform: month-end figures outside the ledger (amounts in fen).

    Attributes
    ----------
    applications_month : int
        Applications the platform reviewed since the month opened.
    applications_last_month : int
        The same, for the month before (what this month's credit-data cost pays for).
    interest_accrued_fen : dict
        Fund pool: by month, the interest promised to products (it raises what the pool owes).
    products_owed_fen : dict
        Fund pool: by month, what it owes its investors at the month's end (products and
        redemptions waiting in the queue).
    tax_losses : list
        ``[year, loss_fen]`` not yet set against profit (亏损结转, :mod:`sim.company.costs`).
    guaranteed_fen : dict
        The company's own guarantor: by month, the principal it guarantees at the month's end
        (:mod:`sim.company.guarantee_arm`).
    vat_credit_fen : int
        Input VAT not yet set against output VAT (留抵税额, :func:`sim.company.costs.vat_fen`).
    """

    applications_month: int = 0
    applications_last_month: int = 0
    interest_accrued_fen: dict[int, int] = field(default_factory=dict)
    products_owed_fen: dict[int, int] = field(default_factory=dict)
    tax_losses: list[list[int]] = field(default_factory=list)
    guaranteed_fen: dict[int, int] = field(default_factory=dict)
    vat_credit_fen: int = 0

    def accrue(self, month: int, amount_fen: int) -> None:
        """The pool promised ``amount_fen`` more interest in ``month``."""
        self.interest_accrued_fen[month] = self.interest_accrued_fen.get(month, 0) + int(amount_fen)

    def new_month(self) -> None:
        """A month opens: this month's applications become last month's."""
        self.applications_last_month, self.applications_month = self.applications_month, 0
