"""Where a platform finds cash when it is asked for more than it has.

Owners' capital calls (增资) up to the scenario's limit; a fund pool's own cash lent to the pool
(垫付); loans sold to outside buyers at a discount (fire sales, and the sale of the book at a
closure, 清盘). Every sale is booked: the loans leave the claims at their balance and the buyers'
money comes in at the price, so the discount is the loss of whoever held the loan.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import ACTIVE, SOLD
from sim.ledger import WORLD, AccountKind, Memo

CASH, POOL = AccountKind.PLATFORM_CASH, AccountKind.POOL_CASH


def own_cash_cover(cash_fen, cost_fen, room_fen):
    """The one rule of paying from a platform's own cash, for one platform or a vector of them (fen).

    Where the cash is short of the cost, the owners put in what it lacks (增资, a capital call),
    within ``room_fen`` (what they would still put in); what even that leaves unpaid fails the
    platform ("cannot pay its costs"). Returns (called, paid, unpaid).
    """
    short = np.maximum(np.subtract(cost_fen, cash_fen), 0)
    called = np.minimum(short, np.maximum(room_fen, 0))
    paid = np.minimum(cost_fen, np.add(cash_fen, called))
    return called, paid, np.subtract(cost_fen, paid)


def capital_room_fen(platform, need_fen: int) -> int:
    """What a detailed platform's owners would still put in: ``capital_call_limit_cny`` less calls so far.

    A negative limit is no limit: they put in whatever is needed (``need_fen``).
    """
    limit_cny = platform.config.liquidity.capital_call_limit_cny
    return need_fen if limit_cny < 0 else round(limit_cny * 100) - platform.run.capital_called_fen


def capital_call(market, platform, amount_fen: int) -> None:
    """Owners put ``amount_fen`` in (增资), booked and counted against their limit."""
    if amount_fen:
        market.bookkeeper.move(platform, WORLD, CASH, amount_fen, Memo.CAPITAL_CALL)
        platform.run.capital_called_fen += amount_fen
        if platform.run.first_capital_call_day is None:
            platform.run.first_capital_call_day = market.day


def pay_from_own_cash(market, platform, kind: AccountKind, amount_fen: int, memo: Memo,
                      detail: str = "") -> int:
    """Pay ``amount_fen`` from the platform's own cash into ``kind``; what could be paid (fen).

    Where the cash is short, owners are asked for capital first (:func:`own_cash_cover`).
    """
    books = market.bookkeeper
    cash = books.balance(platform, CASH)
    called, paid, _ = own_cash_cover(cash, amount_fen, capital_room_fen(platform, amount_fen))
    capital_call(market, platform, int(called))
    books.move(platform, CASH, kind, int(paid), memo, detail)
    return int(paid)


def raise_pool_cash(market, platform, need_fen: int) -> bool:
    """A fund pool finds ``need_fen`` of cash: own cash, capital calls, then fire sales.

    Returns False when even selling every current loan could not raise it (insolvent).
    """
    books = market.bookkeeper
    short = need_fen - books.balance(platform, POOL)
    if short <= 0:
        return True
    short -= pay_from_own_cash(market, platform, POOL, short, Memo.POOL_SUPPORT)
    liquidity = platform.config.liquidity
    if short > 0 and liquidity.fire_sales:
        rows = current_loans(market, platform)
        proceeds = np.floor(market.book.loans.held_fen[rows] * liquidity.fire_sale_price)
        enough = np.searchsorted(np.cumsum(proceeds), short) + 1
        sell_loans(market, platform, rows[:enough], liquidity.fire_sale_price)
    return books.balance(platform, POOL) >= need_fen


def current_loans(market, platform) -> np.ndarray:
    """Rows of the platform's active loans with nothing overdue, oldest first."""
    loans = market.book.loans
    return np.flatnonzero((loans.status == ACTIVE) & (loans.platform == platform.index)
                          & (loans.first_missed_day < 0))


def sell_loans(market, platform, rows: np.ndarray, price: float) -> int:
    """Sell loans ``rows`` to outside buyers at ``price`` x balance; what they fetched (fen).

    The held part's price goes to its holder (the pool's cash, the guarantee's fund); each note's
    to its investor's cash, who loses the discount. The loans leave the book (status SOLD).
    """
    if len(rows) == 0:
        return 0
    loans, notes, inv = market.book.loans, market.book.notes, market.investors
    books, p = market.bookkeeper, platform.index
    held = loans.held_fen[rows]
    held_price = int(np.floor(held * price).sum())
    counts = loans.note_end[rows] - loans.note_start[rows]
    first = np.repeat(loans.note_start[rows], counts)
    index = first + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    par = notes.balance_fen[index].astype(np.int64)
    holder = notes.investor[index]
    got = np.floor(par * price).astype(np.int64)
    np.add.at(inv.cash_fen, (holder, np.full(len(holder), p)), got)
    lost = par - got
    np.add.at(inv.principal_lost_fen, holder, lost)
    np.add.at(inv.net_income_fen, holder, -lost)
    market.totals["investor_income_fen"] -= int(lost.sum())
    platform.investor_income_fen -= int(lost.sum())
    platform.run.add_loss("loans_sold", int(lost.sum()))
    notes.balance_fen[index] = 0
    loans.status[rows], loans.balance_fen[rows], loans.held_fen[rows] = SOLD, 0, 0
    market.totals["loans_outstanding"] -= len(rows)
    holders = loans.holder[rows]
    for h in np.unique(holders[held > 0]):
        mine = (holders == h) & (held > 0)
        books.move(platform, platform.held_account(h), WORLD, int(held[mine].sum()), Memo.FIRE_SALE)
        books.move(platform, WORLD, platform.holder_account(h),
                   int(np.floor(held[mine] * price).sum()), Memo.FIRE_SALE)
    books.move(platform, AccountKind.INVESTOR_CLAIMS, WORLD, int(par.sum()), Memo.FIRE_SALE)
    books.move(platform, WORLD, AccountKind.INVESTOR_CASH, int(got.sum()), Memo.FIRE_SALE)
    platform.run.loans_sold += len(rows)
    return held_price + int(got.sum())
