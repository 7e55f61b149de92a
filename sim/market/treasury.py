"""The month's money (资金): investors' deposits and withdrawals, and the platforms' costs.

The investors decide how much (:class:`~sim.agents.investors.InvestorPopulation`); the treasury moves
it through their cash on each platform and books it.
"""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD
from sim.market.accounts import AccountKind, Bookkeeper, Memo

CASH = AccountKind.PLATFORM_CASH


class Treasury:
    """Money in and out of the market on the first day of a month.

    Parameters
    ----------
    bookkeeper : Bookkeeper
        Posts the money.
    investors : InvestorPopulation
        Whose cash it moves.
    """

    def __init__(self, bookkeeper: Bookkeeper, investors) -> None:
        self.bookkeeper = bookkeeper
        self.investors = investors

    def deposit(self, amount_fen: np.ndarray) -> None:
        """Investors pay ``amount_fen`` (per investor, by platform) into their platform cash."""
        self.investors.cash_fen += amount_fen
        self.bookkeeper.move_each(WORLD, AccountKind.INVESTOR_CASH, amount_fen.sum(axis=0),
                                  Memo.DEPOSIT)

    def withdraw(self, platform, withdrawals_fen: np.ndarray) -> int:
        """Investors take ``withdrawals_fen`` (by investor) out of ``platform`` (提现).

        Less its withdrawal fee; their cash was already reduced. Returns the fee it kept (fen).
        """
        amount = int(withdrawals_fen.sum())
        fee = int(np.floor(withdrawals_fen * platform.config.withdrawal_fee).sum())
        self.bookkeeper.move(platform, AccountKind.INVESTOR_CASH, WORLD, amount - fee,
                             Memo.WITHDRAWAL)
        self.bookkeeper.move(platform, AccountKind.INVESTOR_CASH, CASH, fee, Memo.WITHDRAWAL_FEE)
        return fee

    def pay_costs(self, platform) -> None:
        """Operating costs, collection costs of loans in arrears, and the insurance premium.

        What the platform's cash cannot pay is kept as ``unpaid_costs_fen``.
        """
        state, books = platform.state, self.bookkeeper
        costs = [(Memo.OPERATING_COST, platform.operating_cost_monthly_fen),
                 (Memo.COLLECTION_COST,
                  platform.collection_cost_per_case_fen * state.loans_in_arrears)]
        for memo, cost in costs:
            paid = min(books.balance(platform, CASH), cost)
            platform.unpaid_costs_fen += cost - paid
            books.move(platform, CASH, WORLD, paid, memo)
        premium = int(platform.guarantee.premium_fen(state))
        if premium:
            paid = min(books.balance(platform, CASH), premium)
            books.move(platform, CASH, WORLD, paid, Memo.INSURANCE_PREMIUM)
            platform.guarantee.record_premium(paid, premium)
