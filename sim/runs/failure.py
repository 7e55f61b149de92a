"""Platform states and failure: 提现困难, then an orderly exit, a closure or flight (docs/runs.md)."""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD, AccountKind, Memo
from sim.runs import flows
from sim.runs.liquidity import current_loans, pay_from_own_cash, sell_loans
from sim.runs.states import FAILURE_STATES, RunState


def update_state(market, platform, day: int) -> None:
    """The platform's day in the one state machine (:meth:`RunStates.update`).

    It is late while its oldest request has waited more than ``delay_limit_days``; 提现困难 for
    ``fail_after_days`` is a failure. (In difficulty, a wait within the limit but above zero
    keeps it there: only an empty queue ends 提现困难.) Inside an industry every platform is late
    by the industry's one rule (:func:`sim.runs.flows.late`) and fails after its
    ``fail_after_days``.
    """
    record, rules = platform.run, platform.config.liquidity
    if record.state.failed:
        return
    if market.industry is not None:  # the industry's one rule, as for its pooled platforms
        late, fail_after = _late_in_industry(market, platform)
    else:
        wait = market.runs.queue.oldest_wait_days(platform, day)
        late = wait > rules.delay_limit_days or (record.state == RunState.WITHDRAWAL_DIFFICULTY
                                                 and wait > 0)
        fail_after = rules.fail_after_days
    entered, failing = market.run_states.update([platform.index], [late], day, fail_after)
    if len(entered):
        market.runs.in_trouble(platform.index)
    if len(failing):
        fail(market, platform, day, f"提现困难 for {fail_after} days")


def _late_in_industry(market, platform) -> tuple[bool, int]:
    """Inside an industry: late by :func:`sim.runs.flows.late`; ``fail_after_days`` of its behaviour."""
    industry = market.industry
    unpaid = np.zeros(industry.n, dtype=np.int64)
    unpaid[platform.index] = flows.unpaid_fen(market, platform)
    late = bool(flows.late(industry, unpaid)[platform.index])
    return late, industry.config.behaviour.fail_after_days


def fail(market, platform, day: int, reason: str, how: str | None = None) -> None:
    """The platform fails today by ``how`` (default: its ``on_failure``) for ``reason``.

    It lends no more and its investors stop bidding and ask for their money; borrowers pay less
    (逃废债); operators who flee take what they can reach first (:func:`take`); a closure sells
    the current loans and shares what there is (:func:`close`).
    """
    record = platform.run
    if record.state.failed:
        return
    how = how or platform.config.liquidity.on_failure
    market.run_states.fail([platform.index], FAILURE_STATES[how], day)
    record.failure, record.failure_reason = how, reason
    platform.frozen = True
    market.investors.bidding[:, platform.index] = False
    market.runs.in_trouble(platform.index)
    if how == "flee":
        take(market, platform, platform.config.liquidity.flee_share)
    if how in ("flee", "closure"):
        close(market, platform, day)
    else:
        market.runs.everyone_asks(platform, day)


def reachable_kinds(custody: bool, fund_pool: bool) -> list[AccountKind]:
    """Accounts fleeing operators can empty: the one rule, for a detailed or a pooled platform.

    Their own cash and the reserve, and without custody (资金存管) the pool's and investors' money
    (and the withdrawals queued, except in a fund pool, whose queue is of products paid from the
    pool's cash).
    """
    kinds = [AccountKind.PLATFORM_CASH, AccountKind.RESERVE_FUND]
    if not custody:
        kinds += [AccountKind.POOL_CASH, AccountKind.INVESTOR_CASH]
        if not fund_pool:
            kinds.append(AccountKind.WITHDRAWALS_QUEUED)
    return kinds


def taken_by_operators(balances_fen: np.ndarray, share: float | np.ndarray) -> np.ndarray:
    """What fleeing operators take of each balance: ``share`` of it, floored to the fen."""
    return np.floor(np.asarray(balances_fen) * share).astype(np.int64)


def take(market, platform, share: float, kinds: list | None = None,
         memo: Memo = Memo.TAKEN_BY_OPERATORS, cause: str = "taken") -> int:
    """跑路: the operators leave with ``share`` of every account they can reach; the amount (fen).

    Investors' cash and queued withdrawals are cut pro rata, each investor to the fen; the cut is
    their loss to ``cause``. A breach's attackers take the same way from ``kinds``
    (:func:`sim.market.events.data_breach`).
    """
    books, inv, p = market.bookkeeper, market.investors, platform.index
    taken = 0
    if kinds is None:
        kinds = reachable_kinds(platform.config.liquidity.custody, platform.is_fund_pool)
    for kind in kinds:
        if kind in (AccountKind.INVESTOR_CASH, AccountKind.WITHDRAWALS_QUEUED):
            holdings = inv.cash_fen if kind == AccountKind.INVESTOR_CASH else inv.queued_fen
            cut = taken_by_operators(holdings[:, p], share)
            holdings[:, p] -= cut
            inv.principal_lost_fen += cut
            inv.net_income_fen -= cut
            amount = int(cut.sum())
            market.totals["investor_income_fen"] -= amount
            platform.investor_income_fen -= amount
            platform.run.add_loss(cause, amount)
        else:
            amount = int(taken_by_operators(books.balance(platform, kind), share))
        books.move(platform, kind, WORLD, amount, memo)
        taken += amount
    if cause == "taken":
        platform.run.taken_fen += taken
    return taken


def close(market, platform, day: int) -> None:
    """清盘: the current loans are sold at the fire-sale price and everyone asks for the rest.

    Inside an industry a closure collects its loans instead, as every platform of the industry
    does (its borrowers keep paying the share its failure type keeps,
    :data:`sim.industry.failures.KEEPS_PAYING`): one exit for pooled and detailed platforms. A fund
    pool's holders share, pro rata, the pool's cash and what is left of the platform's own.
    """
    if market.industry is None:
        price = platform.config.liquidity.fire_sale_price
        sell_loans(market, platform, current_loans(market, platform), price)
    market.runs.everyone_asks(platform, day)
    if platform.is_fund_pool:
        books = market.bookkeeper
        own = books.balance(platform, AccountKind.PLATFORM_CASH)
        pay_from_own_cash(market, platform, AccountKind.POOL_CASH, own, Memo.POOL_SUPPORT)
        market.runs.queue.pay(platform, books.balance(platform, AccountKind.POOL_CASH), day,
                              pro_rata=True)
