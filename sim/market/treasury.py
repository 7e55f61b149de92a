"""The month's money (资金): investors' deposits and withdrawals, and the platforms' costs.

The investors decide how much (:class:`~sim.agents.investors.InvestorPopulation`); the treasury moves
it through their cash on each platform and books it.
"""

from __future__ import annotations

import numpy as np

from sim.company.costs import company_costs
from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH
from sim.market.accounts import Bookkeeper
from sim.runs.failure import fail
from sim.runs.liquidity import pay_from_own_cash
from sim.runs.states import RunState

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

    def pay_costs(self, platform, market) -> None:
        """The month's costs: operating, collection, custody, the company's and the insurance premium.

        The company's are its staff, offices, credit data and taxes (:mod:`sim.company.costs`).
        Where the platform's cash is short, its owners put more in (capital calls, up to the
        scenario's ``capital_call_limit_cny``); what still cannot be paid is kept as
        ``unpaid_costs_fen`` and the platform fails (:func:`sim.runs.failure.fail`). A closed or
        fled platform pays nothing more.
        """
        if platform.run.state in (RunState.CLOSED, RunState.FLED):
            return
        state, books = platform.state, self.bookkeeper
        costs = [(Memo.OPERATING_COST, "", platform.operating_cost_monthly_fen),
                 (Memo.COLLECTION_COST, "",
                  platform.collection_cost_per_case_fen * state.loans_in_arrears),
                 (Memo.CUSTODY_FEE, "", self.custody_fee_fen(platform)),
                 *company_costs(market, platform, market.day // DAYS_PER_MONTH)]
        for memo, detail, cost in costs:
            paid = pay_from_own_cash(market, platform, WORLD, cost, memo, detail)
            if paid < cost:
                platform.unpaid_costs_fen += cost - paid
                fail(market, platform, market.day, "cannot pay its costs")
        for h, layer in enumerate(platform.layers):
            premium = int(layer.premium_fen(platform.layer_states[h]))
            if premium:
                paid = min(books.balance(platform, CASH), premium)
                books.move(platform, CASH, WORLD, paid, Memo.INSURANCE_PREMIUM)
                market.today.insurance_premium_fen += paid
                layer.record_premium(paid, premium)

    def custody_fee_fen(self, platform) -> int:
        """The custodian bank's month (存管费): its annual rate / 12 of investors' cash and claims."""
        rules = platform.config.liquidity
        if not rules.custody or rules.custody_cost_annual == 0:
            return 0
        held = sum(self.bookkeeper.balance(platform, kind) for kind in (
            AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_CLAIMS, AccountKind.POOL_CASH))
        return int(held * rules.custody_cost_annual / 12)
