"""How the industry's platforms fail, and what a failure does (the trackers' 问题平台).

* :func:`background`: a pooled platform fails from the calibrated hazard (:mod:`sim.industry.hazard`),
  times a regulators' tightening where one holds; the part the tightening adds is put down to the
  regulators. Each platform's draw of the day is keyed by (platform, day).
* :func:`mark`: a failure for today, with its cause and its type (停业, 跑路, 提现困难, 经侦介入, 转型).
* :func:`detailed_failures`: a detailed platform that failed today by its own mechanics (a run it
  could not pay, costs it could not meet, its operators fled) is a failure of the industry too.
* :func:`fail_today`: today's failures take their state (跑路 only without bank custody; an orderly
  exit winds down instead), stop their borrowers paying in part (逃废债), let operators who fled take
  the cash, ask every investor's money back, and go through the contagion channels.
"""

from __future__ import annotations

import numpy as np

from sim.industry.hazard import FAILURE_TYPES
from sim.ledger import WORLD, AccountKind, Memo
from sim.randomness import keyed_uniforms
from sim.runs.failure import reachable_kinds, taken_by_operators
from sim.runs.states import RunState
from sim.scenario.industry import month_index

CAUSES = ("background", "regulators", "named", "run", "costs")  # run: froze withdrawals (提现困难);
# costs: could not pay its costs, its owners' capital spent (as a detailed platform's treasury)
# the chance a borrower of a failed platform still pays an instalment, by type of failure
KEEPS_PAYING = {"停业": 0.7, "跑路": 0.3, "提现困难": 0.6, "经侦介入": 0.5, "转型": 0.8}
ORDERLY_KEEPS_PAYING = 0.95  # wound down in an orderly exit (良性退出)
CUSTODY_TRUST = 0.6  # a platform with bank custody sees 0.6x the panic withdrawals of one without


def period(industry, day: int) -> str:
    """The calendar period of the background hazard on ``day``."""
    chosen = industry.config.background_period
    if chosen != "calendar":
        return chosen
    month = industry.first_month + day // 30
    year = 2000 + month // 12
    if month >= month_index("2017-07"):
        return industry.hazard.periods[-1]
    return "2017H1" if year >= 2017 else ("to 2013" if year < 2014 else str(year))


def monthly_hazard(industry, day: int) -> np.ndarray:
    """Each platform's calibrated background hazard a month on ``day`` (its age, its terms)."""
    p = industry.platforms
    age = np.maximum(industry.first_month - p.launch_month + day // 30, 0)
    return industry.hazard.monthly(age, period(industry, day), p.province, p.owner,
                                   p.registered_capital_cny)


def vulnerability(industry) -> np.ndarray:
    """How much more than the typical platform its investors flee in a panic (flight to quality).

    The platform's calibrated background hazard on day 0 over the drawn platforms' median, within
    0.25..4, times :data:`CUSTODY_TRUST` with bank custody: investors read the same signals the
    hazard does (owner, age, capital) and trusted a bank's custody. The median is of the drawn
    platforms alone, so that a platform in full detail among them moves none of theirs.
    """
    hazard = monthly_hazard(industry, 0)
    drawn = industry.launched & industry.pooled
    relative = np.clip(hazard / np.median(hazard[drawn]), 0.25, 4.0)
    return relative * np.where(industry.platforms.custody, CUSTODY_TRUST, 1.0)


def ban(industry, platforms: np.ndarray, day: int) -> None:
    """A regulators' ban winds ``platforms`` (bool per platform) down: not a problem platform.

    A pooled platform's state moves here; a detailed one's by its own failure (良性退出).
    """
    pooled = platforms & industry.pooled
    industry.market.run_states.fail(pooled, RunState.WIND_DOWN, day)
    industry.banned |= platforms
    industry.cause[pooled] = CAUSES.index("regulators")


def mark(industry, platforms: np.ndarray, cause: str, kind: str | np.ndarray) -> None:
    """``platforms`` (bool per platform) fail today for ``cause``, of ``kind`` (a type or one each).

    A detailed platform that failed today by its own mechanics is marked too (its state moved
    already): ``alive`` is not asked of it.
    """
    new = platforms & ~industry.failing & (industry.alive | ~industry.pooled)
    if not new.any():
        return
    industry.failing |= new
    industry.causes[new] = CAUSES.index(cause)
    kinds = np.asarray(kind)
    industry.failure_type[new] = (FAILURE_TYPES.index(kind) if kinds.ndim == 0
                                  else kinds[new])


def background(industry, day: int) -> None:
    """Failures from the calibrated hazard today; the part a tightening adds is the regulators'."""
    hazard = monthly_hazard(industry, day)
    at_risk = industry.open_pooled & ~industry.failing
    base = -np.expm1(-hazard / 30)
    total = -np.expm1(-hazard * industry.hazard_multiplier / 30)
    industry.expected_background += float(base[at_risk].sum())
    u = keyed_uniforms(industry.keys["failures"], industry.number, day)
    background_ = at_risk & (u < base)
    regulators = at_risk & (u >= base) & (u < total)
    kinds = failure_types(industry, day)
    mark(industry, background_, "background", kinds)
    mark(industry, regulators, "regulators", kinds)


def failure_types(industry, day: int) -> np.ndarray:
    """The type each platform would fail as today (a keyed draw from the period's mix)."""
    shares = industry.hazard.failure_types[period(industry, day)]
    cumulative = np.cumsum(shares / shares.sum())
    u = keyed_uniforms(industry.keys["failure_types"], industry.number, day)
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(FAILURE_TYPES) - 1)


