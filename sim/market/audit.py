"""The audit: the books balance to the fen.

They also agree with the investors', loans' and notes' own balances. Any difference of one fen
raises :class:`~sim.ledger.LedgerError`.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import ACTIVE, MAX_LAYERS, POOLED_INVESTORS, POOLED_RESERVE
from sim.ledger import HELD_KINDS, AccountKind, LedgerError


def audit(market, full: bool = False) -> None:
    """Check the market's books.

    Always: the ledger sums to zero and no account but ``world`` is negative, no investor's cash is
    negative, each platform's ``investor_cash`` equals the investors' cash on it and its
    ``withdrawals_queued`` their queued withdrawals. With ``full``:
    also committed bids, loan balances, note balances, the arrears counts and investors' income.
    """
    ledger, books, day = market.ledger, market.bookkeeper, market.ledger.day
    ledger.check()
    investors = market.investors
    if (investors.cash_fen < 0).any():
        raise LedgerError(f"an investor's cash is negative on day {day}")
    cash = investors.cash_fen.sum(axis=0)
    for p, platform in enumerate(market.platforms):
        booked = books.balance(platform, AccountKind.INVESTOR_CASH)
        if int(cash[p]) != booked:
            raise LedgerError(f"investors' cash on {platform.name} is {int(cash[p])} fen, the "
                              f"ledger says {booked}")
        queued = int(investors.queued_fen[:, p].sum())
        booked = books.balance(platform, AccountKind.WITHDRAWALS_QUEUED)
        if not platform.is_fund_pool and queued != booked:
            raise LedgerError(f"withdrawals queued on {platform.name} are {queued} fen, the "
                              f"ledger says {booked}")
    if market.industry is not None:
        market.industry.audit()
    if full:
        _audit_book(market)


def _audit_pooled(market, held: np.ndarray) -> None:
    """A pooled platform's loans: its investors' claims and its reserve's (``held`` by holder)."""
    pooled, accounts = market.industry.pooled, market.ledger.accounts
    for holder, kind in ((POOLED_INVESTORS, AccountKind.INVESTOR_CLAIMS),
                         (POOLED_RESERVE, AccountKind.HELD_CLAIMS)):
        wrong = np.flatnonzero(pooled & (held[:, holder] != accounts[kind]))
        if len(wrong):
            p = int(wrong[0])
            raise LedgerError(f"{kind} on {market.industry.names[p]}: books say "
                              f"{int(held[p, holder])} fen, ledger {int(accounts[kind][p])}")


def _audit_book(market) -> None:
    books, day = market.bookkeeper, market.ledger.day
    n = market.ledger.platforms
    committed = market.marketplace.committed_by_platform()
    loans = market.book.loans
    index = loans.platform.astype(np.int64) * MAX_LAYERS + loans.holder
    held = np.bincount(index, weights=loans.held_fen, minlength=n * MAX_LAYERS).astype(
        np.int64).reshape(n, MAX_LAYERS)
    if market.industry is not None:  # a pooled platform's holders: its investors, its reserve
        _audit_pooled(market, held)
        held[market.industry.pooled, POOLED_INVESTORS] = 0
    claims = market.book.outstanding_by_platform(n) - held.sum(axis=1)
    for p, platform in enumerate(market.platforms):
        by_kind = dict.fromkeys(HELD_KINDS, 0)
        for holder in range(MAX_LAYERS):
            by_kind[platform.held_account(holder)] += int(held[p, holder])
        for kind, value in ((AccountKind.INVESTOR_COMMITTED, committed[p]),
                            (AccountKind.INVESTOR_CLAIMS, claims[p]), *by_kind.items()):
            booked = books.balance(platform, kind)
            if int(value) != booked:
                raise LedgerError(f"{kind} on {platform.name}: books say {int(value)} fen, "
                                  f"ledger {booked}")
    if not np.array_equal(market.book.note_sums() + loans.held_fen, loans.balance_fen):
        raise LedgerError(f"a loan's notes and held part do not add up to its balance on day {day}")
    arrears = market.arrears
    late = ((loans.status == ACTIVE) & (loans.first_missed_day >= 0)
            & ~market.risk_tables.pooled[loans.platform])  # the buckets count detailed loans
    index = loans.first_missed_day[late] - market.book.first_day
    size = len(arrears.count)
    if not (np.array_equal(np.bincount(index, minlength=size), arrears.count)
            and np.array_equal(np.bincount(index, weights=loans.balance_fen[late], minlength=size)
                               .astype(np.int64), arrears.balance_fen)):
        raise LedgerError(f"arrears counts by day of first miss are off on day {day}")
    if int(market.investors.net_income_fen.sum()) != market.totals["investor_income_fen"]:
        raise LedgerError("investors' income does not match the ledger's interest and losses")
