"""The secondary market (债权转让): investors who want out sell their notes to others' auto-invest.

On a day when investors start to sell, or offers are left from the day before, per platform that
allows transfers: the sellers' notes on current loans are offered at par
``S``; the buyers are investors still bidding there, with idle cash ``D``. The clearing price (share
of par) is ``max(floor, 1 - base_discount - slope * max(0, 1 - D / S))``: at par less the base
discount while buyers' cash covers the offer, falling as sellers outnumber buyers. Notes go, in book
order, each to the next buyer (in the day's random order) whose cash covers its price, until no
buyer can pay; the seller receives the price less the transfer fee (转让费), and loses the discount,
which is the buyer's gain.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.ledger import AccountKind, Memo
from sim.runs.holdings import Holdings


class SecondaryMarket:
    """Today's transfers by platform: par volume, what was paid, the clearing price.

    Parameters
    ----------
    market : P2PMarket
        Book, investors, bookkeeper.
    rng : numpy.random.Generator
        The runs' stream (the buyers' order).
    """

    def __init__(self, market, rng: np.random.Generator) -> None:
        self.market, self.rng = market, rng
        n = len(market.platforms)
        self.par_fen = np.zeros(n, dtype=np.int64)
        self.paid_fen = np.zeros(n, dtype=np.int64)
        self.offered_fen = np.zeros(n, dtype=np.int64)
        self.price = np.ones(n)
        self.waiting = [np.zeros(0, dtype=np.int64) for _ in range(n)]  # sellers with unsold notes
        self.holdings = Holdings(market.book, market.investors)  # who holds which notes

    def new_day(self) -> None:
        """Start today's counts."""
        self.par_fen[:] = self.paid_fen[:] = self.offered_fen[:] = 0
        self.price[:] = 1.0

    def clear(self, platform, selling: np.ndarray, starting: np.ndarray) -> None:
        """Clear today's market of ``platform``.

        ``selling`` (boolean by investor) are all who want out; the notes offered are those of the
        ones ``starting`` today and of those whose notes were left unsold before (who sold
        everything have nothing more to offer: their chains are not walked again).
        """
        market, p = self.market, platform.index
        book, inv = market.book, market.investors
        sellers = np.union1d(np.flatnonzero(starting), self.waiting[p][selling[self.waiting[p]]])
        if len(sellers) == 0:
            return
        offered = self.holdings.notes_of(sellers, p)
        n = len(offered)
        self.waiting[p] = sellers[:0]
        if n == 0:
            return
        par = book.notes.balance_fen[offered].astype(np.int64)
        buyers = np.flatnonzero(inv.bidding[:, p] & inv.active & ~selling & (inv.cash_fen[:, p] > 0))
        supply, demand = int(par.sum()), int(inv.cash_fen[buyers, p].sum())
        rules = platform.config.liquidity
        excess = max(0.0, 1.0 - demand / supply)
        price = max(rules.transfer_price_floor,
                    1.0 - rules.transfer_base_discount - rules.transfer_discount_slope * excess)
        self.offered_fen[p], self.price[p] = supply, price
        cost = np.floor(par * price).astype(np.int64)
        order = self.rng.permutation(buyers)
        bought_by = np.empty(n, dtype=np.int64)
        sold = kernels.match_transfers(cost, order, inv.cash_fen[:, p], bought_by)
        self.waiting[p] = np.unique(book.notes.investor[offered[sold:]]).astype(np.int64)
        if sold:
            self._settle(platform, offered[:sold], par[:sold], cost[:sold], bought_by[:sold])

    def _settle(self, platform, rows, par, cost, buyer) -> None:
        """Notes change hands; the buyers' cash (already taken) goes to the sellers, less the fee."""
        market, p = self.market, platform.index
        inv, notes = market.investors, market.book.notes
        seller = notes.investor[rows].astype(np.int64)
        fee = np.floor(cost * platform.config.transfer_fee).astype(np.int64)
        np.add.at(inv.cash_fen, (seller, np.full(len(seller), p)), cost - fee)
        discount = par - cost
        np.add.at(inv.net_income_fen, seller, -(discount + fee))
        np.add.at(inv.principal_lost_fen, seller, discount)
        np.add.at(inv.net_income_fen, buyer, discount)
        notes.investor[rows] = buyer
        self.holdings.moved(rows, buyer)
        total_fee = int(fee.sum())
        market.totals["investor_income_fen"] -= total_fee
        platform.investor_income_fen -= total_fee
        platform.run.add_loss("transfer_discount", int(discount.sum()))
        market.bookkeeper.move(platform, AccountKind.INVESTOR_CASH, AccountKind.PLATFORM_CASH,
                               total_fee, Memo.TRANSFER_FEE)
        self.par_fen[p] += int(par.sum())
        self.paid_fen[p] += int(cost.sum())
