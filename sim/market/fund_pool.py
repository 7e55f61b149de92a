"""A fund pool's month (资金池 / 期限错配): promised interest, redemptions, early exits, subscriptions."""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import MONTHS_PER_YEAR
from sim.runs.states import RunState

POOL = AccountKind.POOL_CASH


def run_fund_pool(model, platform, month: int) -> None:
    """A fund pool's month: promised interest, rollovers, redemptions, early exits, subscriptions.

    The promised interest accrues to every product. A matured product rolls over (续投) with
    probability ``rollover_share`` if its investor is still active; otherwise it is redeemed, as
    are early exits (less the transfer fee). Redemptions are paid from the pool's cash and leave the
    platform; when the cash falls short each is paid the same fraction and the rest stays due
    (兑付逾期, ``pool_overdue``) and is asked for again next month. Then investors' idle cash
    (deposits, new investors' money) buys new products; without custody a share of the pool's
    money is diverted (挪用, :func:`divert`).
    """
    if model.runs.enabled or platform.run.state.failed:  # a failed pool pays through the queue
        run_fund_pool_in_runs(model, platform, month)
        return
    cfg, p = platform.config.fund_pool, platform.index
    investors, books, rng = model.investors, model.bookkeeper, model.rngs["marketing"]
    value, cost = investors.product_fen[:, p], investors.product_cost_fen[:, p]
    exiting = investors.product_exiting[:, p]
    accrued = np.floor(value * cfg.product_rate / MONTHS_PER_YEAR).astype(np.int64)
    value += accrued  # promised, not paid yet
    platform.company.accrue(month, int(accrued.sum()))
    holding = value > 0
    draws = rng.random((2, len(value)))
    matured = holding & ~exiting & (investors.product_maturity[:, p] <= month)
    rolls = matured & investors.active & (draws[0] < cfg.rollover_share)
    investors.product_maturity[rolls, p] += cfg.product_term_months
    early = holding & ~exiting & ~matured & (draws[1] < cfg.early_exit_share)
    fee = np.floor(value * np.where(early, platform.config.transfer_fee, 0.0)).astype(np.int64)
    exiting |= (matured & ~rolls) | early
    owed = np.where(exiting, value - fee, 0)
    asked = int(owed.sum() + fee.sum())
    cash = books.balance(platform, POOL)
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
    books.move(platform, POOL, AccountKind.PLATFORM_CASH, int(fee_paid.sum()), Memo.TRANSFER_FEE)
    books.move(platform, POOL, WORLD, int(paid.sum()), Memo.PRODUCT_REDEMPTION)  # and withdrawn
    platform.pool_overdue_fen = int(np.where(exiting, value, 0).sum())
    subscribe = np.where(investors.active, investors.cash_fen[:, p], 0)
    new = (subscribe > 0) & (value == 0)  # a new product; top-ups join the running one
    investors.product_maturity[new, p] = month + cfg.product_term_months
    investors.cash_fen[:, p] -= subscribe
    value += subscribe
    cost += subscribe
    books.move(platform, AccountKind.INVESTOR_CASH, POOL, int(subscribe.sum()),
               Memo.PRODUCT_SUBSCRIPTION)
    divert(model, platform, int(value.sum()))


def run_fund_pool_in_runs(model, platform, month: int) -> None:
    """A fund pool's month when runs are on: redemptions wait in the queue (:mod:`sim.runs.queue`).

    The promised interest accrues; matured products roll over (续投) with ``rollover_share`` if their
    investor is still active and bidding, otherwise they are redeemed through the queue, which is
    paid daily. Early exits are the investors' own decisions (trust), not a fixed share. Idle cash of
    investors still bidding buys products while the platform is normal; then, without custody, a
    share of the pool's money is diverted (挪用, :func:`divert`).
    """
    cfg, p = platform.config.fund_pool, platform.index
    investors, books, rng = model.investors, model.bookkeeper, model.rngs["marketing"]
    value = investors.product_fen[:, p]
    accrued = np.floor(value * cfg.product_rate / MONTHS_PER_YEAR).astype(np.int64)
    value += accrued
    platform.company.accrue(month, int(accrued.sum()))
    bidding = investors.bidding[:, p] & investors.active
    matured = (value > 0) & (investors.product_maturity[:, p] <= month)
    rolls = matured & bidding & (rng.random(len(value)) < cfg.rollover_share)
    investors.product_maturity[rolls, p] += cfg.product_term_months
    model.runs.queue.request_products(platform, np.flatnonzero(matured & ~rolls), model.day,
                                      lock_up=False)
    if platform.run.state == RunState.NORMAL and not platform.frozen:
        subscribe = np.where(bidding, investors.cash_fen[:, p], 0)
        new = (subscribe > 0) & (value == 0)
        investors.product_maturity[new, p] = month + cfg.product_term_months
        investors.cash_fen[:, p] -= subscribe
        value += subscribe
        investors.product_cost_fen[:, p] += subscribe
        books.move(platform, AccountKind.INVESTOR_CASH, POOL, int(subscribe.sum()),
                   Memo.PRODUCT_SUBSCRIPTION)
    divert(model, platform, int(value.sum()))


def divert(model, platform, owed_fen: int) -> None:
    """挪用: without custody, ``diversion_monthly`` of what the pool owes taken from its cash.

    The share is of the pool's money, what it owes its investors (``owed_fen``: their products),
    taken out of the cash it holds after the month's subscriptions, as far as that goes: a pool
    of 100 M diverts 2 M a month at 2 %, not 2 % of the little cash it keeps unlent.
    """
    rules, books = platform.config.liquidity, model.bookkeeper
    if rules.custody or not rules.diversion_monthly:
        return
    taken = min(int(owed_fen * rules.diversion_monthly), books.balance(platform, POOL))
    books.move(platform, POOL, WORLD, taken, Memo.DIVERSION)
    platform.run.taken_fen += taken
