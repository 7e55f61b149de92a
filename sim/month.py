"""A platform's month: what it learns about itself, its marketing, and its fund pool.

Run by :meth:`sim.model.P2PMarket._start_month` on the first day of each month (day 30 m):

* :func:`update_states` fills each platform's :class:`~sim.policies.base.PlatformState` from the
  books (last month's listings, the outstanding book by grade, arrears, recent vintages, losses,
  investors' return), for its policies to read;
* :func:`run_marketing` applies the marketing policy's plan: pays the channels, adds the investors
  and borrowers they bring and those who come by word of mouth, and lets churned investors go;
* :func:`run_fund_pool` runs a fund pool's products (资金池): promised interest, redemptions paid
  from the pool's cash, early exits with the transfer fee, and new subscriptions.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import ACTIVE, DEFAULTED, book_state
from sim.ledger import WORLD
from sim.loans import DAYS_PER_MONTH

FUNDED = 1
LOSS_WINDOW_MONTHS = 3
SEASONED_DAYS = 90  # early warning looks at loans at least this old


def update_states(model, day: int) -> None:
    """Refresh every platform's state from the books (vectorised; one pass over the loans)."""
    loans, lst = model.book.loans, model.listings
    n_platforms, n_grades = len(model.platforms), len(model.config.grades.names)
    by_grade, in_arrears, guaranteed = book_state(
        loans.status, loans.platform, loans.grade, loans.balance, loans.held, loans.covered,
        loans.first_missed_day, n_platforms, n_grades)
    bad_rate = _recent_bad_rate(model, day, n_platforms)
    # listings are in order of opening: last month's closings opened at most a window earlier
    recent = slice(np.searchsorted(lst.opened_day, day - DAYS_PER_MONTH - 61), len(lst))
    lst = _Recent(lst, recent)
    closed = (lst.closed_day >= day - DAYS_PER_MONTH) & (lst.closed_day < day) & (lst.closed_day >= 0)
    opened = (lst.opened_day >= day - DAYS_PER_MONTH) & (lst.opened_day < day)
    investors = model.investors
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
        state.outstanding_by_grade_fen = by_grade[p]
        state.outstanding_fen = int(by_grade[p].sum())
        state.loans_in_arrears = int(in_arrears[p])
        state.recent_bad_rate = bad_rate[p]
        platform.defaulted_fen_history.append(platform.defaulted_fen_month)
        platform.defaulted_fen_month = 0
        recent = sum(platform.defaulted_fen_history[-LOSS_WINDOW_MONTHS:])
        months = min(len(platform.defaulted_fen_history), LOSS_WINDOW_MONTHS)
        state.loss_rate_annual = (recent / state.outstanding_fen * 12.0 / months
                                  if state.outstanding_fen and months else 0.0)
        claim_years = platform.claim_days_fen / 360.0
        state.investor_return_annual = (platform.investor_income_fen / claim_years
                                        if claim_years > 0 else 0.0)
        state.active_investors = int((investors.active & (investors.home == p)).sum())
        state.platform_cash_fen = model.ledger.balance(platform.account("platform_cash"))
        kind = platform.guarantee.account
        state.guarantee_fund_fen = model.ledger.balance(platform.account(kind)) if kind else 0
        if kind == "reserve_fund":  # a sizing study's float is not the platform's money
            state.guarantee_fund_fen -= model.sizing_float_fen
        state.guaranteed_outstanding_fen = int(guaranteed[p])


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
                & (day - loans.first_missed_day[rows] >= 30))
        bad = (late | (loans.status[rows] == DEFAULTED)) & mine
        rates[p] = bad.sum() / mine.sum()
    return rates


# --------------------------------------------------------------------------- marketing

def run_marketing(model, platform, month: int) -> None:
    """Apply the platform's marketing plan for the month (spend, new users, churn)."""
    plan = platform.marketing.plan_month(platform.state)
    rng, ledger, investors = model.rngs["marketing"], model.ledger, model.investors
    cash_account = platform.account("platform_cash")
    platform.marketing_spend_month_fen = 0
    platform.marketing_applications_per_day = 0.0
    new_total = 0
    for channel in plan.channels:
        spend = min(int(channel.spend_fen), ledger.balance(cash_account))
        scale = spend / channel.spend_fen if channel.spend_fen > 0 else 0.0
        users = int(rng.poisson(max(channel.expected_users * scale, 0.0)))
        if channel.paid_to == "world":
            paid = spend
            ledger.transfer(cash_account, WORLD, paid, f"marketing:{channel.name}")
        else:  # rewards paid into investors' accounts: per user actually acquired
            per_user = spend // max(int(round(channel.expected_users * scale)), 1) if users else 0
            paid = min(per_user * users, spend)
            users = users if per_user else 0
        if channel.side == "borrowers":
            platform.marketing_applications_per_day += users / DAYS_PER_MONTH
        elif users:
            rows = _add_investors(model, platform, users)
            new_total += users
            if channel.paid_to != "world" and paid:
                _pay_rewards(model, platform, channel, rows, paid, users)
        platform.marketing_spend_month_fen += paid
        platform.marketing_spend_total_fen += paid
        model.datacollector.add_table_row("marketing", {
            "month": month, "platform": platform.name, "channel": channel.name,
            "kind": channel.kind, "side": channel.side, "spend_cny": paid / 100,
            "units": channel.units, "new_users": users,
            "cost_per_user_cny": paid / 100 / users if users else float("nan")})
    organic = int(rng.poisson(max(plan.organic_investors, 0.0)))
    if organic:
        _add_investors(model, platform, organic)
    platform.new_investors_month = new_total + organic
    members = np.flatnonzero(investors.active & (investors.home == platform.index))
    leaving = members[rng.random(len(members)) < plan.churn_share] if plan.churn_share else members[:0]
    investors.leave(leaving)
    platform.churned_investors_month = len(leaving)


