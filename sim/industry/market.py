"""The industry run: a thousand platforms and a million investors on one daily clock (Mesa model).

One step is one day of the 30/360 calendar. Per-platform state is arrays (state, stress days, hazard
multiplier), money is the vector ledger (:mod:`sim.industry.ledger`), loans are one book
(:mod:`sim.industry.loanbook`), investors' money is sparse positions sorted by platform. The day:

1. the month's events (regulators, a named collapse) on its first day;
2. investors ask for money back: ordinary withdrawals (times sentiment), gated if a gate is set;
3. new money comes in; each platform pays what it asked from its cash; a platform that cannot pay
   a large share for ``freeze_after_days`` days in a row freezes (提现困难);
4. loans due today are serviced; interest and losses are shared among the platform's investors;
5. platforms lend their spare cash;
6. background failures (the calibrated hazard) and today's runs and events become failures, and the
   failures travel through the contagion channels to tomorrow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.industry import channels as ch
from sim.industry.config import month_index
from sim.industry.events import Classes, chosen, events_by_day
from sim.industry.failures import ALARM_DAYS, Failures
from sim.industry.hazard import FAILURE_TYPES, load_hazard
from sim.industry.kernels import allocate, portions
from sim.industry.ledger import WORLD, VectorLedger
from sim.industry.loanbook import IndustryLoans, draw_loans, fits_within, opening_book
from sim.industry.population import BUSINESS_MODELS, PLATFORMS_FILE, draw_industry
from sim.industry.positions import draw_positions
from sim.industry.scenario import load_industry_scenario
from sim.industry.states import CAUSES, FAILED, OPERATING, WINDING_DOWN
from sim.industry.tracker import Tracker

# the share of what investors ask back that the platform promised to pay on demand (活期, 随时赎回,
# buy-back of notes): unpaid beyond it is only waiting for loans to mature, which stresses no one
LIQUIDITY_PROMISE = {"pure_intermediary": 0.2, "reserve_fund": 0.5, "guarantor_p2b": 0.5,
                     "online_offline": 0.5, "fund_pool": 1.0}
CUSTODY_TRUST = 0.6  # a platform with bank custody sees 0.6x the panic withdrawals of one without
POOL_BUFFER, POOL_TERM = 0.5, 2.0  # a fund pool keeps half the buffer and lends twice as long


class IndustryMarket(Failures, mesa.Model):
    """An industry of platforms, investors across them and the contagion between them."""

    def __init__(self, scenario: str | Path | dict | None = None, *, rng: int | None = None,
                 audit: bool = False, **overrides: Any) -> None:
        config = load_industry_scenario(scenario, overrides)
        seed = config.run.seed if rng is None else int(rng)
        super().__init__(rng=seed)
        self.config, self.seed, self.audit = config, seed, audit
        self.day = 0
        self.horizon_days = 30 * config.run.months
        self.first_month = month_index(config.run.start)
        self.hazard = load_hazard()
        self._build_industry()
        self._build_investors()
        self._build_book()
        self.events = events_by_day(config.events, config.run.start)
        self.tracker = Tracker(self)

    # -- building ------------------------------------------------------------------------------
    def _build_industry(self) -> None:
        ind_cfg, rng = self.config.industry, self.rng
        pool = Path(self.config.source_dir) / ind_cfg.platforms_file if ind_cfg.platforms_file \
            else PLATFORMS_FILE
        self.industry = draw_industry(ind_cfg.platforms, rng, self.hazard.provinces,
                                      ind_cfg.model_shares, ind_cfg.custody_by_owner, pool=pool)
        n = len(self.industry)
        if self.config.policies.custody_mandate:
            self.industry.custody[:] = True
        self.classes = Classes(self.industry, rng.random(n) < ind_cfg.registered_share)
        self.state = np.full(n, OPERATING, dtype=np.int8)
        self.failure_type = np.full(n, -1, dtype=np.int8)
        self.cause = np.full(n, -1, dtype=np.int8)
        self.failure_day = np.full(n, -1, dtype=np.int32)
        self.stress_days = np.zeros(n, dtype=np.int32)
        self.hazard_multiplier = np.ones(n)
        self.multiplier_until = np.zeros(n, dtype=np.int32)
        self.keeps_paying = np.ones(n)
        pool_model = self.industry.business_model == BUSINESS_MODELS.index("fund_pool")
        behaviour = self.config.behaviour
        self.cash_buffer = np.where(pool_model, POOL_BUFFER, 1.0) * behaviour.cash_buffer
        self.term_months = np.clip(self.industry.average_term_months, 1, 24) * np.where(
            pool_model, POOL_TERM, 1.0)
        self.loan_rate = np.clip(self.industry.annual_yield, 0.04, 0.24) / (1 - behaviour.service_fee)
        self.default_monthly = np.full(n, behaviour.loan_default_monthly)
        self.liquidity_promise = np.array([LIQUIDITY_PROMISE[m] for m in BUSINESS_MODELS])[
            self.industry.business_model]
        self.has_reserve = self.industry.business_model == BUSINESS_MODELS.index("reserve_fund")
        self.sentiment = 0.0
        self.expected_background = 0.0
        self.recent_co_debt = np.zeros(n)  # 共债 losses of about the last month, fen
        self.vulnerability = self._vulnerability()

    def _vulnerability(self) -> np.ndarray:
        """How much more than the typical platform its investors flee in a panic (flight to quality).

        The platform's calibrated background hazard on day 0 over the industry's median, within
        0.25..4, times 0.6 with bank custody: investors read the same signals the hazard does (owner,
        age, capital) and trusted a bank's custody.
        """
        ind = self.industry
        age = np.maximum(self.first_month - ind.launch_month, 0)
        hazard = self.hazard.monthly(age, self._period(), ind.province, ind.owner,
                                     ind.registered_capital_cny)
        relative = np.clip(hazard / np.median(hazard), 0.25, 4.0)
        return relative * np.where(ind.custody, CUSTODY_TRUST, 1.0)

    def _build_investors(self) -> None:
        ind_cfg = self.config.industry
        drawn = draw_positions(ind_cfg.investors, self.industry.investors.astype(float), self.rng,
                               ind_cfg.mean_platforms_per_investor, ind_cfg.platform_dispersion,
                               ind_cfg.median_wealth_cny, ind_cfg.wealth_sigma)
        self.positions = drawn.sorted_by_platform()
        self.ledger = VectorLedger(len(self.industry))
        self.ledger.post(WORLD, "investor_cash", self.positions.platform_totals_fen(), "deposit")
        self.network = ch.Network(ind_cfg.investors, self.config.channels.network.degree, self.rng)
        self.requests = ch.RequestLog(len(self.industry))
        self.last_alarm = np.full(ind_cfg.investors, -ALARM_DAYS, dtype=np.int32)

    def _build_book(self) -> None:
        co = self.config.channels.co_debt
        money = self.ledger.accounts["investor_cash"]
        target = np.floor(money * (1 - self.cash_buffer)).astype(np.int64)
        loans, self.next_borrower = opening_book(
            target, self.config.industry.mean_loan_cny, self.term_months, self.loan_rate, self.rng,
            (co.share_of_loans, co.loans_per_borrower))
        self.loans = IndustryLoans(int(loans["orig_day"].min(initial=-1)), self.horizon_days,
                                   capacity=2 * len(loans["principal"]) + 1024)
        for day in np.unique(loans["orig_day"]):
            rows = loans["orig_day"] == day
            self.loans.append(int(day), {k: v[rows] for k, v in loans.items()})
        book = np.bincount(loans["platform"], loans["balance"], len(self.industry)).astype(np.int64)
        self.ledger.post("investor_cash", "investor_claims", book, "opening_book")
        self.stopped = np.zeros(self.next_borrower + 1, dtype=bool)

    # -- the day -------------------------------------------------------------------------------
    @property
    def alive(self) -> np.ndarray:
        """Bool per platform: operating or winding down (still paying its investors)."""
        return self.state != FAILED

    def money_fen(self) -> np.ndarray:
        """Investors' money on each platform (cash and claims), fen."""
        return self.ledger.accounts["investor_cash"] + self.ledger.accounts["investor_claims"]

    def step(self) -> None:
        """One day."""
        self.ledger.month = self.day // 30
        failing = np.zeros(len(self.industry), dtype=bool)
        causes = np.full(len(self.industry), -1, dtype=np.int8)
        if self.day % 30 == 0:
            self._month_start(failing, causes)
        self._ask()
        self._deposit()
        self._pay_withdrawals(failing, causes)
        self._service()
        self._lend()
        self._background(failing, causes)
        self._fail(failing, causes)
        self.requests.close_day()
        self.sentiment *= self.config.channels.sentiment.decay_daily
        if self.audit:
            self.check()
        self.tracker.close_day()
        self.day += 1

    def run(self, progress=None) -> None:
        """Run to the horizon; ``progress(day)`` is called after each day."""
        while self.day < self.horizon_days:
            self.step()
            if progress:
                progress(self.day)

    def _month_start(self, failing: np.ndarray, causes: np.ndarray) -> None:
        self._pay_recoveries()
        self._pay_costs()
        expired = self.multiplier_until <= self.day
        self.hazard_multiplier[expired] = 1.0
        for event in self.events.get(self.day, []):
            self._event(event, failing, causes)

    def _event(self, event, failing: np.ndarray, causes: np.ndarray) -> None:
        regulators = event.kind in ("tighten", "ban")
        if regulators and not self.config.channels.regulators.enabled:
            return
        hit = chosen(event, self.classes, self.money_fen(), self.alive & ~failing)
        if self.config.channels.sentiment.enabled:
            self.sentiment = min(1.0, self.sentiment + event.news)
        if event.kind == "tighten":
            self.hazard_multiplier[hit] = event.hazard_multiplier
            self.multiplier_until[hit] = self.day + 30 * event.months
        elif event.kind == "ban":
            hit &= self.state == OPERATING
            self.state[hit] = WINDING_DOWN
            self.cause[hit] = CAUSES.index("regulators")  # investors ask for everything: _ask
        else:
            failing |= hit
            causes[hit] = CAUSES.index("named")
            kind = "跑路" if event.kind == "collapse" else "经侦介入"
            self.failure_type[hit] = FAILURE_TYPES.index(kind)

    # -- investors' money ----------------------------------------------------------------------
    def _request(self, channel: str, asked: np.ndarray) -> None:
        """Add requests (fen per position) to the queue, within the redemption gate."""
        pos = self.positions
        gate = self.config.policies.redemption_gate_daily
        per_platform = pos.platform_totals_fen(asked)
        if gate < 1.0:
            room = np.maximum(np.floor(gate * self.money_fen()) - self.requests.today.sum(axis=0), 0)
            scale = np.minimum(1.0, np.divide(room, per_platform, out=np.ones(len(room)),
                                              where=per_platform > 0))
            asked = np.floor(asked * scale[pos.platform]).astype(np.int64)
            per_platform = pos.platform_totals_fen(asked)
        pos.queued_fen += asked
        self.requests.add(channel, per_platform)

    def _ask(self) -> None:
        pos, behaviour = self.positions, self.config.behaviour
        winding = self.state == WINDING_DOWN
        everything = np.where(winding, 1.0, 0.0)
        self._request("regulators", portions(pos.group_start, pos.balance_fen, pos.queued_fen,
                                             everything, True))
        ordinary = np.where(self.state == OPERATING, behaviour.withdrawal_daily, 0.0)
        self._request("ordinary", portions(pos.group_start, pos.balance_fen, pos.queued_fen,
                                           ordinary, True))
        co_debt = self.config.channels.co_debt
        if co_debt.enabled:
            losses = ch.loss_share(self.recent_co_debt, self.money_fen(),
                                   co_debt.withdrawal_multiplier)
            self._request("co_debt", portions(pos.group_start, pos.balance_fen, pos.queued_fen,
                                              np.where(self.state == OPERATING, losses, 0.0), True))
        sentiment = self.config.channels.sentiment
        if sentiment.enabled and self.sentiment > 0:
            extra = min(behaviour.withdrawal_daily * sentiment.withdrawal_multiplier
                        * self.sentiment, 1.0)
            self._request("sentiment", portions(pos.group_start, pos.balance_fen, pos.queued_fen,
                                                np.where(self.state == OPERATING,
                                                         np.minimum(extra * self.vulnerability, 1.0),
                                                         0.0), True))

    def _deposit(self) -> None:
        pos = self.positions
        rate = self.config.behaviour.deposit_daily * np.maximum(
            1.0 - self.sentiment * self.vulnerability, 0.0)
        new = portions(pos.group_start, pos.balance_fen, pos.queued_fen,
                       np.where(self.state == OPERATING, rate, 0.0), False)
        pos.balance_fen += new
        self.ledger.post(WORLD, "investor_cash", pos.platform_totals_fen(new), "deposit")
        self.tracker.add("deposits", new.sum())

    def _pay_withdrawals(self, failing: np.ndarray, causes: np.ndarray) -> None:
        pos, behaviour = self.positions, self.config.behaviour
        queued = pos.platform_totals_fen(pos.queued_fen)
        paid = np.where(self.alive, np.minimum(self.ledger.accounts["investor_cash"], queued), 0)
        parts = allocate(pos.group_start, pos.queued_fen, paid, True)
        pos.balance_fen -= parts
        pos.queued_fen -= parts
        self.ledger.post("investor_cash", WORLD, paid, "withdrawal")
        self.tracker.add("withdrawals", paid.sum())
        unpaid = (queued - paid) * self.liquidity_promise
        stressed = unpaid > behaviour.freeze_share * self.money_fen()
        # a platform winding down under the regulators pays as its loans mature: no freeze
        self.stress_days = np.where(stressed & (self.state == OPERATING), self.stress_days + 1, 0)
        frozen = self.stress_days >= behaviour.freeze_after_days
        new = frozen & ~failing
        failing |= new
        causes[new] = CAUSES.index("run")
        self.failure_type[new] = FAILURE_TYPES.index("提现困难")

    def _share(self, gain: np.ndarray, loss: np.ndarray) -> None:
        """Interest (gain) and losses shared among each platform's investors pro rata, to the fen."""
        pos = self.positions
        net_gain, net_loss = np.maximum(gain - loss, 0), np.maximum(loss - gain, 0)
        pos.balance_fen += allocate(pos.group_start, pos.balance_fen, net_gain, False)
        pos.balance_fen -= allocate(pos.group_start, pos.balance_fen, net_loss, True)
        np.minimum(pos.queued_fen, pos.balance_fen, out=pos.queued_fen)

    def _service(self) -> None:
        led, behaviour = self.ledger, self.config.behaviour
        repaid, interest, lost, by_co_debt = self.loans.service(
            self.day, int(self.rng.integers(2**31)), self.default_monthly, self.keeps_paying,
            self.stopped)  # nobody stops while the co-debt channel is off
        fee = np.floor(interest * behaviour.service_fee).astype(np.int64)
        led.post("investor_claims", "investor_cash", repaid, "repayment_principal")
        led.post(WORLD, "investor_cash", interest - fee, "repayment_interest")
        led.post(WORLD, "platform_cash", fee, "service_fee")
        led.post("investor_claims", WORLD, lost, "write_off")
        covered = np.where(self.has_reserve & self.alive,
                           np.minimum(led.accounts["reserve_fund"], lost), 0)
        led.post("reserve_fund", "investor_cash", covered, "reserve_payout")
        to_reserve = np.where(self.has_reserve & self.alive,
                              np.floor(fee * behaviour.reserve_share_of_fees), 0).astype(np.int64)
        led.post("platform_cash", "reserve_fund", to_reserve, "reserve_contribution")
        self._share(interest - fee + covered, lost)
        self.recent_co_debt = self.recent_co_debt * np.exp(-1.0 / 30) + by_co_debt
        self.tracker.add("losses", int(lost.sum() - covered.sum()))
        self.tracker.add("co_debt_losses", int(by_co_debt.sum()))

    def _lend(self) -> None:
        led, mean_loan = self.ledger, self.config.industry.mean_loan_cny * 100
        queued = self.positions.platform_totals_fen(self.positions.queued_fen)
        spare = led.accounts["investor_cash"] - queued - self.cash_buffer * self.money_fen()
        spare = np.where(self.state == OPERATING, np.maximum(spare, 0), 0)
        count = np.floor(spare / mean_loan).astype(np.int64)
        if count.sum() == 0:
            return
        platform = np.repeat(np.arange(len(count), dtype=np.int32), count)
        co = self.config.channels.co_debt
        loans = draw_loans(platform, self.config.industry.mean_loan_cny, self.term_months,
                           self.loan_rate, co.share_of_loans, co.loans_per_borrower,
                           self.next_borrower, self.rng)
        self.next_borrower += len(platform)
        keep = fits_within(loans["principal"], count, spare)
        loans = {k: v[keep] for k, v in loans.items()}
        loans["balance"] = loans["principal"]
        loans["orig_day"] = np.full(len(loans["principal"]), self.day, dtype=np.int32)
        self.loans.append(self.day, loans)
        lent = np.bincount(loans["platform"], loans["principal"], len(count)).astype(np.int64)
        led.post("investor_cash", "investor_claims", lent, "disbursement")
        self.tracker.add("volume", lent.sum())
        if self.next_borrower >= len(self.stopped):
            self.stopped = np.resize(self.stopped, 2 * self.next_borrower)
            self.stopped[self.next_borrower:] = False

    def _pay_recoveries(self) -> None:
        """A failed platform pays out what cash it has collected, pro rata, each month (回款)."""
        pos = self.positions
        paid = np.where(self.state == FAILED, self.ledger.accounts["investor_cash"], 0)
        pos.balance_fen -= allocate(pos.group_start, pos.balance_fen, paid, True)
        self.ledger.post("investor_cash", WORLD, paid, "recovery")
        self.tracker.add("recoveries", paid.sum())

    def _pay_costs(self) -> None:
        cost = np.floor(self.ledger.accounts["investor_claims"]
                        * self.config.behaviour.operating_cost_monthly)
        paid = np.minimum(self.ledger.accounts["platform_cash"], cost.astype(np.int64))
        self.ledger.post("platform_cash", WORLD, paid, "operating_cost")

    def check(self) -> None:
        """Raise unless the ledger balances to the fen and the positions add up exactly.

        Each platform's positions must hold its investors' money (cash and claims) to the fen.
        """
        self.ledger.check()
        held = self.positions.platform_totals_fen()
        if not np.array_equal(held, self.money_fen()):
            p = int(np.flatnonzero(held != self.money_fen())[0])
            from sim.ledger import LedgerError
            raise LedgerError(f"platform {p}: positions hold {held[p]} fen, the ledger "
                              f"{self.money_fen()[p]} fen on day {self.day}")
        if (self.positions.queued_fen > self.positions.balance_fen).any():
            raise AssertionError("a position asked for more than it holds")
