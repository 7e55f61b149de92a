"""The industry around the market: pooled platforms, their investors' positions, failures, contagion.

A scenario with ``[industry]`` (:mod:`sim.scenario.industry`) is one market of many platforms. The
scenario's own ``[[platforms]]`` come first (indices ``0 .. D - 1``) and are run in full detail by
the market's parts; the platforms drawn from the WDZJ data follow (``D .. N - 1``) and are *pooled*:
their loans are in the one loan book without notes, serviced by the one kernel, booked in the one
ledger, and their investors own each platform's money pro rata through sparse positions
(:class:`sim.agents.positions.Positions`). This part does what is particular to the pooled
platforms and to the industry, at fixed points of the market's day (:meth:`sim.model.P2PMarket.step`):

1. after servicing and write-offs: interest and losses shared among the pooled platforms' investors
   (a reserve-fund platform's reserve covering losses first);
2. after the runs of the detailed platforms: the pooled platforms' investors ask for money back
   (ordinary withdrawals, times sentiment; the co-debt channel's; everything, on a platform that
   winds down or failed), deposit new money, and are paid from what cash there is, the oldest
   request first; a platform that cannot pay what it promised on demand is in 提现困难, and fails
   after ``fail_after_days`` in it (the one state machine, :class:`sim.runs.states.RunStates`);
3. after the marketplace: the pooled platforms lend their spare cash;
4. at the day's end: background failures (the calibrated hazard), platforms 提现困难 too long,
   named events and detailed platforms that failed today become failures, and the failures travel
   through the contagion channels (:mod:`sim.runs.contagion`) to tomorrow.

At a month's opening the pooled platforms pay their costs. Dated events (regulators, collapses) are
on the market's calendar (:mod:`sim.industry.events`). What is drawn per platform and day (failures,
new loans, co-debtors' decisions) comes from keyed draws (:mod:`sim.randomness`), so that switching
a channel or a policy, or adding a platform, moves no other draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.agents.positions import Positions, draw_positions
from sim.industry import entrants, failures, lending, withdrawals
from sim.industry.co_debt import CoDebtors
from sim.industry.hazard import load_hazard
from sim.industry.population import (
    BUSINESS_MODELS,
    PLATFORMS_FILE,
    draw_industry,
    platforms_in_industry,
)
from sim.industry.tracker import Tracker
from sim.kernels import ACTIVE
from sim.kernels import BuyOutTotals as B
from sim.kernels.positions import share as share_pro_rata
from sim.ledger import HELD_KINDS, WORLD, AccountKind, Memo
from sim.randomness import keyed_uniforms, stream_key
from sim.runs import contagion
from sim.runs.liquidity import own_cash_cover
from sim.runs.states import RunState
from sim.scenario.industry import month_index

INDUSTRY_STREAMS = ("platforms", "positions", "network", "failures", "failure_types", "lending",
                    "co_debt", "members", "opening", "registered", "servicing", "trust",
                    "entrants")
"""The industry's components, each with its own stream or key (a new one goes last)."""

# the share of what investors ask back that the platform promised to pay on demand (活期, 随时赎回,
# buy-back of notes): unpaid beyond it is only waiting for loans to mature, which stresses no one
LIQUIDITY_PROMISE = {"pure_intermediary": 0.2, "reserve_fund": 0.5, "guarantor_p2b": 0.5,
                     "online_offline": 0.5, "fund_pool": 1.0}
FINISHED_SHARE_TO_DROP = 0.25  # finished pooled loans leave the book past this share of its rows
CUSTODY_TRUST = 0.6  # a platform with bank custody sees 0.6x the panic withdrawals of one without
POOL_BUFFER, POOL_TERM = 0.5, 2.0  # a fund pool keeps half the buffer and lends twice as long
CASH, CLAIMS = AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_CLAIMS