def _add_investors(model, platform, n: int) -> slice:
    """New investors whose home is ``platform``; their first deposit comes in at once."""
    rows = model.investors.add(n, platform.index)
    first = np.zeros(len(model.investors), dtype=np.int64)
    first[rows] = model.investors.initial_cash_fen[rows]
    model._deposit(first)
    return rows


def _pay_rewards(model, platform, channel, new_rows: slice, paid: int, users: int) -> None:
    """Red packets go to the new investors, referral rewards to existing ones (邀请奖励)."""
    investors, p = model.investors, platform.index
    if channel.paid_to == "new_investors":
        receivers = np.arange(new_rows.start, new_rows.stop)
    else:
        members = np.flatnonzero(investors.active & (investors.home == p))
        members = members[members < new_rows.start]
        receivers = (model.rngs["marketing"].choice(members, size=users) if len(members)
                     else np.arange(new_rows.start, new_rows.stop))
    each = np.full(len(receivers), paid // len(receivers), dtype=np.int64)
    each[: paid - int(each.sum())] += 1
    np.add.at(investors.cash[:, p], receivers, each)
    model.ledger.transfer(platform.account("platform_cash"), platform.account("investor_cash"),
                          paid, f"marketing:{channel.name}")
    np.add.at(investors.net_income_fen, receivers, each)
    model.totals["investor_income_fen"] += paid
    platform.investor_income_fen += paid


# --------------------------------------------------------------------------- fund pool

def run_fund_pool(model, platform, month: int) -> None:
    """A fund pool's month: promised interest, rollovers, redemptions, early exits, subscriptions.

    The promised interest accrues to every product. A matured product rolls over (续投) with
    probability ``rollover_share`` if its investor is still active; otherwise it is redeemed, as
    are early exits (less the transfer fee). Redemptions are paid from the pool's cash and leave the
    platform; when the cash falls short each is paid the same fraction and the rest stays due
    (兑付逾期, ``pool_overdue``) and is asked for again next month. Then investors' idle cash
    (deposits, new investors' money) buys new products.
    """
    cfg, p = platform.config.fund_pool, platform.index
    investors, ledger, rng = model.investors, model.ledger, model.rngs["marketing"]
    value, cost = investors.product_fen[:, p], investors.product_cost_fen[:, p]
    exiting = investors.product_exiting[:, p]
    value += np.floor(value * cfg.product_rate / 12.0).astype(np.int64)  # promised, not paid yet
    holding = value > 0
    draws = rng.random((2, len(value)))
    matured = holding & ~exiting & (investors.product_maturity[:, p] <= month)
    rolls = matured & investors.active & (draws[0] < cfg.rollover_share)
    investors.product_maturity[rolls, p] += cfg.product_term_months
    early = holding & ~exiting & ~matured & (draws[1] < cfg.early_exit_share)
    fee = np.floor(value * np.where(early, platform.config.transfer_fee, 0.0)).astype(np.int64)
    exiting |= (matured & ~rolls) | early
    owed = np.where(exiting, value - fee, 0)
    pool = platform.account("pool_cash")
    asked = int(owed.sum() + fee.sum())
    cash = ledger.balance(pool)
    fraction = 1.0 if asked <= cash else cash / asked
    paid = np.floor(owed * fraction).astype(np.int64)
    fee_paid = np.floor(fee * fraction).astype(np.int64)
    settled = np.where(exiting, (paid + fee_paid) / np.maximum(value, 1), 0.0)
    cost_part = np.floor(cost * settled).astype(np.int64)
    income = paid - cost_part
    investors.net_income_fen += income
    model.totals["investor_income_fen"] += int(income.sum())
    platform.investor_income_fen += int(income.sum())
    value -= paid + fee_paid
    cost -= cost_part
    done = exiting & (value <= fee - fee_paid)  # nothing left but the unpaid part of the fee
    value[done], cost[done], exiting[done] = 0, 0, False
    ledger.transfer(pool, platform.account("platform_cash"), int(fee_paid.sum()), "transfer_fee")
    ledger.transfer(pool, WORLD, int(paid.sum()), "product_redemption")  # paid out and withdrawn
    platform.pool_overdue_fen = int(np.where(exiting, value, 0).sum())
    subscribe = np.where(investors.active, investors.cash[:, p], 0)
    new = (subscribe > 0) & (value == 0)  # a new product; top-ups join the running one
    investors.product_maturity[new, p] = month + cfg.product_term_months
    investors.cash[:, p] -= subscribe
    value += subscribe
    cost += subscribe
    ledger.transfer(platform.account("investor_cash"), pool, int(subscribe.sum()),
                    "product_subscription")
