"""What each platform learns about itself on the first day of a month (its PlatformState).

From the books: last month's listings (fill rate, days to fill, rate premium), the outstanding book
by grade, arrears, recent vintages' early-warning rate, losses, investors' return, its cash and its
guarantee's fund. Its policies read the state and adapt (``end_of_month``); the marketing and the
investors' decisions read it too.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.kernels import ACTIVE, DEFAULTED, book_state
from sim.ledger import AccountKind
from sim.loans import DAYS_PER_MONTH, DAYS_PER_YEAR, MONTHS_PER_YEAR
from sim.market.marketplace import FUNDED

LOSS_WINDOW_MONTHS = 3
SEASONED_DAYS = 90  # early warning looks at loans at least this old


def review_platforms(model, day: int) -> None:
    """Refresh every platform's state from the books (vectorised; one pass over the loans)."""
    if not model.platforms:
        return
    lst = model.marketplace.listings
    n_platforms, n_grades = model.ledger.platforms, len(model.config.grades.names)
    by_grade, in_arrears, guaranteed, guaranteed_arrears = book_state(model.book.loan_columns(),
                                                                      n_platforms, n_grades)
    bad_rate = _recent_bad_rate(model, day, n_platforms)
    # listings are in order of opening: last month's closings opened at most a window earlier
    recent = slice(np.searchsorted(lst.opened_day, day - DAYS_PER_MONTH - 61), len(lst))
    lst = _Recent(lst, recent)
    closed = (lst.closed_day >= day - DAYS_PER_MONTH) & (lst.closed_day < day) & (lst.closed_day >= 0)
    opened = (lst.opened_day >= day - DAYS_PER_MONTH) & (lst.opened_day < day)
    investors, books = model.investors, model.bookkeeper
    for p, platform in enumerate(model.platforms):
        state = platform.state
        state.month, state.day = day // DAYS_PER_MONTH, day
        mine = closed & (lst.platform == p)
        funded = mine & (lst.status == FUNDED)
        state.listings_closed = int(mine.sum())
        state.listings_funded = int(funded.sum())
        state.fill_rate = (state.listings_funded / state.listings_closed
                           if state.listings_closed else float("nan"))
        state.mean_days_to_fill = (float(np.mean(lst.closed_day[funded] - lst.opened_day[funded] + 1))
                                   if state.listings_funded else float("nan"))
        offered = opened & (lst.platform == p)
        state.rate_premium = (float(np.mean(lst.annual_rate[offered]
                                            - platform.market_rate[lst.grade[offered]]))
                              if offered.any() else 0.0)
        state.all_in_premium = (platform.premium_sum / platform.premium_count
                                if platform.premium_count else 0.0)
        platform.premium_sum, platform.premium_count = 0.0, 0
        state.outstanding_by_grade_fen = by_grade[p]
        state.outstanding_fen = int(by_grade[p].sum())
        state.loans_in_arrears = int(in_arrears[p])
        state.recent_bad_rate = bad_rate[p]
        platform.defaulted_fen_history.append(platform.defaulted_fen_month)
        platform.defaulted_fen_month = 0
        recent = sum(platform.defaulted_fen_history[-LOSS_WINDOW_MONTHS:])
        months = min(len(platform.defaulted_fen_history), LOSS_WINDOW_MONTHS)
        state.loss_rate_annual = float(annual_loss_rate(recent, months, state.outstanding_fen))
        claim_years = platform.claim_days_fen / DAYS_PER_YEAR
        state.investor_return_annual = (platform.investor_income_fen / claim_years
                                        if claim_years > 0 else 0.0)
        state.active_investors = int((investors.active & (investors.home == p)).sum())
        state.platform_cash_fen = books.balance(platform, AccountKind.PLATFORM_CASH)
        for h, layer in enumerate(platform.layers):  # each layer sees its own fund and cover
            platform.layer_states[h] = dataclasses.replace(
                state, guaranteed_outstanding_fen=int(guaranteed[p, h]),
                guaranteed_arrears_fen=int(guaranteed_arrears[p, h]),
                guarantee_fund_fen=books.balance(platform, layer.account) if layer.account else 0)
        if platform.layers:  # the platform's own state shows its first layer's
            first = platform.layer_states[0]
            state.guarantee_fund_fen = first.guarantee_fund_fen
            state.guaranteed_outstanding_fen = first.guaranteed_outstanding_fen
            state.guaranteed_arrears_fen = first.guaranteed_arrears_fen
        model.hooks.reviewed(platform)


class _Recent:
    """The listings of a slice of rows, column by column."""

    def __init__(self, listings, rows: slice) -> None:
        self._listings, self._rows = listings, rows

    def __getattr__(self, name: str) -> np.ndarray:
        return getattr(self._listings, name)[self._rows]


def _recent_bad_rate(model, day: int, n_platforms: int) -> np.ndarray:
    """Early-warning measure of recent vintages per platform (NaN without such loans).

    The share of loans originated in the risk policy's warning window (and at least 90 days old)
    that are 30+ days past due or written off.
    """
    loans = model.book.loans
    rates = np.full(n_platforms, np.nan)
    for p, platform in enumerate(model.platforms):
        window = getattr(getattr(platform.risk, "params", None), "warning_window_months", 6)
        first, last = day - DAYS_PER_MONTH * window - SEASONED_DAYS, day - SEASONED_DAYS
        lo = np.searchsorted(loans.orig_day, first, side="left")
        hi = np.searchsorted(loans.orig_day, last, side="right")
        rows = slice(lo, hi)
        mine = loans.platform[rows] == p
        if not mine.any():
            continue
        late = ((loans.status[rows] == ACTIVE) & (loans.first_missed_day[rows] >= 0)
                & (day - loans.first_missed_day[rows] >= DAYS_PER_MONTH))
        bad = (late | (loans.status[rows] == DEFAULTED)) & mine
        rates[p] = bad.sum() / mine.sum()
    return rates


def annual_loss_rate(recent_fen, months, outstanding_fen):
    """The loss rate a platform discloses (逾期/坏账率), a year: the one rule for every platform.

    Principal written off in its last ``months`` months (at most ``LOSS_WINDOW_MONTHS``, reviewed
    at each month's opening), over its book outstanding, annualised; 0 without a book or a
    month. Scalars or arrays (a vector of pooled platforms, :mod:`sim.runs.pooled`).
    """
    recent, book = np.asarray(recent_fen, dtype=float), np.asarray(outstanding_fen, dtype=float)
    share = np.divide(recent, book, out=np.zeros(np.broadcast(recent, book).shape),
                      where=(book > 0) & (int(months) > 0))
    return share * MONTHS_PER_YEAR / max(int(months), 1)