def detailed_failures(industry, day: int) -> None:
    """Detailed platforms that failed today by their own mechanics join today's failures."""
    failed = np.zeros(industry.n, dtype=bool)
    kinds = np.zeros(industry.n, dtype=np.int8)
    for platform in industry.market.platforms:
        p = platform.index
        if platform.run.failed_day == day and industry.problem_day[p] < 0 \
                and not industry.failing[p] and not industry.banned[p]:
            failed[p] = True
            how = platform.run.failure
            kinds[p] = FAILURE_TYPES.index({"flee": "跑路", "closure": "提现困难"}.get(how, "停业"))
    mark(industry, failed, "run", kinds)


def operators_flee(industry, fleeing: np.ndarray) -> None:
    """跑路 on the pooled platforms ``fleeing`` (bool per platform): the detailed platform's rule.

    The operators take ``flee_share`` of every account they can reach
    (:func:`sim.runs.failure.reachable_kinds`, by the platform's custody); what they take of the
    investors' cash is the investors' loss, shared among the platform's positions pro rata.
    """
    if not fleeing.any():
        return
    ledger, share = industry.market.ledger, industry.config.behaviour.flee_share
    custody, with_custody = industry.platforms.custody, reachable_kinds(True, fund_pool=False)
    for kind in reachable_kinds(custody=False, fund_pool=False):
        can = fleeing if kind in with_custody else fleeing & ~custody
        taken = np.where(can, taken_by_operators(ledger.accounts[kind], share), 0)
        ledger.post(kind, WORLD, taken, Memo.TAKEN_BY_OPERATORS)
        if kind == AccountKind.INVESTOR_CASH:
            industry.loss += taken
            industry.tracker.add("losses", taken.sum())
        industry.tracker.add("taken", taken.sum())
    industry.share()


def fail_today(industry, day: int) -> None:
    """Today's failures: state, type, the money taken or frozen; then the contagion channels."""
    failing = industry.failing
    if not failing.any():
        return
    orderly = industry.config.policies.orderly_exit
    fled = FAILURE_TYPES.index("跑路")
    custody = industry.platforms.custody & (industry.failure_type == fled) & failing
    industry.failure_type[custody] = FAILURE_TYPES.index("停业")  # the bank holds the cash
    pooled = failing & industry.pooled  # a detailed platform's failure moved its state already
    market = industry.market
    market.run_states.fail(pooled, np.where(
        orderly, RunState.WIND_DOWN,
        np.where(industry.failure_type[pooled] == fled, RunState.FLED, RunState.CLOSED)), day)
    market.runs.in_trouble(np.flatnonzero(pooled))  # borrowers strike, as a detailed one's do
    industry.cause[failing] = industry.causes[failing]
    industry.problem_day[failing] = day
    keeps = np.array([KEEPS_PAYING[t] for t in FAILURE_TYPES])[industry.failure_type[failing]]
    market.risk_tables.strike_floor[failing] = 1.0 - (ORDERLY_KEEPS_PAYING if orderly else keeps)
    money = industry.money_fen()
    industry.tracker.failed(failing, money, industry.requests.shares(np.flatnonzero(failing)))
    if not orderly:
        operators_flee(industry, pooled & (industry.failure_type == fled))
    industry.request({"failed": np.where(pooled, 1.0, 0.0)}, day, record=False)  # all of it back
    industry.channels.spread(failing, money, day)
    industry.failing[:] = False
    industry.causes[:] = -1
