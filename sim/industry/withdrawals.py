"""The pooled platforms' liquidity day: requests, new money, payments, and 提现困难.

Called once a day after the detailed platforms' runs (:meth:`sim.industry.part.Industry.liquidity_day`):

1. the day's gains and losses are shared among the positions; investors decide, by their trust
   and the one decision rule, to stop reinvesting, run or come back (:mod:`sim.runs.pooled`);
2. in one pass over the positions (:func:`ask_deposit_pay`): requests (:func:`todays_shares`),
   everything back where a platform winds down or failed, ordinary withdrawals, a redemption
   gate capping them (the contagion channels act through trust, step 1); new money
   (:func:`new_money_rate`), less as sentiment sours; payments, the oldest request first, from
   the investors' cash;
3. the frightened money flies to quality; each platform's day in the one state machine
   (:func:`difficulty`).
"""

from __future__ import annotations

import numpy as np

from sim.industry import failures, investors
from sim.kernels.positions import ask_deposit_settle
from sim.kernels.positions import request as request_kernel
from sim.ledger import WORLD, AccountKind, Memo
from sim.runs import flows
from sim.runs.pooled import cash_share

CASH = AccountKind.INVESTOR_CASH


def liquidity_day(industry, day: int) -> None:
    """Requests, deposits and payments of the pooled platforms' investors; their states."""
    industry.share()
    decided(industry, day)
    ask_deposit_pay(industry, day)


def decided(industry, day: int) -> None:
    """The positions' decisions today (:mod:`sim.runs.pooled`), turned into requests.

    A position that stopped reinvesting asks back its idle cash (its share of the platform's cash);
    one that runs asks back all its money not yet asked for; neither asks while already waiting.
    """
    pooled = industry.market.runs.pooled
    if pooled is None:
        return
    stopping, running, n_stopping, n_running = pooled.day(day)
    if n_stopping:  # a day when nobody decides asks nothing: no pass over the positions
        industry.request({"stopped_reinvesting": cash_share(industry)}, day, asking=stopping)
    if n_running:
        industry.request({"ran": np.where(industry.open_pooled, 1.0, 0.0)}, day, asking=running)


def ask_deposit_pay(industry, day: int) -> None:
    """Today's requests, new money and payments in one pass over the positions; then the states.

    Requests (:func:`todays_shares`) are capped by the redemption gate; new money comes on the
    normal platforms (:func:`new_money_rate`); the queues are paid from the investors' cash, the
    oldest request first (:func:`sim.kernels.positions.ask_deposit_settle`). The frightened money
    flies to quality; then each platform's day in the one state machine (:func:`difficulty`).
    """
    shares = todays_shares(industry)
    pos, ledger = industry.positions, industry.market.ledger
    asked, new, paid, left, idle = ask_deposit_settle(
        pos.group_start, pos.balance_fen, pos.queued_fen, pos.queued_since, pos.lending,
        gated(industry, shares), new_money_rate(industry), ledger.accounts[CASH], industry.pooled,
        ~industry.fund_pool, day)
    record_asked(industry, asked, {reason: share for reason, share in shares.items()
                             if reason != "failed"})  # a failed platform's: no reason recorded
    ledger.post(WORLD, CASH, new, Memo.DEPOSIT)
    industry.tracker.add("deposits", new.sum(), new)
    industry.queued_left = left
    ledger.post(CASH, WORLD, paid, Memo.WITHDRAWAL)
    industry.tracker.add("withdrawals", paid.sum(), paid)
    normal = industry.pooled & industry.operating
    investors.fly_to_quality(industry, np.where(normal, idle, paid))  # the frightened money
    difficulty(industry, day, left)


def todays_shares(industry) -> dict[str, np.ndarray]:
    """Per reason, the share of its free balance each position asks back today, per platform.

    Everything where a platform failed (``failed``) or regulators wind it down (``regulators``);
    ordinary withdrawals (``withdrawal_daily``) on the normal ones. The contagion channels act
    through trust (:mod:`sim.runs.pooled`), not here.
    """
    normal = industry.pooled & industry.operating
    failed = industry.pooled & ~normal & ~industry.banned
    return {"failed": np.where(failed, 1.0, 0.0),
            "regulators": np.where(industry.pooled & industry.banned, 1.0, 0.0),
            "ordinary": np.where(normal, flows.withdrawal_rates(industry), 0.0)}


