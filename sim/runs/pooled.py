"""Trust and decisions of the positions on pooled platforms: the one trust, the one decision rule.

A position (an investor's money on a pooled platform, :mod:`sim.agents.positions`) is the pooled
record of what a detailed platform's investor holds as cash and notes. It has a trust (0-1), moved
each day by the formula of a detailed investor's trust (:func:`sim.kernels.trust.update_trust` and
:func:`~sim.kernels.trust.update_position_trust` share it), and the scenario's decision rule
(``[runs] rule``, :mod:`sim.runs.rules`) decides what it does, with its investor's own parameters
(their anchor and threshold are the same on every pooled platform they hold):

* **stop reinvesting** (不再复投): the position deposits nothing new and asks back its idle cash
  (its share of the platform's cash) as it comes in; its loans run off as they are repaid;
* **run** (withdraw, sell notes, redeem: 挤兑): it asks back all its money not yet asked for;
* **come back** once its trust is above the rule's line again.

What a pooled position hears is what a detailed investor hears, from the platform's figures instead
of its own notes: its share of the platform's write-offs and of its loans that turned late today
(weighted by ``loss_weight`` and ``late_weight``, per unit of the investor's wealth); its own
withdrawal waiting (``delay_weight_daily``); the platform's disclosure (its loss rate a year over
``disclosure_tolerance``, by the detailed platform's monthly rule, and its unpaid requests over
its money, × ``disclosure_weight``); the
platform entering 提现困难 (``state_shock``), the dated events' news, the industry's sentiment and
co-debt losses (:meth:`sim.runs.contagion.Channels.wear`); and neighbours on the industry's network
who started to run on it (``herding_weight``). With ``[runs] enabled = false`` nobody decides.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.ledger import AccountKind
from sim.market.review import LOSS_WINDOW_MONTHS, annual_loss_rate
from sim.runs.rules import resolve_rule
from sim.runs.trust import NEVER, disclosed


class PositionTrust:
    """The trust of every position on a pooled platform, and the one rule deciding on it.

    Parameters
    ----------
    config : RunsConfig
        The scenario's ``[runs]``: weights, thresholds, rule.
    industry : Industry
        Its positions, platforms, network and the draws of its investors (stream ``trust``).
    search_dir : str or Path or None
        Where a rule named ``module:Class`` is looked for.
    """

    def __init__(self, config, industry, search_dir=None) -> None:
        self.config, self.industry = config, industry
        n = industry.config.investors
        rng = np.random.default_rng(industry.sequences["trust"])
        anchor = np.clip(config.initial_trust + config.trust_sd * rng.standard_normal(n), 0.0, 1.0)
        self.rule = resolve_rule(config.rule, search_dir)(config)
        self.rule.grow(n, rng)
        pos = industry.positions
        # per position, read in order: the investor's anchor and, for a rule of lines, its lines
        self.anchor = anchor.astype(np.float32)[pos.investor]
        self.lines = self.rule.lines(pos.investor)
        self.level = self.anchor.copy()
        self.ran_day = np.full(len(pos), NEVER, dtype=np.int32)
        self.last_ran = np.full(industry.n, NEVER, dtype=np.int32)  # a platform's latest run
        self.running = np.zeros(len(pos), dtype=bool)
        self.stopping = np.zeros(len(pos), dtype=bool)  # today's askers: stopped, not running
        self.ran = np.zeros(len(pos), dtype=bool)       # today's askers: running
        held = np.bincount(pos.investor, pos.balance_fen + industry.entrant_fen, n)
        self.wealth_fen = np.maximum(held, 100.0)
        self.own_rate = np.zeros(n)                      # an investor's news today per fen of wealth
        self.mine = np.zeros(len(pos))                   # the same, per position holding money
        adjacency = industry.channels.adjacency
        self.degree = np.maximum(np.asarray(adjacency.sum(axis=1)).ravel(), 1).astype(np.float32)
        self.shocked = np.zeros(industry.n)      # trust lost since the last update, per platform
        self.lost_today = np.zeros(industry.n)   # written off, less the reserve's cover, fen
        self.late_today = np.zeros(industry.n)   # balance of loans that missed today, fen
        self.defaulted_month = np.zeros(industry.n)  # this month's write-offs, fen
        self.defaulted_months = np.zeros((LOSS_WINDOW_MONTHS, industry.n))  # the last ones'
        self.months_reviewed = 0
        self.loss_rate = np.zeros(industry.n)  # disclosed at the month's opening, a year

    # ------------------------------------------------------------------ news

    def shock(self, platforms, size: float) -> None:
        """Every position on ``platforms`` (indices) loses ``size`` of trust, taken at the next update.

        Taken before that update's recovery, as a detailed investor's trust takes a shock at once.
        """
        np.add.at(self.shocked, np.atleast_1d(platforms), size)

    def shock_positions(self, rows: np.ndarray, size: float) -> None:
        """Positions ``rows`` lose ``size`` of trust at once (a channel reached their investor).

        As :meth:`sim.runs.trust.Trust.shock_rows` does to a detailed platform's investors.
        """
        if len(rows):
            self.level[rows] = np.clip(self.level[rows] - size, 0.0, 1.0)

    def written_off(self, principal_fen: np.ndarray, lost_fen: np.ndarray) -> None:
        """Today's write-offs per platform (``principal_fen``) and what investors lost of them."""
        self.lost_today += lost_fen
        self.defaulted_month += principal_fen

    def missed(self, platform: np.ndarray, balance_fen: np.ndarray) -> None:
        """Loans of ``platform`` with ``balance_fen`` missed a payment today (first time)."""
        self.late_today += np.bincount(platform, balance_fen, self.industry.n)

    def review_month(self) -> None:
        """A month opens: each platform discloses its loss rate, as a detailed platform's review.

        :func:`sim.market.review.annual_loss_rate` of the last ``LOSS_WINDOW_MONTHS`` months'
        write-offs over its book outstanding.
        """
        self.defaulted_months = np.roll(self.defaulted_months, 1, axis=0)
        self.defaulted_months[0] = self.defaulted_month
        self.defaulted_month = np.zeros(self.industry.n)
        self.months_reviewed += 1
        months = min(self.months_reviewed, LOSS_WINDOW_MONTHS)
        self.loss_rate = annual_loss_rate(self.defaulted_months.sum(axis=0), months,
                                          self.industry.outstanding_fen())

    def _disclosed(self, money_fen: np.ndarray) -> np.ndarray:
        """Per platform, trust lost today to what it discloses: loss rate over tolerance, queue."""
        owed = np.maximum(money_fen, 1)
        return disclosed(self.config, self.loss_rate, self.industry.queued_left / owed)

    # ------------------------------------------------------------------ the day

    def day(self, day: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Today's trust and decisions of the positions on open pooled platforms.

        Returns the positions asking today (bool per position: stopped and not running, running)
        and how many of each: the industry turns them into requests
        (:func:`sim.industry.withdrawals.decided`).
        """
        c, industry = self.config, self.industry
        pos, deciding = industry.positions, industry.open_pooled
        money = industry.money_fen().astype(float)
        news = (c.loss_weight * self.lost_today + c.late_weight * self.late_today) / np.maximum(
            money, 1.0)
        heard = bool((news[deciding] > 0).any())
        if heard:
            kernels.own_news(pos.investor, pos.balance_fen, news, pos.group_start, deciding,
                             self.wealth_fen, self.own_rate)
        hit = np.where(deciding, self._disclosed(money), 0.0)
        adjacency = industry.channels.adjacency
        kernels.update_position_trust(
            self.level, pos.investor, pos.balance_fen, self.anchor,
            self.own_rate if heard else None, self.mine, pos.queued_fen, pos.queued_since,
            self.shocked, hit, pos.group_start, deciding, self.ran_day, self.last_ran, day,
            c.herd_memory_days, adjacency.indptr, adjacency.indices, self.degree,
            (c.recovery_daily, c.delay_weight_daily, c.herding_weight))
        self.shocked[:] = 0.0
        self.lost_today[:] = 0.0
        self.late_today[:] = 0.0
        counts = self._decide(day, deciding).sum(axis=0)
        tracker = self.industry.tracker
        tracker.add("stopped_reinvesting", int(counts[0]))
        tracker.add("resumed_reinvesting", int(counts[1]))
        return self.stopping, self.ran, int(counts[2]), int(counts[3])

    def _decide(self, day: int, deciding: np.ndarray) -> np.ndarray:
        """The rule's decisions on the ``deciding`` platforms (the others keep theirs): counts."""
        pos = self.industry.positions
        given = None
        if self.lines is None:  # a rule of one's own decides in NumPy, applied by the same pass
            decisions = self.rule.decide(self.level[:, None], pos.investor)
            given = (decisions.stop_reinvesting[:, 0],
                     (decisions.withdraw | decisions.sell_notes | decisions.redeem)[:, 0])
        return kernels.decide_positions(self.level, self.lines, given, pos.group_start, deciding,
                                        pos.lending, self.running, self.ran_day, self.last_ran,
                                        day, self.stopping, self.ran)


def cash_share(industry) -> np.ndarray:
    """Per platform, the share of its investors' money held as cash (idle), 0-1."""
    money = industry.money_fen()
    cash = industry.market.ledger.accounts[AccountKind.INVESTOR_CASH]
    return np.clip(np.divide(cash, money, out=np.zeros(industry.n), where=money > 0), 0.0, 1.0)
