"""Servicing (还款): the loans due today pay, prepay, miss an instalment or cure their arrears.

Each payment is split among the loan's note holders (and its holder: a guarantee that paid out, or
a fund pool) to the fen by :func:`sim.kernels.service_due_loans`; the day's totals are booked here.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.book import MAX_DUE_MONTHS
from sim.kernels import POOLED_INVESTORS, POOLED_RESERVE, by_holder
from sim.kernels import ServiceTotals as S
from sim.ledger import WORLD, AccountKind, Memo
from sim.randomness import keyed_uniforms

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
        uniforms = self._uniforms(day, starts, ends, n_rows)
        totals = np.zeros((market.ledger.platforms, S.N), dtype=np.int64)
        new_arrears = np.empty(n_rows, dtype=np.int64)
        threads = market.threads if n_rows >= PARALLEL_MIN_ROWS else 1
        n_new = kernels.service_due_loans(
            day, starts, ends, months, uniforms, book.loan_columns(), book.note_columns(),
            market.investors.accounts(), tables.servicing_terms(day), totals, new_arrears,
            arrears.by_first_miss(), threads)
        if n_new:
            arrears.record_missed(day, new_arrears[:n_new].copy())
        self._book(totals)

    def _uniforms(self, day: int, starts: np.ndarray, ends: np.ndarray, n_rows: int) -> np.ndarray:
        """One uniform per due loan, in order of the due ranges.

        The servicing stream's for the detailed platforms' loans; for the pooled platforms' a draw
        keyed by the loan (its platform, day of origination and principal: what its own keyed
        draws made it, whatever else was lent) and today (:mod:`sim.randomness`), so that what
        happens on one platform moves no draw of another's.
        """
        industry = self.market.industry
        if industry is None:
            return self.rng.random(n_rows)
        lengths = ends - starts
        rows = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) \
            + np.arange(n_rows)
        loans = self.market.book.loans
        pooled = industry.pooled[loans.platform[rows]]
        uniforms = np.empty(n_rows)
        uniforms[~pooled] = self.rng.random(int((~pooled).sum()))
        mine = rows[pooled]
        uniforms[pooled] = keyed_uniforms(industry.keys["servicing"], industry.number[loans.platform[mine]],
                                          loans.orig_day[mine] + 10**6, loans.principal_fen[mine],
                                          day)
        return uniforms

    def _book(self, totals: np.ndarray) -> None:
        """Book the day's totals, principal and interest on every platform at once.

        Then each detailed platform's held parts and fees (its protection layers take their
        shares), then the pooled platforms' reserves' parts (loans they bought) and their fees
        (:mod:`sim.industry.part` shares the interest among their investors).
        """
        market, books, ledger = self.market, self.market.bookkeeper, self.market.ledger
        if market.industry is not None:
            pooled_payments(totals, market.risk_tables)
        held_p, held_i = by_holder(totals, S.HELD_PRINCIPAL), by_holder(totals, S.HELD_INTEREST)
        interest_net = totals[:, S.INTEREST] - totals[:, S.FEE] - held_i.sum(axis=1)
        ledger.post(CLAIMS, CASH, totals[:, S.PRINCIPAL] - held_p.sum(axis=1),
                    Memo.REPAYMENT_PRINCIPAL)
        ledger.post(WORLD, CASH, interest_net, Memo.REPAYMENT_INTEREST)
        for platform in market.platforms:
            p = platform.index
            for holder in np.flatnonzero(held_p[p] | held_i[p]):
                account = platform.holder_account(holder)
                books.move(platform, platform.held_account(holder), account, held_p[p, holder],
                           Memo.HELD_REPAYMENT_PRINCIPAL)
                books.move(platform, WORLD, account, held_i[p, holder], Memo.HELD_REPAYMENT_INTEREST)
            books.fee(platform, int(totals[p, S.FEE]), Memo.MANAGEMENT_FEE)
            books.fee(platform, int(totals[p, S.SERVICE_FEE]), Memo.SERVICE_FEE)
            market.totals["investor_income_fen"] += int(interest_net[p])
            platform.investor_income_fen += int(interest_net[p])
        if market.industry is not None:
            pooled = market.industry.pooled
            principal = np.where(pooled, held_p[:, POOLED_RESERVE], 0)  # loans its reserve bought
            interest = np.where(pooled, held_i[:, POOLED_RESERVE], 0)
            ledger.post(AccountKind.HELD_CLAIMS, AccountKind.RESERVE_FUND, principal,
                        Memo.HELD_REPAYMENT_PRINCIPAL)
            ledger.post(WORLD, AccountKind.RESERVE_FUND, interest, Memo.HELD_REPAYMENT_INTEREST)
            fee = np.where(pooled, totals[:, S.FEE], 0)
            ledger.post(WORLD, AccountKind.PLATFORM_CASH, fee, Memo.MANAGEMENT_FEE)
            market.industry.fees_to_reserve(fee)
            market.industry.serviced(interest_net)
        summed = totals[: len(market.platforms)].sum(axis=0)  # the detailed platforms' day
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


def pooled_payments(totals: np.ndarray, tables) -> None:
    """A pooled platform's loans have no notes: what the kernel gave their holder is its investors'.

    The servicing kernel splits a payment over a loan's notes and gives what is left to the loan's
    holder; a pooled platform's loan has no notes, so all of it came back as held. What its
    investors held (``POOLED_INVESTORS``) becomes their principal and interest here, with the
    platform's management fee on the interest (rounded per platform and day), as its investors own
    the loans pro rata; a loan its reserve bought stays the reserve's (no fee). Kept out of the
    kernel's loop, which then does the same work for every loan.
    """
    pooled, theirs = tables.pooled, 2 * POOLED_INVESTORS
    interest = totals[pooled, S.HELD_INTEREST + theirs]
    totals[pooled, S.FEE] = np.floor(interest * tables.management_fee[pooled] + 0.5).astype(np.int64)
    totals[pooled, S.HELD_PRINCIPAL + theirs] = 0
    totals[pooled, S.HELD_INTEREST + theirs] = 0
