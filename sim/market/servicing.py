"""Servicing (还款): the loans due today pay, prepay, miss an instalment or cure their arrears.

Each payment is split among the loan's note holders (and its holder: a guarantee that paid out, or
a fund pool) to the fen by :func:`sim.kernels.service_due_loans`; the day's totals are booked here.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.book import MAX_DUE_MONTHS
from sim.kernels import ServiceTotals as S
from sim.kernels import by_holder
from sim.ledger import WORLD, AccountKind, Memo

PARALLEL_MIN_ROWS = 20_000  # fewer due loans than this in a day are serviced on one thread
CLAIMS, CASH = AccountKind.INVESTOR_CLAIMS, AccountKind.INVESTOR_CASH


class Servicing:
    """The day's repayments.

    Parameters
    ----------
    market : P2PMarket
        The market whose book, investors, risk tables and arrears it works on.
    """

    def __init__(self, market) -> None:
        self.market = market
        self.rng = market.rngs["servicing"]

    def service(self, day: int) -> None:
        """Service every loan due today and book what was paid."""
        market = self.market
        book, arrears, tables = market.book, market.arrears, market.risk_tables
        starts, ends, months = book.due_ranges(day, MAX_DUE_MONTHS)
        n_rows = int((ends - starts).sum())
        if n_rows == 0:
            return
        uniforms = self.rng.random(n_rows)
        totals = np.zeros((len(market.platforms), S.N), dtype=np.int64)
        new_arrears = np.empty(n_rows, dtype=np.int64)
        threads = market.threads if n_rows >= PARALLEL_MIN_ROWS else 1
        n_new = kernels.service_due_loans(
            day, starts, ends, months, uniforms, book.loan_columns(), book.note_columns(),
            market.investors.accounts(), tables.servicing_terms(day), totals, new_arrears,
            arrears.by_first_miss(), threads)
        if n_new:
            arrears.record_missed(day, new_arrears[:n_new].copy())
        self._book(totals)

    def _book(self, totals: np.ndarray) -> None:
        market, books = self.market, self.market.bookkeeper
        held_p, held_i = by_holder(totals, S.HELD_PRINCIPAL), by_holder(totals, S.HELD_INTEREST)
        interest_net = totals[:, S.INTEREST] - totals[:, S.FEE] - held_i.sum(axis=1)
        for platform in market.platforms:
            p = platform.index
            books.move(platform, CLAIMS, CASH, totals[p, S.PRINCIPAL] - held_p[p].sum(),
                       Memo.REPAYMENT_PRINCIPAL)
            books.move(platform, WORLD, CASH, interest_net[p], Memo.REPAYMENT_INTEREST)
            for holder in np.flatnonzero(held_p[p] | held_i[p]):
                account = platform.holder_account(holder)
                books.move(platform, platform.held_account(holder), account, held_p[p, holder],
                           Memo.HELD_REPAYMENT_PRINCIPAL)
                books.move(platform, WORLD, account, held_i[p, holder], Memo.HELD_REPAYMENT_INTEREST)
            books.fee(platform, int(totals[p, S.FEE]), Memo.MANAGEMENT_FEE)
            books.fee(platform, int(totals[p, S.SERVICE_FEE]), Memo.SERVICE_FEE)
            market.totals["investor_income_fen"] += int(interest_net[p])
            platform.investor_income_fen += int(interest_net[p])
        summed = totals.sum(axis=0)
        today = market.today
        today.service_fee_fen += int(summed[S.SERVICE_FEE])
        today.principal_repaid_fen += int(summed[S.PRINCIPAL])
        today.interest_fen += int(summed[S.INTEREST])
        today.penalty_fen += int(summed[S.PENALTY])
        today.management_fee_fen += int(summed[S.FEE])
        today.prepayments += int(summed[S.N_PREPAID])
        today.missed += int(summed[S.N_MISSED])
        today.cured += int(summed[S.N_CURED])
        today.loan_months += int(summed[S.N_DUE])
        market.totals["loans_outstanding"] -= int(summed[S.N_PREPAID] + summed[S.N_MATURED])
        market.totals["loan_months"] += int(summed[S.N_DUE])
