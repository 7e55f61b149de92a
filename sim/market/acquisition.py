"""Acquisition (获客): a platform's marketing plan for the month, applied.

The marketing policy plans (:mod:`sim.policies.marketing`): what each channel spends and the users it
is expected to bring. Here the spend is paid, the users drawn (Poisson) and added, red packets and
referral rewards paid into investors' accounts; then the investors who decide to leave go.
"""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH

CASH = AccountKind.PLATFORM_CASH


def run_marketing(model, platform, month: int) -> None:
    """Apply the platform's marketing plan for the month (spend, new users).

    Then the investors who decide to leave go (churn,
    :meth:`~sim.agents.investors.InvestorPopulation.who_leave`). A failed platform markets no
    more: it spends nothing and brings no one (its policy is not asked).
    """
    rng, books, investors = model.rngs["marketing"], model.bookkeeper, model.investors
    platform.marketing_spend_month_fen = 0
    platform.marketing_applications_per_day = 0.0
    platform.new_investors_month = platform.churned_investors_month = 0
    if platform.run.state.failed:
        return
    plan = platform.marketing.plan_month(platform.state)
    new_total = 0
    for channel in plan.channels:
        spend = min(int(channel.spend_fen), books.balance(platform, CASH))
        scale = spend / channel.spend_fen if channel.spend_fen > 0 else 0.0
        users = int(rng.poisson(max(channel.expected_users * scale, 0.0)))
        if channel.paid_to == "world":
            paid = spend
            books.move(platform, CASH, WORLD, paid, Memo.MARKETING, channel.name)
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
        model.reports.marketing_row({
            "month": month, "platform": platform.name, "channel": channel.name,
            "kind": channel.kind, "side": channel.side, "spend_cny": paid / 100,
            "units": channel.units, "new_users": users,
            "cost_per_user_cny": paid / 100 / users if users else float("nan")})
    organic = int(rng.poisson(max(plan.organic_investors, 0.0)))
    if organic:
        _add_investors(model, platform, organic)
    platform.new_investors_month = new_total + organic
    members = np.flatnonzero(investors.active & (investors.home == platform.index))
    leaving = investors.who_leave(members, platform.state, rng)
    investors.leave(leaving)
    platform.churned_investors_month = len(leaving)


def _add_investors(model, platform, n: int) -> slice:
    """New investors whose home is ``platform``; their first deposit comes in at once."""
    rows = model.investors.add(n, platform.index)
    model.treasury.deposit(model.investors.first_deposits(rows))
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
    np.add.at(investors.cash_fen[:, p], receivers, each)
    model.bookkeeper.move(platform, CASH, AccountKind.INVESTOR_CASH, paid,
                          Memo.MARKETING, channel.name)
    np.add.at(investors.net_income_fen, receivers, each)
    model.totals["investor_income_fen"] += paid
    platform.investor_income_fen += paid