def request(industry, shares: dict[str, np.ndarray], day: int, record: bool = True,
            asking: np.ndarray | None = None) -> None:
    """Positions ask back ``sum(shares)`` of their free balance, per platform; it queues.

    With ``asking`` (bool per position) only those ask that are not already waiting. The
    redemption gate refuses what exceeds its share of a platform's money today (:func:`gated`).
    What was asked is recorded by reason (:func:`record_asked`) unless ``record`` is False.
    """
    pos = industry.positions
    asked = request_kernel(pos.group_start, pos.balance_fen, pos.queued_fen, pos.queued_since,
                           gated(industry, shares), day, asking)
    if record:
        record_asked(industry, asked, shares)


def gated(industry, shares: dict[str, np.ndarray]) -> np.ndarray:
    """Per platform, the share of the free balance asked: ``sum(shares)``, capped by the gate."""
    total = np.minimum(sum(shares.values()), 1.0)
    if industry.config.policies.redemption_gate_daily < 1.0:
        free = industry.positions.platform_totals_fen(industry.positions.balance_fen
                                                      - industry.positions.queued_fen)
        total = np.minimum(total, gate_room(industry, free * total) * total)
    return total


def record_asked(industry, asked_fen: np.ndarray, shares: dict[str, np.ndarray]) -> None:
    """What was asked per platform (fen), recorded by reason in proportion to each one's share.

    :class:`sim.runs.contagion.RequestLog`; a platform none of ``shares`` asks of records nothing.
    """
    summed = sum(shares.values())
    for reason, share in shares.items():
        part = np.divide(share, summed, out=np.zeros(industry.n), where=summed > 0)
        industry.requests.add(reason, np.floor(asked_fen * part).astype(np.int64))


def gate_room(industry, asked_fen: np.ndarray) -> np.ndarray:
    """Per platform, the share of ``asked_fen`` the redemption gate lets in today (0-1).

    The gate lets at most ``redemption_gate_daily`` of a platform's money be asked for in a
    day, whatever asks it; the rest is refused.
    """
    gate = industry.config.policies.redemption_gate_daily
    if gate >= 1.0:
        return np.ones(industry.n)
    room = np.maximum(gate * industry.money_fen() - industry.requests.today.sum(axis=0), 0)
    return np.minimum(1.0, np.divide(room, asked_fen, out=np.ones(industry.n),
                                     where=asked_fen > 0))


def new_money_rate(industry) -> np.ndarray:
    """Per platform, the daily new money of a lending position (:func:`sim.runs.flows.deposit_rates`)."""
    return np.where(industry.pooled, flows.deposit_rates(industry), 0.0)


def difficulty(industry, day: int, unpaid_fen: np.ndarray) -> None:
    """The pooled platforms' day in the one state machine (:class:`RunStates`).

    A pooled platform is late while what it promised to pay on demand (``liquidity_promise``
    of what is unpaid) exceeds ``difficulty_share`` of its investors' money; then it is in
    提现困难 (its borrowers strike, as a detailed platform's do), normal again once it is not
    late, and a failure (提现困难) after ``fail_after_days`` in it. A platform winding down pays
    as its loans mature: it is not late.
    """
    behaviour = industry.config.behaviour
    late = flows.late(industry, unpaid_fen)
    moving = np.flatnonzero(industry.pooled & industry.launched & industry.operating
                            & ~industry.failing)
    entered, failing = industry.market.run_states.update(moving, late[moving], day,
                                                     behaviour.fail_after_days)
    industry.market.runs.in_trouble(entered)
    failing_now = np.zeros(industry.n, dtype=bool)
    failing_now[failing] = True
    failures.mark(industry, failing_now, "run", "提现困难")

