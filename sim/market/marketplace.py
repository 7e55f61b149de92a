"""The marketplace (撮合): from application to disbursement or failure.

Applications become listings (发标), investors bid (自动投标), full listings are disbursed
(满标放款) and the others fail at their deadline (流标).

A listing's bids commit the investors' cash (``investor_committed``); at disbursement the bids
become the loan's notes (债权) and the cash its principal; a failed listing's bids go back.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.columns import Columns
from sim.kernels import ACTIVE, NEVER_PAYS, Bidders, ListingTerms
from sim.ledger import AccountKind, Memo
from sim.market.guarantees import collect_contributions, covered_bits

OPEN, FUNDED, FAILED = 0, 1, 2  # listing status
APPLICANT_COLUMNS = ("grade", "score", "amount_fen", "term", "method", "income_fen", "dti",
                     "rate_tolerance", "kind", "debt_elsewhere_fen")
LISTING_SCHEMA = {
    "platform": np.int16, "borrower": np.int64, "grade": np.int8, "method": np.int8,
    "term": np.int16, "annual_rate": np.float64, "amount": np.int64, "funded": np.int64,
    "opened_day": np.int32, "deadline_day": np.int32, "status": np.int8,
    "hazard_mult": np.float64, "loan": np.int64, "closed_day": np.int32,
}
COMMITTED, CASH = AccountKind.INVESTOR_COMMITTED, AccountKind.INVESTOR_CASH


class Marketplace:
    """Listings and their bids, from application to disbursement or failure.

    Parameters
    ----------
    market : P2PMarket
        The market (platforms, borrowers, investors, book, bookkeeper).

    Attributes
    ----------
    listings : Columns
        Every listing ever made, one row each (amounts in fen), in order of opening.
    open_listings : numpy.ndarray
        Rows of the listings still in their funding window.
    bids : dict of numpy.ndarray
        The open listings' bids: ``listing`` row, ``investor`` row, ``amount`` (fen).
    """

    def __init__(self, market) -> None:
        self.market = market
        self.listings = Columns(LISTING_SCHEMA, capacity=4096)
        self.open_listings = np.zeros(0, dtype=np.int64)
        self.bids = {"listing": np.zeros(0, np.int64), "investor": np.zeros(0, np.int64),
                     "amount": np.zeros(0, np.int64)}
        self.investor_order = np.arange(len(market.investors))
        self.order_pointer = 0
        self.rng = market.rngs["funding"]
        self.min_bid_fen = market.investors.min_bid_fen
        self.max_scan = market.config.investors.max_scan_per_listing
        self.fund_pools = np.array([p.is_fund_pool for p in market.platforms], dtype=bool)

    def shuffle_investors(self) -> None:
        """A fresh random order in which investors are asked to bid (monthly)."""
        self.investor_order = self.rng.permutation(len(self.market.investors))

    # ------------------------------------------------------------------ applications

    def take_applications(self, day: int) -> None:
        """Borrowers apply; each platform reviews and prices them and lists the approved."""
        market = self.market
        cfg = market.config.borrowers
        demand = cfg.applications_per_day * cfg.demand_factor(day)
        for platform in market.platforms:
            if platform.frozen or day < platform.down_until_day:
                continue
            expected = (demand * platform.config.market_share * platform.demand_multiplier
                        + platform.marketing_applications_per_day)
            rows = market.borrowers.arrive(day, platform.index, expected)
            if rows.stop > rows.start:
                self._list(day, platform, rows)

    def _list(self, day: int, platform, rows: slice) -> None:
        table, today = self.market.borrowers.table, self.market.today
        applicants = {k: getattr(table, k)[rows] for k in APPLICANT_COLUMNS}
        listed, rate, amount = platform.review(applicants)
        table.approved[rows] = listed
        today.applications += rows.stop - rows.start
        platform.company.applications_month += rows.stop - rows.start
        chosen = np.flatnonzero(listed)
        if len(chosen) == 0:
            return
        new = self.listings.append(
            platform=platform.index, borrower=rows.start + chosen,
            grade=applicants["grade"][chosen], method=applicants["method"][chosen],
            term=applicants["term"][chosen], annual_rate=rate[chosen],
            amount=amount[chosen], funded=0, opened_day=day,
            deadline_day=day + platform.funding_window_days - 1, status=OPEN,
            hazard_mult=table.hazard_mult[rows][chosen], loan=-1, closed_day=-1)
        table.listing[rows.start + chosen] = np.arange(new.start, new.stop)
        self._self_dealing(platform, new)
        self.open_listings = np.concatenate([self.open_listings, np.arange(new.start, new.stop)])
        today.new_listings += new.stop - new.start

    def _self_dealing(self, platform, new: slice) -> None:
        """自融: a share of the platform's listings are its owners' own projects, never repaid."""
        share = platform.config.liquidity.self_dealing_share
        if share == 0:
            return
        lst = self.listings
        own = np.arange(new.start, new.stop)[self.market.rngs["runs"].random(new.stop - new.start)
                                             < share]
        lst.hazard_mult[own] = NEVER_PAYS
        platform.run.self_dealt_fen += int(lst.amount[own].sum())

    # ------------------------------------------------------------------ bids

    def take_bids(self, day: int) -> None:
        """Investors auto-invest in the open listings; fund pools fill their own first."""
        rows = self.open_listings
        if len(rows) == 0:
            return
        lst = self.listings
        from_pool = self.fund_pools[lst.platform[rows]]
        if from_pool.any():
            self._fund_from_pools(rows[from_pool])
            rows = rows[~from_pool]
            if len(rows) == 0:
                return
        need = lst.amount[rows] - lst.funded[rows]
        investors = self.market.investors
        capacity = int(need.sum() // self.min_bid_fen) + len(rows) + 1
        out = [np.empty(capacity, dtype=np.int64) for _ in range(3)]
        n_bids, self.order_pointer = kernels.fund_listings(
            rows, need, ListingTerms(lst.grade, lst.annual_rate, lst.platform),
            self.investor_order, self.order_pointer,
            Bidders(investors.cash_fen, investors.bid_size_fen, investors.max_grade, investors.min_rate,
                    investors.bidding),
            self.min_bid_fen, self.max_scan, *out)
        if n_bids == 0:
            return
        bid_rows = rows[out[0][:n_bids]]
        amounts = out[2][:n_bids]
        lst.funded[rows] = lst.amount[rows] - need
        for platform in self.market.platforms:
            self.market.bookkeeper.move(platform, CASH, COMMITTED,
                                        int(amounts[lst.platform[bid_rows] == platform.index].sum()),
                                        Memo.BID)
        self.bids = {"listing": np.concatenate([self.bids["listing"], bid_rows]),
                     "investor": np.concatenate([self.bids["investor"], out[1][:n_bids]]),
                     "amount": np.concatenate([self.bids["amount"], amounts])}

    def _fund_from_pools(self, rows: np.ndarray) -> None:
        """A fund pool lends first (先借后转): it fills its listings at once while its cash lasts.

        A pool with redemptions overdue stops lending and keeps its cash for them.
        """
        lst, books = self.listings, self.market.bookkeeper
        for platform in self.market.platforms:
            if not platform.is_fund_pool or platform.pool_overdue_fen > 0:
                continue
            mine = rows[lst.platform[rows] == platform.index]
            need = lst.amount[mine] - lst.funded[mine]
            cash = books.balance(platform, AccountKind.POOL_CASH) - platform.pool_reserved_fen
            fill = np.cumsum(need) <= cash
            lst.funded[mine[fill]] = lst.amount[mine[fill]]
            platform.pool_reserved_fen += int(need[fill].sum())

    # ------------------------------------------------------------------ closing

    def close_listings(self, day: int) -> None:
        """Disburse the full listings and fail those whose funding window has passed."""
        rows = self.open_listings
        if len(rows) == 0:
            return
        lst = self.listings
        full = lst.funded[rows] == lst.amount[rows]
        expired = ~full & (lst.deadline_day[rows] <= day)
        if not (full.any() or expired.any()):
            return
        # every bid is on an open listing: look its state up in a table over the open rows' span
        first = rows[0]
        state_by_row = np.zeros(rows[-1] - first + 1, dtype=np.int8)
        state_by_row[rows[full] - first] = FUNDED
        state_by_row[rows[expired] - first] = FAILED
        state = state_by_row[self.bids["listing"] - first]
        if full.any():
            self._disburse(day, rows[full], state == FUNDED)
        if expired.any():
            self._refund_failed(day, rows[expired], state == FAILED)
        keep = state == OPEN
        self.bids = {k: v[keep] for k, v in self.bids.items()}
        self.open_listings = rows[~(full | expired)]

    def _disburse(self, day: int, listings: np.ndarray, bid_mask: np.ndarray) -> None:
        """满标放款: full listings become loans; their bids become the loans' notes."""
        lst, market = self.listings, self.market
        order = np.argsort(self.bids["listing"][bid_mask], kind="stable")
        bid_listing = self.bids["listing"][bid_mask][order]
        first = listings[0]
        note_counts = np.bincount(bid_listing - first, minlength=listings[-1] - first + 1)[
            listings - first]
        n = len(listings)
        principal = lst.amount[listings]
        platform = lst.platform[listings]
        covered = np.zeros(n, dtype=np.int8)
        for p, plat in enumerate(market.platforms):
            mine = platform == p
            if mine.any():
                covered[mine] = covered_bits(plat, principal[mine])
        loans = {
            "borrower": lst.borrower[listings], "platform": platform,
            "grade": lst.grade[listings], "method": lst.method[listings],
            "term": lst.term[listings], "annual_rate": lst.annual_rate[listings],
            "principal_fen": principal, "balance_fen": principal, "orig_day": np.full(n, day),
            "n_paid": 0, "status": ACTIVE, "delinquent": 0, "first_missed_day": -1,
            "default_day": -1, "hazard_mult": lst.hazard_mult[listings],
            "held_fen": np.where(self.fund_pools[platform], principal, 0), "holder": 0,
            "covered": covered, "paid_fen": 0,
        }
        new = market.book.append(loans, note_counts, self.bids["investor"][bid_mask][order],
                                 self.bids["amount"][bid_mask][order])
        lst.status[listings] = FUNDED
        lst.closed_day[listings] = day
        lst.loan[listings] = np.arange(new.start, new.stop)
        if market.industry is not None:  # some borrowers owe on the industry's platforms too
            market.industry.co_debt.join_detailed(np.arange(new.start, new.stop), day)
        for p, plat in enumerate(market.platforms):
            mine = platform == p
            if mine.any():
                self._book_disbursement(plat, principal[mine], covered[mine])
        market.today.funded_listings += n
        market.today.volume_fen += int(principal.sum())
        market.totals["loans_outstanding"] += n

    def _book_disbursement(self, platform, principal: np.ndarray, covered: np.ndarray) -> None:
        """The principal goes to the borrowers; the platform's fee and the layers' shares in.

        ``covered``: each loan's protection layer bits.
        """
        market, books = self.market, self.market.bookkeeper
        amount = int(principal.sum())
        if platform.is_fund_pool:
            books.move(platform, AccountKind.POOL_CASH, AccountKind.HELD_CLAIMS, amount,
                       Memo.POOL_DISBURSEMENT)
            platform.pool_reserved_fen = 0
        else:
            books.move(platform, COMMITTED, AccountKind.INVESTOR_CLAIMS, amount, Memo.DISBURSEMENT)
        fee = int(platform.service_fee_fen(principal).sum())
        books.fee(platform, fee, Memo.SERVICE_FEE)
        market.today.service_fee_fen += fee
        collect_contributions(market, platform, principal, covered)

    def _refund_failed(self, day: int, listings: np.ndarray, bid_mask: np.ndarray) -> None:
        """流标: listings not full by their deadline fail and every bid goes back to its investor."""
        lst = self.listings
        bid_listing = self.bids["listing"][bid_mask]
        investor = self.bids["investor"][bid_mask]
        amount = self.bids["amount"][bid_mask]
        platform = lst.platform[bid_listing]
        np.add.at(self.market.investors.cash_fen, (investor, platform), amount)
        for plat in self.market.platforms:
            self.market.bookkeeper.move(plat, COMMITTED, CASH,
                                        int(amount[platform == plat.index].sum()),
                                        Memo.FAILED_LISTING_RELEASE)
        lst.status[listings] = FAILED
        lst.closed_day[listings] = day
        self.market.today.failed_listings += len(listings)

    def committed_by_platform(self) -> np.ndarray:
        """Cash bid on open listings, by platform (fen), from the bids themselves (for the audit)."""
        n = self.market.ledger.platforms
        return np.bincount(self.listings.platform[self.bids["listing"]],
                           weights=self.bids["amount"], minlength=n)
