"""Where the pooled platforms' frightened money goes: flight to quality (资金向头部平台集中).

``flight_share`` of the frightened money paid out to investors (to those who stopped reinvesting or
ran, and everything a failed or banned platform pays back; not the ordinary withdrawals of calm
times, which are spent) is deposited again, the same day, with the normal platforms investors trust
more, in proportion to their money × trust, trust being ``vulnerability ** -quality_preference``
(the vulnerability reads owner type, age, registered capital, province and bank custody,
:func:`sim.industry.failures.vulnerability`). It is credited to those platforms' lending positions
pro rata; the rest leaves the industry. The investor's identity is not followed: what moves is money
between platforms, conserved to the fen (``withdrawn = redeposited + left``). At ``flight_share =
0`` it is off and changes nothing, to the fen.

Whether an investor stops reinvesting or runs is decided by trust and the one decision rule, for
pooled and detailed platforms alike (:mod:`sim.runs.pooled`).
"""

from __future__ import annotations

import numpy as np

from sim.kernels.positions import credit, group_sums
from sim.ledger import WORLD, AccountKind, Memo

CASH = AccountKind.INVESTOR_CASH


def lending_money_fen(industry) -> np.ndarray:
    """Per platform, the money of the positions still lending (fen)."""
    pos = industry.positions
    return group_sums(pos.group_start, pos.balance_fen, only=pos.lending)


def destinations(industry) -> np.ndarray:
    """Weights of the platforms withdrawn money flies to: money of lending positions × trust."""
    trust = industry.vulnerability ** -industry.config.behaviour.quality_preference
    weight = np.where(industry.open_pooled & ~industry.shrinking,
                      lending_money_fen(industry) * trust, 0.0)  # none into a platform told to shrink
    return weight / weight.sum() if weight.sum() > 0 else weight


def fly_to_quality(industry, paid_fen: np.ndarray) -> None:
    """``flight_share`` of ``paid_fen`` (today's frightened withdrawals, per platform) deposited again."""
    share = industry.config.behaviour.flight_share
    total = int(np.floor(share * int(paid_fen.sum())))
    if share <= 0 or total <= 0:
        return
    weight = destinations(industry)
    if not weight.any():
        return
    amount = split_exactly(total, weight)
    pos = industry.positions
    credit(pos.group_start, pos.balance_fen, pos.lending, amount)
    industry.market.ledger.post(WORLD, CASH, amount, Memo.FLIGHT_TO_QUALITY)
    industry.tracker.add("redeposited", total, amount)


def split_exactly(total_fen: int, weight: np.ndarray) -> np.ndarray:
    """``total_fen`` split by ``weight`` (adding up to 1) into int64 fen adding up to it exactly.

    Floors first; the fen left go one each to the largest remainders (ties to the lower index).
    """
    exact = total_fen * weight
    amount = np.floor(exact).astype(np.int64)
    left = total_fen - int(amount.sum())
    if left > 0:
        order = np.argsort(-(exact - amount), kind="stable")[:left]
        amount[order] += 1
    return amount
