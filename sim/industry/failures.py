"""How platforms fail in an industry run, and how a failure travels to the others.

Mixed into :class:`sim.industry.market.IndustryMarket` (it reads the model's arrays):

* :meth:`Failures._background`: the calibrated hazard (``sim.industry.hazard``), times a
  regulators' tightening where one holds; the part the tightening adds is put down to the regulators;
* :meth:`Failures._fail`: today's failures take their type (跑路 only without bank custody), stop
  the platform's borrowers paying in part (逃废债), let operators who fled take the cash;
* :meth:`Failures._contagion`: the channels (:mod:`sim.industry.channels`) carry it to tomorrow.
"""

from __future__ import annotations

import numpy as np

from sim.industry import channels as ch
from sim.industry.config import month_index
from sim.industry.hazard import FAILURE_TYPES
from sim.industry.kernels import mark_stopped
from sim.industry.ledger import WORLD
from sim.industry.states import CAUSES, FAILED, OPERATING

# the chance a borrower of a failed platform still pays an instalment, by type of failure
KEEPS_PAYING = {"停业": 0.7, "跑路": 0.3, "提现困难": 0.6, "经侦介入": 0.5, "转型": 0.8}
ORDERLY_KEEPS_PAYING = 0.95  # wound down in an orderly exit (良性退出)
ALARM_DAYS = 30  # an investor pulls out on news of a failure at most once a month


class Failures:
    """The failure part of the industry model (a mixin: it uses the model's state)."""

    def _period(self) -> str:
        chosen_period = self.config.run.background_period
        if chosen_period != "calendar":
            return chosen_period
        month = self.first_month + self.day // 30
        year = 2000 + month // 12
        if month >= month_index("2017-07"):
            return self.hazard.periods[-1]
        return "2017H1" if year >= 2017 else ("to 2013" if year < 2014 else str(year))

    def _background(self, failing: np.ndarray, causes: np.ndarray) -> None:
        """Failures from the calibrated hazard, the part a tightening adds put down to regulators."""
        ind = self.industry
        age = self.first_month * 30 + self.day - ind.launch_month * 30
        hazard = self.hazard.monthly(np.maximum(age, 0) // 30, self._period(), ind.province,
                                     ind.owner, ind.registered_capital_cny)
        at_risk = (self.state == OPERATING) & ~failing
        base = -np.expm1(-hazard / 30)
        total = -np.expm1(-hazard * self.hazard_multiplier / 30)
        self.expected_background += float(base[at_risk].sum())
        u = self.rng.random(len(ind))
        background = at_risk & (u < base)
        regulators = at_risk & (u >= base) & (u < total)
        causes[background] = CAUSES.index("background")
        causes[regulators] = CAUSES.index("regulators")
        new = background | regulators
        types = self.hazard.failure_type(self._period(), int(new.sum()), self.rng)
        self.failure_type[new] = types
        failing |= new

    def _fail(self, failing: np.ndarray, causes: np.ndarray) -> None:
        """Today's failures: state, type, the money taken or frozen; then the contagion channels."""
        failing &= self.alive
        if not failing.any():
            return
        fled = FAILURE_TYPES.index("跑路")
        custody = self.industry.custody & (self.failure_type == fled) & failing
        self.failure_type[custody] = FAILURE_TYPES.index("停业")  # the bank holds the cash
        self.state[failing], self.cause[failing] = FAILED, causes[failing]
        self.failure_day[failing] = self.day
        orderly = self.config.policies.orderly_exit
        self.keeps_paying[failing] = ORDERLY_KEEPS_PAYING if orderly else np.array(
            [KEEPS_PAYING[FAILURE_TYPES[t]] for t in self.failure_type[failing]])
        money = self.money_fen()
        self.tracker.failed(failing, causes, money, self.requests.shares(np.flatnonzero(failing)))
        if not orderly:
            taken = np.where(failing & (self.failure_type == fled),
                             self.ledger.accounts["investor_cash"], 0)
            self.ledger.post("investor_cash", WORLD, taken, "absconded")
            self._share(np.zeros_like(taken), taken)
            self.tracker.add("losses", taken.sum())
        pos = self.positions
        pos.queued_fen[failing[pos.platform]] = 0
        self._contagion(failing, money)

    def _contagion(self, failing: np.ndarray, money: np.ndarray) -> None:
        cfg, pos = self.config.channels, self.positions
        hit = pos.investors_on(failing)
        live = self.alive[pos.platform]
        calm = self.day - self.last_alarm >= ALARM_DAYS
        told = self.network.told(hit) & calm if cfg.network.enabled else hit & False
        hit &= calm
        self.last_alarm[hit | told] = self.day
        if cfg.shared_investors.enabled:
            self._request("shared_investors", ch.pull_out(pos, hit, cfg.shared_investors.pull_share,
                                                          live))
        if cfg.network.enabled:
            self._request("network", ch.pull_out(pos, told, cfg.network.pull_share, live))
        if cfg.sentiment.enabled:
            share = money[failing].sum() / max(money.sum(), 1)
            self.sentiment = ch.sentiment_after(self.sentiment, share, int(failing.sum()), 0.0,
                                                cfg.sentiment)
        if cfg.co_debt.enabled:
            draws = self.rng.random(len(self.stopped))
            mark_stopped(self.loans.platform, self.loans.borrower, self.loans.status, failing,
                         self.stopped, draws, cfg.co_debt.stop_probability)
