"""The runs part of the market: each day, trust moves, investors decide, queues are paid, states change.

Called by :meth:`sim.model.P2PMarket.step` after the day's servicing and arrears and before the
marketplace (so investors who stop reinvesting bid no more today). Without ``[runs] enabled`` only
the queues and states work: nothing queues unless an event asks, and capital calls and failures
still apply.
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.book import MAX_DUE_MONTHS
from sim.ledger import AccountKind
from sim.runs import flows
from sim.runs.failure import fail, update_state
from sim.runs.liquidity import raise_pool_cash
from sim.runs.pooled import PositionTrust
from sim.runs.queue import WithdrawalQueue
from sim.runs.rules import resolve_rule
from sim.runs.secondary import SecondaryMarket
from sim.runs.trust import Trust, disclosed


class Runs:
    """Trust, decisions, withdrawal queues, the secondary market and platform states.

    Parameters
    ----------
    market : P2PMarket
        The market (its ``runs`` stream, investors, platforms, book).
    """

    def __init__(self, market) -> None:
        self.market = market
        self.config = market.config.runs
        self.enabled = self.config.enabled
        self.rng = market.rngs["runs"]
        self.queue = WithdrawalQueue(market)
        self.secondary = SecondaryMarket(market, self.rng)
        self.trust = self.rule = self.pooled = None
        self.guarantee_dry = np.zeros(len(market.platforms), dtype=bool)  # its news already heard
        self.in_industry = market.industry is not None  # the industry's flows and lateness rule
        self.notes_fen = None  # in an industry: today's notes by investor and platform, fen
        if self.enabled:
            industry = market.industry
            self.trust = Trust(self.config, market.investors, self.rng,
                               network_of=industry.channels.members_network if industry else None)
            self.rule = resolve_rule(self.config.rule, market.config.source_dir)(self.config)
            if industry is not None:  # the positions on pooled platforms: the same trust and rule
                self.pooled = PositionTrust(self.config, industry, market.config.source_dir)

    # ------------------------------------------------------------------ the day

    def close_day(self, day: int) -> None:
        """Today's trust, decisions, transfers, payments and states."""
        self.queue.new_day()
        self.secondary.new_day()
        market = self.market
        if self.in_industry and market.platforms:  # the industry's one rule of ordinary flows
            self.notes_fen = flows.notes_held_fen(market)
            flows.detailed_flows(market, self.notes_fen)
            for platform in market.platforms:  # own cash pays own requests before any transfer
                flows.cover_asked(market, platform, day, self.notes_fen)
        if self.enabled and market.platforms:  # an industry of pooled platforms has no trust here
            self._decide(day)
        self.pay_queues(day)
        if day + 1 == market.horizon_days:
            for platform in market.platforms:
                platform.run.add_loss("unpaid", self.owed_fen(platform))

    def pay_queues(self, day: int) -> None:
        """Pay every platform's queue from what it can pay today, then move its state."""
        for platform in self.market.platforms:
            if platform.run.state.failed:
                self.everyone_asks(platform, day)
            if self.in_industry:
                flows.cover_asked(self.market, platform, day, self.notes_fen)
            self._pay(platform, day)
            update_state(self.market, platform, day)

    def _decide(self, day: int) -> None:
        market, trust, inv = self.market, self.trust, self.market.investors
        new = trust.grow()
        if new.stop > new.start:
            self.rule.grow(new.stop - new.start, self.rng)
        trust.update(day, self._late_today(day), self._platform_hit())
        decisions = self.rule.decide(trust.level)
        for platform in market.platforms:
            p = platform.index
            if platform.run.state.failed:
                continue
            inv.bidding[:, p] = ~decisions.stop_reinvesting[:, p] & inv.active
            running = decisions.withdraw[:, p] | decisions.redeem[:, p] | decisions.sell_notes[:, p]
            starting = decisions.sell_notes[:, p] & ~trust.running[:, p]
            trust.ran(day, p, running)
            if platform.is_fund_pool:
                self.queue.request_products(platform, np.flatnonzero(decisions.redeem[:, p]), day)
            elif platform.config.liquidity.transfers:
                self.secondary.clear(platform, decisions.sell_notes[:, p], starting)
            if self.in_industry:  # a runner asks back all their money, as a pooled position does
                flows.ask_everything(market, platform, np.flatnonzero(running), self.notes_fen)
            stopped = decisions.stop_reinvesting[:, p] & ~running  # 不再复投: repayments go home
            self.ask_cash(platform, np.flatnonzero(decisions.withdraw[:, p] | stopped), day)

    def _late_today(self, day: int) -> np.ndarray:
        """Per investor, the balance of their notes on loans that missed a payment today (fen)."""
        book = self.market.book
        late = np.zeros(len(self.market.investors))
        starts, ends, _ = book.due_ranges(day, MAX_DUE_MONTHS)  # only loans due today can miss
        loans, notes = book.loans, book.notes
        kernels.late_notes(starts, ends, day, loans.first_missed_day, loans.note_start,
                           loans.note_end, notes.investor, notes.balance_fen, late)
        return late

    def _platform_hit(self) -> np.ndarray:
        """Per platform, trust lost today by what it discloses (its loss rate and its queue).

        A guarantee or reserve that runs dry (it fails, or leaves a claim unpaid) is news every
        investor hears: their trust falls by ``state_shock`` once.
        """
        c, hit = self.config, np.zeros(len(self.market.platforms))
        for platform in self.market.platforms:
            guarantee = platform.guarantee
            dry = guarantee.failed_day is not None or guarantee.unpaid_fen > 0
            if dry and not self.guarantee_dry[platform.index]:
                self.guarantee_dry[platform.index] = True
                hit[platform.index] += c.state_shock
            if platform.config.liquidity.disclosure:
                owed = max(self.liabilities_fen(platform), 1)
                overdue = self.queue.total_fen(platform) / owed
                hit[platform.index] += disclosed(c, platform.state.loss_rate_annual, overdue)
        return hit

    def _pay(self, platform, day: int) -> None:
        """Pay the platform's queue from what it can pay today."""
        total = self.queue.total_fen(platform)
        if total == 0:
            if self.enabled and platform.is_fund_pool:
                platform.pool_overdue_fen = 0
            return
        market, rules = self.market, platform.config.liquidity
        if not platform.is_fund_pool:
            gate = round(rules.withdrawal_limit_daily_cny * 100)
            self.queue.pay(platform, gate if gate else total, day)
            return
        solvent = True
        if not platform.run.state.failed:
            solvent = raise_pool_cash(market, platform, total)
        cash = market.bookkeeper.balance(platform, AccountKind.POOL_CASH)
        self.queue.pay(platform, cash, day)
        platform.pool_overdue_fen = self.queue.total_fen(platform)
        if not solvent and rules.fire_sales:
            fail(market, platform, day, "cannot pay redemptions with every loan sold")

    # ------------------------------------------------------------------ what others call

    def everyone_asks(self, platform, day: int) -> None:
        """Every investor asks for all their money on ``platform`` (it has failed)."""
        rows = np.arange(len(self.market.investors))
        if platform.is_fund_pool:
            inv, p = self.market.investors, platform.index
            with_products = rows[inv.product_fen[:, p] > 0]  # a failure ends every lock-up
            self.queue.request_products(platform, with_products, day, lock_up=False)
        self.ask_cash(platform, rows, day)

    def in_trouble(self, platforms) -> None:
        """``platforms`` (an index or indices) entered 提现困难 or failed: borrowers strike (逃废债).

        The same for a pooled platform as for a detailed one; its investors' trust falls by
        ``state_shock``.
        """
        platforms = np.atleast_1d(platforms)
        self.market.risk_tables.strike_multiplier[platforms] = self.config.strike_hazard_multiplier
        self.heard(platforms, self.config.state_shock)

    def heard(self, platforms, size: float) -> None:
        """Every investor of ``platforms`` (indices), detailed or pooled, loses ``size`` of trust."""
        if not self.enabled:
            return
        platforms = np.atleast_1d(platforms)
        detailed = platforms < len(self.market.platforms)
        for p in platforms[detailed]:
            self.trust.shock(int(p), size)
        if self.pooled is not None and (~detailed).any():
            self.pooled.shock(platforms[~detailed], size)

    def liquidity_shock(self, platform, share: float, day: int) -> None:
        """A share of the platform's investors need all their money today (impatient depositors)."""
        inv, p = self.market.investors, platform.index
        holders = np.flatnonzero((inv.product_fen[:, p] > 0) | (inv.cash_fen[:, p] > 0)
                                 | (inv.weight[:, p] > 0))
        rows = holders[self.rng.random(len(holders)) < share]
        if platform.is_fund_pool:
            self.queue.request_products(platform, rows, day, lock_up=False)
        self.ask_cash(platform, rows, day)

    def ask_cash(self, platform, rows: np.ndarray, day: int) -> None:
        """Investors ``rows`` ask for their idle cash on ``platform``.

        It joins the queue, or, on a fund pool, where idle cash is not in the pool, is paid at once.
        """
        if not platform.is_fund_pool:
            self.queue.request_cash(platform, rows, day)
            return
        inv, p = self.market.investors, platform.index
        amounts = np.zeros(len(inv), dtype=np.int64)
        amounts[rows] = inv.cash_fen[rows, p]
        inv.cash_fen[rows, p] = 0
        self.market.today.withdrawal_fee_fen += self.market.treasury.withdraw(platform, amounts)

    def liabilities_fen(self, platform) -> int:
        """What the platform owes its investors: products (fund pool) or idle cash and claims."""
        inv, p = self.market.investors, platform.index
        books = self.market.bookkeeper
        owed = self.queue.total_fen(platform)
        if platform.is_fund_pool:
            return owed + int(inv.product_fen[:, p].sum())
        return (owed + books.balance(platform, AccountKind.INVESTOR_CASH)
                + books.balance(platform, AccountKind.INVESTOR_CLAIMS))

    def owed_fen(self, platform) -> int:
        """Withdrawals and redemptions still unpaid, and a failed pool's products (fen)."""
        owed = self.queue.total_fen(platform)
        if platform.is_fund_pool and platform.run.state.failed:
            owed += int(self.market.investors.product_fen[:, platform.index].sum())
        return owed