class Industry:
    """The industry's platforms, their state, the pooled platforms' investors and the channels.

    Built in two steps: the platforms are drawn first (the ledger needs their names), then
    :meth:`attach` opens their books in the market.

    Parameters
    ----------
    config : Scenario
        The whole scenario (its ``industry`` table and its own platforms).
    seed : numpy.random.SeedSequence
        The industry's part of the run's seed; each of :data:`INDUSTRY_STREAMS` gets a child.
    """

    def __init__(self, config, seed: np.random.SeedSequence) -> None:
        cfg = config.industry
        self.config, self.scenario = cfg, config
        sequences = dict(zip(INDUSTRY_STREAMS, seed.spawn(len(INDUSTRY_STREAMS)), strict=True))
        self.sequences = sequences
        self.keys = {name: stream_key(sequence) for name, sequence in sequences.items()}
        self.hazard = load_hazard()
        folder = Path(config.source_dir or ".")
        self.pool_file = folder / cfg.platforms_file if cfg.platforms_file else PLATFORMS_FILE
        drawn = draw_industry(cfg.platforms, np.random.default_rng(sequences["platforms"]),
                              self.hazard.provinces, cfg.model_shares, cfg.custody_by_owner,
                              pool=self.pool_file)
        self.first_month = month_index(cfg.start)
        self.detailed = len(config.platforms)
        self.platforms = platforms_in_industry(config.platforms, drawn, self.first_month,
                                               self.hazard.provinces, self.pool_file,
                                               cfg.policies.custody_mandate)
        self.first_entrant = len(self.platforms)
        self.entrant_month = np.zeros(0, dtype=np.int64)  # the run's month each entrant opens
        names = [f"industry-{i}" for i in range(cfg.platforms)]
        if cfg.entrants.enabled:
            self.entrant_rng = np.random.default_rng(sequences["entrants"])
            new, self.entrant_month = entrants.draw_entrants(self, self.entrant_rng)
            self.platforms = entrants.joined(self.platforms, new)
            names += [f"entrant-{i}" for i in range(len(self.entrant_month))]
        self.n = len(self.platforms.owner)
        self.names = [p.name for p in config.platforms] + names
        self.number = np.arange(self.n) - self.detailed  # a drawn platform's own number: its draws'
        # key, so that adding a detailed platform moves none of them
        registered = keyed_uniforms(self.keys["registered"], self.number) < cfg.registered_share
        own = [bool(p.industry.registered) if p.industry else False for p in config.platforms]
        registered[: self.detailed] = own
        self.registered = registered
        self.pooled = np.arange(self.n) >= self.detailed

    # ------------------------------------------------------------------ building

    def attach(self, market) -> None:
        """Open the industry's books in ``market``: positions, state, the pooled platforms' terms."""
        self.market = market
        cfg, n = self.config, self.n
        self.launched = np.arange(n) < self.first_entrant  # entrants open in their month
        self.failure_type = np.full(n, -1, dtype=np.int8)
        self.cause = np.full(n, -1, dtype=np.int8)
        self.problem_day = np.full(n, -1, dtype=np.int32)  # the day it became a problem platform
        # (问题平台); a regulators' ban winds a platform down without making it one
        self.hazard_multiplier = np.ones(n)
        self.multiplier_until = np.zeros(n, dtype=np.int32)
        self.failing = np.zeros(n, dtype=bool)  # today's failures, and why (index of CAUSES)
        self.causes = np.full(n, -1, dtype=np.int8)
        self.banned = np.zeros(n, dtype=bool)  # wound down by a regulators' ban
        self.shrinking = np.zeros(n, dtype=bool)  # ordered to take no new money (三降) ...
        self.shrink_until = np.zeros(n, dtype=np.int32)  # ... until this day
        self.sentiment = 0.0
        self.expected_background = 0.0
        self.recent_co_debt = np.zeros(n)  # 共债 losses of about the last month, fen
        self.gain = np.zeros(n, dtype=np.int64)  # today's interest, recoveries and cover, fen ...
        self.loss = np.zeros(n, dtype=np.int64)  # ... and losses, shared among the investors once
        self.queued_left = np.zeros(n, dtype=np.int64)  # requests left unpaid today, fen
        self.capital_called_fen = np.zeros(n, dtype=np.int64)  # owners' capital calls (增资), fen
        model = self.platforms.business_model
        fund_pool = model == BUSINESS_MODELS.index("fund_pool")
        self.fund_pool = fund_pool  # one pot: requests paid oldest first from everyone's cash
        behaviour = cfg.behaviour
        self.cash_buffer = np.where(fund_pool, POOL_BUFFER, 1.0) * behaviour.cash_buffer
        self.term_months = np.clip(self.platforms.average_term_months, 1, 24) * np.where(
            fund_pool, POOL_TERM, 1.0)
        self.loan_rate = (np.clip(self.platforms.annual_yield, 0.04, 0.24)
                          / (1 - behaviour.management_fee))
        self.liquidity_promise = np.array([LIQUIDITY_PROMISE[m] for m in BUSINESS_MODELS])[model]
        self.has_reserve = (model == BUSINESS_MODELS.index("reserve_fund")) & self.pooled
        self.reserve_dry = np.zeros(n, dtype=bool)  # its reserve left a claim unpaid: news heard
        self.vulnerability = failures.vulnerability(self)
        self._draw_investors(market)
        self.requests = contagion.RequestLog(n)
        self.channels = contagion.Channels(self, market)
        self.co_debt = CoDebtors(self)
        market.risk_tables.add_pooled(self.n - self.detailed, behaviour, market.config)
        self.tracker = Tracker(self)

    def _draw_investors(self, market) -> None:
        """The pooled platforms' investors and their money: positions, and the ledger's deposits."""
        cfg = self.config
        weights = self.platforms.investors[self.detailed:self.first_entrant].astype(float)
        self.positions = draw_positions(
            cfg.investors, weights, np.random.default_rng(self.sequences["positions"]),
            cfg.mean_platforms_per_investor, cfg.platform_dispersion, cfg.median_wealth_cny,
            cfg.wealth_sigma, first_platform=self.detailed, platforms=self.n)
        self.entrant_fen = np.zeros(len(self.positions), dtype=np.int64)  # theirs at the launch
        if len(self.entrant_month):
            self._add_entrants_investors(len(self.positions) / weights.sum())
        market.ledger.post(WORLD, CASH, self.positions.platform_totals_fen(), Memo.DEPOSIT)
        self.last_alarm = np.full(cfg.investors, -contagion.ALARM_DAYS, dtype=np.int32)

    def _add_entrants_investors(self, positions_per_investor: float) -> None:
        """The entrants' positions join the others, holding nothing until their launch."""
        pos = self.positions
        investor, platform, balance = entrants.entrant_positions(
            self, self.first_entrant, self.platforms.investors[self.first_entrant:],
            self.entrant_rng, positions_per_investor)
        pos = Positions(np.concatenate([pos.investor, investor]),
                        np.concatenate([pos.platform, platform]),
                        np.concatenate([pos.balance_fen, balance]), pos.investors, self.n)
        later = pos.platform >= self.first_entrant
        self.entrant_fen = np.where(later, pos.balance_fen, 0)
        pos.balance_fen[later] = 0
        pos.lending[later] = False
        self.positions = pos

    def members_of_detailed(self, count: int) -> np.ndarray:
        """The industry ids of the detailed platforms' ``count`` investors, drawn once."""
        rng = np.random.default_rng(self.sequences["members"])
        return np.sort(rng.choice(self.config.investors, size=min(count, self.config.investors),
                                  replace=False))

    def opening_loans(self) -> dict[str, np.ndarray]:
        """The pooled platforms' loans outstanding on day 0 (:func:`sim.industry.lending.opening_loans`)."""
        return lending.opening_loans(self)

    def book_opening(self, borrower: np.ndarray, platform: np.ndarray, balance_fen: np.ndarray,
                     rows: np.ndarray) -> None:
        """The pooled opening loans (book ``rows``) are bought with the investors' money.

        A reserve-fund platform opens with ``[industry.reserve_fund] opening_coverage`` of its book
        in its reserve, put in by its owners (as a detailed reserve's ``initial_cny`` from its
        capital), within their registered capital (注册资本) like any capital call.
        """
        self.co_debt.register(borrower, rows, platform)
        book = np.bincount(platform, balance_fen, self.n).astype(np.int64)
        ledger = self.market.ledger
        ledger.post(CASH, CLAIMS, book, Memo.OPENING_BOOK)
        room = np.floor(self.platforms.registered_capital_cny * 100).astype(np.int64)
        reserve = np.where(self.has_reserve, np.minimum(
            np.floor(book * self.config.reserve_fund.opening_coverage).astype(np.int64), room), 0)
        ledger.post(WORLD, AccountKind.RESERVE_FUND, reserve, Memo.RESERVE_INITIAL)
        self.capital_called_fen += reserve

    # ------------------------------------------------------------------ the day

    def money_fen(self) -> np.ndarray:
        """Investors' money on each platform (cash and claims), fen."""
        accounts = self.market.ledger.accounts
        return accounts[CASH] + accounts[CLAIMS]

    def outstanding_fen(self) -> np.ndarray:
        """Each platform's loans outstanding (贷款余额), whoever holds them: investors or a layer, fen."""
        accounts = self.market.ledger.accounts
        return accounts[CLAIMS] + sum(accounts[kind] for kind in HELD_KINDS)

    @property
    def state(self) -> np.ndarray:
        """Every platform's state (:class:`RunState` values): the market's one vector, read only here."""
        return self.market.run_states.state

    @property
    def operating(self) -> np.ndarray:
        """Bool per platform: not failed (normal or in 提现困难), as for a detailed platform."""
        return self.market.run_states.operating()

    @property
    def alive(self) -> np.ndarray:
        """Bool per platform: still paying its investors (normal, in difficulty, winding down)."""
        return self.state < RunState.CLOSED

    @property
    def open_pooled(self) -> np.ndarray:
        """Bool per platform: pooled, launched and operating (its investors lend, decide, fail)."""
        return self.pooled & self.launched & self.operating

    def open_month(self, day: int) -> None:
        """A month opens: finished loans may leave the book, tightenings end, costs are paid."""
        self.drop_finished_loans()
        expired = self.multiplier_until <= day
        self.hazard_multiplier[expired] = 1.0
        self.shrinking &= self.shrink_until > day
        if self.market.runs.pooled is not None:  # the month's disclosure (信息披露)
            self.market.runs.pooled.review_month()
        entrants.launch(self, day)
        self.pay_costs()

    def pay_costs(self) -> None:
        """The pooled platforms' month of costs, by the one rule of a detailed platform's treasury.

        ``operating_cost_monthly`` of the outstanding book, from the platform's own cash; where it
        is short, the owners put in what it lacks (增资) up to the platform's registered capital
        (注册资本) over the run (:func:`sim.runs.liquidity.own_cash_cover`); a platform still
        short cannot pay its costs and fails (停业). A failed platform winding down still pays.
        """
        ledger = self.market.ledger
        cost = np.floor(self.outstanding_fen() * self.config.behaviour.operating_cost_monthly)
        cost = np.where(self.pooled & self.alive, cost, 0).astype(np.int64)
        room = np.floor(self.platforms.registered_capital_cny * 100).astype(np.int64) \
            - self.capital_called_fen
        called, paid, unpaid = own_cash_cover(ledger.accounts[AccountKind.PLATFORM_CASH], cost,
                                              room)
        ledger.post(WORLD, AccountKind.PLATFORM_CASH, called, Memo.CAPITAL_CALL)
        self.capital_called_fen += called
        ledger.post(AccountKind.PLATFORM_CASH, WORLD, paid, Memo.OPERATING_COST)
        failures.mark(self, (unpaid > 0) & self.pooled & self.operating, "costs", "停业")

    def drop_finished_loans(self) -> None:
        """The pooled platforms' finished loans leave the loan book once they are a quarter of it.

        Repaid, prepaid, written off or sold: nothing reads them again (the tracker holds their
        sums; recoveries wait as amounts), and a full industry lends a hundred million loans over
        its years, four times what is ever outstanding (docs/performance.md).
        """
        loans = self.market.book.loans
        finished = self.pooled[loans.platform] & (loans.status != ACTIVE)
        if np.count_nonzero(finished) > FINISHED_SHARE_TO_DROP * len(loans):
            self.market.book.drop(finished)

    def serviced(self, interest_net_fen: np.ndarray) -> None:
        """The pooled platforms' investors gain today's interest (net of the fee), pro rata."""
        gain = np.where(self.pooled, interest_net_fen, 0)
        self.gain += gain
        self.tracker.add("interest", gain.sum())

    def written_off(self, principal_fen: np.ndarray, recovered_fen: np.ndarray,
                    co_debt_fen: np.ndarray) -> None:
        """The pooled platforms' investors' write-offs: they bear the loss, share the recovery.

        ``principal_fen`` of loans their investors held was written off and ``recovered_fen``
        recovered (already booked) per platform; a loan its reserve had bought is the reserve's
        (:meth:`bought_out`). ``co_debt_fen`` of the day's written-off principal was owed by
        borrowers who stopped paying because another platform failed (共债).
        """
        lost = np.where(self.pooled, principal_fen - recovered_fen, 0)
        self.gain += np.where(self.pooled, recovered_fen, 0)
        self.loss += np.where(self.pooled, principal_fen, 0)
        self.recent_co_debt = self.recent_co_debt * np.exp(-1.0 / 30) + co_debt_fen
        if self.market.runs is not None and self.market.runs.pooled is not None:
            self.market.runs.pooled.written_off(np.where(self.pooled, principal_fen, 0), lost)
        self.tracker.add("losses", int(lost.sum()))
        self.tracker.add("co_debt_losses", int(co_debt_fen[self.pooled].sum()))

    def bought_out(self, totals: np.ndarray) -> None:
        """A reserve paid the investors for the loans it bought today (代偿, ``BuyOutTotals``).

        The reserve's money goes to the investors' cash and the claims to the reserve's held
        claims, as on a detailed platform; the investors share the payment pro rata. A reserve
        that leaves a claim unpaid has run dry: news every investor of the platform hears once
        (``[runs] state_shock``), as a detailed platform's do.
        """
        ledger = self.market.ledger
        principal, interest = totals[:, B.PRINCIPAL], totals[:, B.INTEREST]
        ledger.post(AccountKind.RESERVE_FUND, CASH, principal + interest, Memo.GUARANTEE_PAYOUT)
        ledger.post(CLAIMS, AccountKind.HELD_CLAIMS, principal, Memo.CLAIM_TO_GUARANTEE)
        self.gain += principal + interest
        self.loss += principal
        self.tracker.add("reserve_payouts", int((principal + interest).sum()))
        dry = (totals[:, B.LEFT] > 0) & ~self.reserve_dry
        if dry.any():
            self.reserve_dry |= dry
            pooled = self.market.runs.pooled if self.market.runs is not None else None
            if pooled is not None:
                pooled.shock(np.flatnonzero(dry), self.market.runs.config.state_shock)

    def fees_to_reserve(self, management_fee_fen: np.ndarray) -> None:
        """A reserve-fund platform pays ``fee_share`` of its management fee into its reserve (风险准备金)."""
        share = self.config.reserve_fund.fee_share
        into = np.where(self.has_reserve & self.operating,
                        np.floor(management_fee_fen * share), 0).astype(np.int64)
        self.market.ledger.post(AccountKind.PLATFORM_CASH, AccountKind.RESERVE_FUND, into,
                                Memo.MANAGEMENT_FEE.into_fund(AccountKind.RESERVE_FUND))

    def share(self) -> None:
        """The day's gains and losses shared among each pooled platform's investors pro rata."""
        pos = self.positions
        share_pro_rata(pos.group_start, pos.balance_fen, pos.queued_fen, self.gain, self.loss)
        self.gain[:] = 0
        self.loss[:] = 0

    def liquidity_day(self, day: int) -> None:
        """The pooled platforms' requests, deposits, payments, states (:mod:`.withdrawals`)."""
        withdrawals.liquidity_day(self, day)

    def request(self, shares: dict[str, np.ndarray], day: int, record: bool = True,
                asking: np.ndarray | None = None) -> None:
        """Positions ask back ``sum(shares)`` of their free balance (:func:`withdrawals.request`)."""
        withdrawals.request(self, shares, day, record, asking)

    def lend(self, day: int) -> None:
        """The pooled platforms in a normal state lend their spare cash (:mod:`sim.industry.lending`)."""
        lending.lend(self, day)

    def close_day(self, day: int) -> None:
        """Today's failures and their contagion; sentiment decays; the month's row at its end."""
        failures.background(self, day)
        failures.detailed_failures(self, day)
        failures.fail_today(self, day)
        self.channels.daily_trust()
        self.requests.close_day()
        self.sentiment *= self.config.channels.sentiment.decay_daily
        self.tracker.close_day(day)

    # ------------------------------------------------------------------ the audit

    def audit(self) -> None:
        """Each pooled platform's positions hold its investors' money (cash and claims) to the fen."""
        from sim.ledger import LedgerError

        pos = self.positions
        held = pos.platform_totals_fen()
        money = np.where(self.pooled, self.money_fen(), 0)
        if not np.array_equal(held, money):
            p = int(np.flatnonzero(held != money)[0])
            raise LedgerError(f"{self.names[p]}: positions hold {held[p]} fen, the ledger "
                              f"{money[p]} fen on day {self.market.ledger.day}")
        if (pos.queued_fen > pos.balance_fen).any() or (pos.queued_fen < 0).any():
            raise LedgerError("a position asked for more than it holds")
