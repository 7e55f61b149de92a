"""The pooled platforms' investors decide: stop reinvesting, come back, and where withdrawn money goes.

Three decisions of the detailed engine's investors (docs/runs.md), made here for a million
positions at once:

* **Stop reinvesting** (不再复投): a position stops lending when its platform's *fear* exceeds its
  investor's *nerve*. The fear of platform ``p`` is ``stop_sensitivity × sentiment ×
  vulnerability[p]`` (the industry's mood, read more darkly for a platform that looks weak); the
  nerve is a uniform 0-1 drawn once per investor (keyed by the investor's id), so a timid investor
  stops early on every platform and a bold one late. A stopped position deposits nothing new and
  asks back its share of the platform's cash every day: its idle cash at once (提取闲置资金), then
  its repayments and interest as they come in. Its loans cannot be called back: its balance runs
  off only as they mature or default. So active investors and new lending fall at once, the
  outstanding balance only at the speed of maturities.
* **Come back** when calm returns: a stopped position lends again once the fear falls below
  ``return_ratio`` × its nerve (hysteresis: less fear than made it stop).
* **Flight to quality** (资金向头部平台集中): ``flight_share`` of the frightened money paid out to
  investors (to those who stopped reinvesting, and everything a failed or banned platform pays
  back; not the ordinary withdrawals of calm times, which are spent) is deposited again, the same
  day, with the normal platforms investors trust more, in proportion
  to their money × trust, trust being ``vulnerability ** -quality_preference`` (the vulnerability
  reads owner type, age, registered capital, province and bank custody, :func:`sim.industry.
  failures.vulnerability`). It is credited to those platforms' lending positions pro rata; the
  rest leaves the industry. The investor's identity is not followed: what moves is money between
  platforms, conserved to the fen (``withdrawn = redeposited + left``).

Each is off at zero strength (``stop_sensitivity = 0``, ``flight_share = 0``) and then changes
nothing, to the fen.
"""

from __future__ import annotations

import numpy as np

from sim.kernels.positions import credit, decide, group_sums
from sim.ledger import WORLD, AccountKind, Memo
from sim.randomness import keyed_uniforms

CASH = AccountKind.INVESTOR_CASH


def draw_nerve(industry) -> np.ndarray:
    """Each investor's nerve, uniform 0-1, keyed by the investor's id (its own stream)."""
    return keyed_uniforms(industry.keys["nerve"], np.arange(industry.config.investors))


def fear(industry) -> np.ndarray:
    """Each platform's fear today: ``stop_sensitivity × sentiment × vulnerability``."""
    behaviour = industry.config.behaviour
    return behaviour.stop_sensitivity * industry.sentiment * industry.vulnerability


def reinvesting_day(industry, day: int) -> None:
    """Positions stop or resume reinvesting; the stopped ones ask back their share of the cash."""
    behaviour = industry.config.behaviour
    if behaviour.stop_sensitivity <= 0:
        return
    pos = industry.positions
    normal = industry.open_pooled
    stopped, resumed = decide(pos.group_start, pos.investor, pos.lending, industry.nerve,
                              fear(industry), behaviour.return_ratio, normal)
    industry.tracker.add("stopped_reinvesting", stopped)
    industry.tracker.add("resumed_reinvesting", resumed)
    money = industry.money_fen()
    cash = industry.market.ledger.accounts[CASH]
    share = np.divide(cash, money, out=np.zeros(industry.n), where=money > 0)
    industry.request({"stopped_reinvesting": np.where(normal, np.clip(share, 0.0, 1.0), 0.0)}, day,
                     idle_only=True)


def lending_money_fen(industry) -> np.ndarray:
    """Per platform, the money of the positions still lending (fen)."""
    pos = industry.positions
    return group_sums(pos.group_start, pos.balance_fen, only=pos.lending)


def destinations(industry) -> np.ndarray:
    """Weights of the platforms withdrawn money flies to: money of lending positions × trust."""
    trust = industry.vulnerability ** -industry.config.behaviour.quality_preference
    weight = np.where(industry.open_pooled, lending_money_fen(industry) * trust, 0.0)
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
