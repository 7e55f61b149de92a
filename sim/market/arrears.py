"""Arrears (逾期), write-offs (坏账核销) and the guarantees' payouts (代偿).

Loans in arrears are counted by the day of their first missed payment (kept up to date by the
kernels), so the buckets M1 (1-30 days past due), M2, M3 and M3+ are sums over 30-day windows of
that count; the loans due for write-off today are those that first missed exactly
``default_after_days + 1`` days ago, and those a guarantee pays for today first missed exactly its
``trigger_days`` ago.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.book import renumbered
from sim.kernels import ACTIVE, POOLED_RESERVE, ArrearsByDay, by_holder
from sim.kernels import BuyOutTotals as B
from sim.kernels import WriteOffTotals as W
from sim.ledger import WORLD, AccountKind, Memo
from sim.market.recoveries import PendingRecoveries, book_recovery

BUCKETS = (("m1", 1, 30), ("m2", 31, 60), ("m3", 61, 90))  # name, days past due from .. to
CLAIMS, CASH = AccountKind.INVESTOR_CLAIMS, AccountKind.INVESTOR_CASH


class Arrears:
    """Loans in arrears by day of first miss; the day's write-offs and guarantee payouts.

    Parameters
    ----------
    market : P2PMarket
        The market (its book, investors, platforms, risk tables and bookkeeper).
    """

    def __init__(self, market) -> None:
        self.market = market
        n_days = len(market.book.block_start)
        self.count = np.zeros(n_days, dtype=np.int64)    # loans, by day of first missed payment
        self.balance_fen = np.zeros(n_days, dtype=np.int64)  # their balance, same index
        self.missed_on: dict[int, np.ndarray] = {}       # rows that first missed on a day
        self.threshold_days = market.config.loans.default_after_days
        self.recoveries = PendingRecoveries(market)  # recoveries that come later (if a lag)
        market.book.renumbering.append(self._renumber)

    def _renumber(self, new_row: np.ndarray, kept: np.ndarray) -> None:
        """Finished loans left the book (:meth:`LoanBook.drop`): the rows kept here, renumbered."""
        self.missed_on = {day: renumbered(rows, new_row, kept)
                          for day, rows in self.missed_on.items()}

    def by_first_miss(self) -> ArrearsByDay:
        """The counts as the kernels take them."""
        return ArrearsByDay(self.count, self.balance_fen, -self.market.book.first_day)

    def record_missed(self, day: int, rows: np.ndarray) -> None:
        """The rows that missed a payment for the first time on ``day``.

        The positions on pooled platforms hear of them as a detailed investor of their notes.
        """
        self.missed_on[day] = rows
        pooled = self.market.runs.pooled if self.market.runs is not None else None
        if pooled is not None and len(rows):
            loans = self.market.book.loans
            pooled.missed(loans.platform[rows], loans.balance_fen[rows].astype(np.int64))

    def close_day(self, day: int) -> None:
        """Pay recoveries due, write off loans past the threshold, pay guarantees, count arrears."""
        self.recoveries.pay_due(day)
        loans = self.market.book.loans
        first_missed = day - self.threshold_days - 1
        missed = self.missed_on.pop(first_missed, None)
        if missed is not None:
            still = missed[(loans.status[missed] == ACTIVE)
                           & (loans.first_missed_day[missed] == first_missed)]
            if len(still):
                self.write_off(day, still)
        for platform in self.market.platforms:  # after the write-offs: today's recoveries can pay too
            self.guarantee_payouts(day, platform)
        if self.market.industry is not None:
            self.pooled_payouts(day)
        self._count_buckets(day)

    def _count_buckets(self, day: int) -> None:
        today, offset = self.market.today, -self.market.book.first_day
        for name, newest, oldest in (*BUCKETS, ("m3_plus", 91, self.threshold_days)):
            lo, hi = max(day - oldest + offset, 0), max(day - newest + offset + 1, 0)
            setattr(today, f"arrears_{name}", int(self.count[lo:hi].sum()))
            setattr(today, f"arrears_{name}_fen", int(self.balance_fen[lo:hi].sum()))

    def _only(self, platform) -> np.ndarray:
        """Bool per platform: ``platform`` alone."""
        one = np.zeros(self.market.ledger.platforms, dtype=bool)
        one[platform.index] = True
        return one

    def guarantee_payouts(self, day: int, platform) -> None:
        """代偿: the platform's protection layers pay, in order, for covered loans at their trigger.

        Each layer is asked, for the loans it covers that reach its trigger today, what the layers
        before it have not paid (:func:`sim.kernels.buy_out`); what a layer leaves unpaid on a loan
        no later layer covers is borne by the investors (``guarantee_unpaid``).
        """
        paid = unpaid = count = 0
        asked = False
        for h, layer in enumerate(platform.layers):
            rows = self._reaching_trigger(day, self._only(platform), h, layer.trigger_days)
            if len(rows) == 0:
                continue
            totals = self._pay_layer(day, platform, h, layer, rows)
            asked = True
            paid += int(totals[B.PRINCIPAL] + totals[B.INTEREST])
            unpaid += int(totals[B.LEFT])
            count += int(totals[B.COUNT])
        if asked and platform.guarantee not in platform.layers:
            platform.guarantee.record_payout(paid, paid + unpaid, day)
        today = self.market.today
        today.guarantee_payouts += count
        today.guarantee_payout_fen += paid
        today.guarantee_unpaid_fen += unpaid

    def _reaching_trigger(self, day: int, platforms: np.ndarray, h: int,
                          trigger_days: int) -> np.ndarray:
        """Active loans of ``platforms`` (bool each) covered by layer ``h``, ``trigger_days`` late.

        Those that first missed a payment exactly ``trigger_days`` ago.
        """
        first_missed = day - trigger_days
        candidates = self.missed_on.get(first_missed)
        if candidates is None:
            return np.empty(0, dtype=np.int64)
        loans = self.market.book.loans
        return candidates[platforms[loans.platform[candidates]]
                          & ((loans.covered[candidates] >> h) & 1 == 1)
                          & (loans.status[candidates] == ACTIVE)
                          & (loans.first_missed_day[candidates] == first_missed)]

    def pooled_payouts(self, day: int) -> None:
        """代偿 on the pooled platforms: a reserve-fund platform's reserve buys its loans at the trigger.

        The detailed layer's rule (:func:`sim.kernels.buy_out`) with the industry's
        ``[industry.reserve_fund]`` trigger and cover: the reserve pays the loan's investors while
        it has money and the platform operates, and takes the loan over (its later payments and
        its recovery are the reserve's); a loan has one holder, so the reserve buys whole loans
        (:meth:`sim.industry.part.Industry.bought_out` books it and shares it).
        """
        industry = self.market.industry
        rows = self._reaching_trigger(day, industry.has_reserve, POOLED_RESERVE,
                                      industry.config.reserve_fund.trigger_days)
        if len(rows) == 0:
            return
        ledger, market = self.market.ledger, self.market
        capacity = np.where(industry.has_reserve & industry.operating,
                            np.maximum(ledger.accounts[AccountKind.RESERVE_FUND], 0), 0)
        totals = np.zeros((ledger.platforms, B.N), dtype=np.int64)
        kernels.buy_out(rows, day, capacity.astype(np.int64),
                        industry.config.reserve_fund.covers_interest, POOLED_RESERVE,
                        market.risk_tables.pooled, market.book.loan_columns(),
                        market.book.note_columns(), market.investors.accounts(), totals)
        industry.bought_out(totals)

    def _pay_layer(self, day: int, platform, h: int, layer, rows: np.ndarray) -> np.ndarray:
        """One layer pays what it can for ``rows``; booked from its fund. Returns its totals."""
        market, books = self.market, self.market.bookkeeper
        source = layer.account or WORLD
        balance = books.balance(platform, source) if source != WORLD else 0
        capacity = np.zeros(market.ledger.platforms, dtype=np.int64)
        capacity[platform.index] = int(layer.capacity_fen(balance))
        everyone = np.zeros((market.ledger.platforms, B.N), dtype=np.int64)
        kernels.buy_out(rows, day, capacity, layer.covers_interest, h, market.risk_tables.pooled,
                        market.book.loan_columns(), market.book.note_columns(),
                        market.investors.accounts(), everyone)
        totals = everyone[platform.index]
        principal, interest = int(totals[B.PRINCIPAL]), int(totals[B.INTEREST])
        books.move(platform, source, CASH, principal + interest, Memo.GUARANTEE_PAYOUT)
        books.move(platform, CLAIMS, platform.held_account(h), principal, Memo.CLAIM_TO_GUARANTEE)
        layer.record_payout(principal + interest, int(totals[B.ASKED]), day)
        by_kind = {AccountKind.RESERVE_FUND: "reserve_payout_fen",
                   AccountKind.GUARANTOR_CAPITAL: "guarantor_payout_fen"}.get(source,
                                                                               "insurer_payout_fen")
        setattr(market.today, by_kind, getattr(market.today, by_kind) + principal + interest)
        market.totals["investor_income_fen"] += interest
        platform.investor_income_fen += interest
        return totals

    def write_off(self, day: int, rows: np.ndarray) -> None:
        """Write off ``rows`` (坏账核销): recoveries to note holders, the rest is their loss."""
        market, tables = self.market, self.market.risk_tables
        market.hooks.writing_off(rows)
        totals = np.zeros((market.ledger.platforms, W.N), dtype=np.int64)
        loans = market.book.loans
        co_debt = (market.industry.co_debt.stopped_balance(rows) if market.industry is not None
                   else None)
        parts = self.recoveries.buffers(int((loans.note_end[rows] - loans.note_start[rows]).sum()))
        n_later = kernels.write_off(rows, day, market.book.loan_columns(),
                                    market.book.note_columns(), market.investors.accounts(),
                                    tables.recovery_rate, tables.collection_fee, tables.pooled, totals,
                                    self.by_first_miss(), *parts)
        paid_now = not self.recoveries.lag_days
        for platform in market.platforms:
            self._book_write_offs(platform, totals[platform.index], paid_now)
        if not paid_now:  # a pooled platform's recovery is paid at once (below)
            self.recoveries.keep(day, parts, n_later, totals * ~tables.pooled[:, None])
        if market.industry is not None:
            self._book_pooled_write_offs(totals, co_debt)
        summed = totals[: len(market.platforms)].sum(axis=0)  # the detailed platforms' day
        today = market.today
        today.defaults += int(summed[W.COUNT])
        today.default_principal_fen += int(summed[W.PRINCIPAL]
                                           + by_holder(summed, W.HELD_PRINCIPAL).sum())
        today.investor_loss_fen += int(summed[W.PRINCIPAL] - summed[W.RECOVERED])
        market.totals["loans_outstanding"] -= int(summed[W.COUNT])

    def _book_pooled_write_offs(self, totals: np.ndarray, co_debt_fen: np.ndarray) -> None:
        """The pooled platforms' write-offs and recoveries (paid at once), every platform at once.

        Their loans have no notes: the kernel's held columns are the holder's, the investors
        (``POOLED_INVESTORS``) or the reserve that bought the loan (``POOLED_RESERVE``).
        """
        industry, ledger = self.market.industry, self.market.ledger
        principal = np.where(industry.pooled, totals[:, W.HELD_PRINCIPAL], 0)
        recovered = np.where(industry.pooled, totals[:, W.HELD_RECOVERED], 0)
        ledger.post(CLAIMS, WORLD, principal, Memo.DEFAULT_WRITE_OFF)
        ledger.post(WORLD, CASH, recovered, Memo.RECOVERY)  # the day's record: detailed only
        reserve = 2 * POOLED_RESERVE
        held = np.where(industry.pooled, totals[:, W.HELD_PRINCIPAL + reserve], 0)
        ledger.post(AccountKind.HELD_CLAIMS, WORLD, held, Memo.HELD_WRITE_OFF)
        ledger.post(WORLD, AccountKind.RESERVE_FUND,
                    np.where(industry.pooled, totals[:, W.HELD_RECOVERED + reserve], 0),
                    Memo.HELD_RECOVERY)
        industry.written_off(principal, recovered, co_debt_fen)

    def _book_write_offs(self, platform, t: np.ndarray, paid_now: bool) -> None:
        """Book the write-offs; their recoveries too when they are paid at once."""
        books = self.market.bookkeeper
        books.move(platform, CLAIMS, WORLD, t[W.PRINCIPAL], Memo.DEFAULT_WRITE_OFF)
        held_by = by_holder(t, W.HELD_PRINCIPAL)
        for holder in np.flatnonzero(held_by):
            books.move(platform, platform.held_account(holder), WORLD, held_by[holder],
                       Memo.HELD_WRITE_OFF)
        held = int(held_by.sum())
        if paid_now:
            book_recovery(self.market, platform, t)
        income = int(t[W.RECOVERED] - t[W.PRINCIPAL])
        self.market.totals["investor_income_fen"] += income
        platform.investor_income_fen += income
        platform.run.add_loss("defaults", -income)
        lost = int(t[W.PRINCIPAL]) + held
        platform.defaulted_fen_month += lost
        platform.defaulted_fen_total += lost
