"""Investors (出借人 / 投资人): savers who keep cash on one or more platforms and auto-invest it.

Each investor has a home platform (by the platforms' ``investor_share``) and, with probability
``multi_home_share``, a second one; their deposits are split over their platforms by weight. They
auto-invest (自动投标) every day: every listing whose grade is within their risk appetite
(``max_grade``) and whose rate meets their target (``min_rate``) gets a bid of ``bid_size`` fen
(at least the platform's minimum bid), so money spreads over many loans. Repayments land in their cash
and are reinvested by the same rule; once a month they deposit new savings and withdraw (提现) a share
of idle cash.

Their own decisions live here, as rules the scenario configures (``[investors]``): how much they
deposit (:meth:`InvestorPopulation.monthly_deposits`, scaled by their response to a platform's rates),
how much idle cash they withdraw (:meth:`~InvestorPopulation.withdrawals`), whom they bid on (their
appetite, applied by auto-invest) and when they leave a platform (:meth:`~InvestorPopulation.who_leave`:
churn when its realised return falls short of what they expect, or when its losses cost it their
trust). Marketing brings investors; it does not decide for them.

Per-investor money is a sub-ledger: ``cash[i, p]`` (fen, on platform p) adds up to the ledger's
``investor_cash:<platform>`` accounts, which the audit checks. These are the investors of the
platforms of full detail, whose columns are (investors, those platforms); inside an industry they
are some of the industry's investors (``industry_id``), who hold pooled platforms too, as sparse
positions (:mod:`sim.agents.positions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels import InvestorAccounts
from sim.money import to_fen, to_fen_array
from sim.readable import Readable
from sim.scenario import InvestorsConfig


@dataclass(frozen=True, repr=False)
class InvestorView(Readable):
    """One investor, readable: amounts in CNY."""

    id: int
    cash_cny: dict[str, float]
    bid_size_cny: float
    max_grade: str
    min_rate: float
    monthly_deposit_cny: float
    net_income_cny: float
    principal_lost_cny: float


class InvestorPopulation:
    """All investors, one row each (struct of arrays); ``cash`` is (investors, platforms) in fen.

    Parameters
    ----------
    config : InvestorsConfig
        Sizes, appetite and behaviour.
    platform_share : sequence of float
        Share of investors whose home is each platform.
    grade_names : list of str
        The scenario's grades, best first.
    rng : numpy.random.Generator
        The investors' own random stream.
    industry_id : numpy.ndarray or None
        Inside an industry, each investor's id among the industry's investors (its ``count`` rows);
        otherwise the rows themselves.
    """

    def __init__(self, config: InvestorsConfig, platform_share, grade_names: list[str],
                 rng: np.random.Generator, industry_id: np.ndarray | None = None) -> None:
        n = config.count if industry_id is None else len(industry_id)
        n_platforms = len(platform_share)
        self.config = config
        self.grade_names = grade_names
        self.platform_names: list[str] = []
        self.rng = rng
        self.n_platforms = n_platforms
        self.min_bid_fen = to_fen(config.min_bid_cny)
        home = (rng.choice(n_platforms, size=n, p=np.asarray(platform_share) / sum(platform_share))
                if n_platforms else np.zeros(0, dtype=np.int64))
        for key, value in self._draw(home).items():
            setattr(self, key, value)
        self.industry_id = np.arange(n, dtype=np.int64) if industry_id is None else industry_id
        self.next_industry_id = n  # the id of the next investor new to the market (an industry's
        # investors are ids 0 .. count - 1: the model moves it past them)

    def _draw(self, home: np.ndarray) -> dict[str, np.ndarray]:
        """Profiles of investors whose home platforms are ``home`` (one row each)."""
        config, rng, n = self.config, self.rng, len(home)
        weight = np.zeros((n, self.n_platforms))
        weight[np.arange(n), home] = 1.0
        if self.n_platforms > 1:
            second = (home + 1 + rng.integers(0, self.n_platforms - 1, size=n)) % self.n_platforms
            multi = rng.random(n) < config.multi_home_share
            weight[multi, home[multi]] = 0.5
            weight[multi, second[multi]] = 0.5
        wealth = np.exp(np.log(max(config.initial_cash_median_cny, 1e-9))
                        + config.initial_cash_sigma * rng.standard_normal(n))
        if config.initial_cash_median_cny == 0:
            wealth[:] = 0.0
        min_bid = to_fen(config.min_bid_cny)
        deposit = np.exp(np.log(max(config.monthly_deposit_median_cny, 1e-9))
                         + rng.standard_normal(n))
        if config.monthly_deposit_median_cny == 0:
            deposit[:] = 0.0
        max_grade = rng.choice(len(self.grade_names), size=n, p=np.asarray(config.max_grade_share))
        zeros = np.zeros((n, self.n_platforms), dtype=np.int64)
        return {
            "home": home, "weight": weight,
            "initial_cash_fen": to_fen_array(wealth),
            "cash_fen": zeros,
            "bid_size_fen": np.maximum(min_bid, to_fen_array(wealth * config.bid_fraction)),
            "max_grade": max_grade.astype(np.int8),
            "min_rate": rng.uniform(config.target_rate_min, config.target_rate_max, size=n),
            "monthly_deposit_fen": to_fen_array(deposit),
            "net_income_fen": np.zeros(n, dtype=np.int64),  # interest after fees, net of losses
            "principal_lost_fen": np.zeros(n, dtype=np.int64),
            "active": np.ones(n, dtype=bool),                # False once they have left (churn)
            "product_fen": zeros.copy(),       # fund-pool products: value with promised interest
            "product_cost_fen": zeros.copy(),  # what was paid in for them
            "product_maturity": np.zeros((n, self.n_platforms), dtype=np.int32),  # month
            "product_exiting": np.zeros((n, self.n_platforms), dtype=bool),  # redeeming it
            "bidding": np.ones((n, self.n_platforms), dtype=bool),  # still auto-investing there
            "queued_fen": zeros.copy(),       # withdrawals / redemptions asked for, not yet paid
            "asked_fen": zeros.copy(),        # in an industry: asked for, waiting for cash (待回款)
            "queued_cost_fen": zeros.copy(),  # fund pool: what was paid in for the queued products
            "queued_since": np.full((n, self.n_platforms), -1, dtype=np.int32),  # day asked
        }

    def add(self, n: int, platform: int) -> slice:
        """Add ``n`` new investors whose home is ``platform`` (acquired by marketing); their rows."""
        start = len(self)
        new = self._draw(np.full(n, platform, dtype=np.int64))
        for key, value in new.items():
            setattr(self, key, np.concatenate([getattr(self, key), value]))
        ids = np.arange(self.next_industry_id, self.next_industry_id + n)  # new to the industry too
        self.industry_id = np.concatenate([self.industry_id, ids])
        self.next_industry_id += n
        return slice(start, start + n)

    def leave(self, rows: np.ndarray) -> None:
        """Investors who leave (churn): no more deposits or bids; idle cash is withdrawn."""
        self.active[rows] = False
        self.max_grade[rows] = -1
        self.monthly_deposit_fen[rows] = 0

    def __len__(self) -> int:
        return self.cash_fen.shape[0]

    def __getitem__(self, index: int) -> InvestorView:
        names = self.platform_names or [str(p) for p in range(self.cash_fen.shape[1])]
        return InvestorView(
            id=index,
            cash_cny={name: self.cash_fen[index, p] / 100 for p, name in enumerate(names)},
            bid_size_cny=self.bid_size_fen[index] / 100,
            max_grade=self.grade_names[self.max_grade[index]],
            min_rate=round(float(self.min_rate[index]), 4),
            monthly_deposit_cny=self.monthly_deposit_fen[index] / 100,
            net_income_cny=self.net_income_fen[index] / 100,
            principal_lost_cny=self.principal_lost_fen[index] / 100)

    def accounts(self) -> InvestorAccounts:
        """Their money as the kernels take it (the arrays themselves)."""
        return InvestorAccounts(self.cash_fen, self.net_income_fen, self.principal_lost_fen)

    def first_deposits(self, rows: slice | None = None) -> np.ndarray:
        """The first deposit of the investors in ``rows`` (all if None), by investor and platform, fen."""
        amount = self.initial_cash_fen
        if rows is not None:
            amount = np.zeros(len(self), dtype=np.int64)
            amount[rows] = self.initial_cash_fen[rows]
        return self.split_by_platform(amount)

    def monthly_deposits(self, supply_multiplier: np.ndarray) -> np.ndarray:
        """The month's new savings by investor and platform (fen).

        Each platform's part is scaled by the investors' response to its rates
        (``supply_multiplier``, by platform).
        """
        parts = self.split_by_platform(self.monthly_deposit_fen)
        return np.floor(parts * supply_multiplier[None, :]).astype(np.int64)

    def leaving_share(self, state) -> float:
        """The share of a platform's active investors who leave it this month (churn).

        ``churn_base + churn_sensitivity * max(0, target_return - realised return) +
        trust_sensitivity * (1 - reputation)``, at most 1, with reputation ``1 -
        reputation_sensitivity * loss rate`` (annual defaulted principal / book) within [0, 1]. In
        month 0 there is no realised return to fall short of.
        """
        c = self.config
        reputation = min(max(1.0 - c.reputation_sensitivity * state.loss_rate_annual, 0.0), 1.0)
        shortfall = max(0.0, c.target_return - state.investor_return_annual) if state.month else 0.0
        return min(1.0, c.churn_base + c.churn_sensitivity * shortfall
                   + c.trust_sensitivity * (1.0 - reputation))

    def who_leave(self, members: np.ndarray, state, rng: np.random.Generator) -> np.ndarray:
        """Which of a platform's active investors (``members``) decide to leave this month."""
        share = self.leaving_share(state)
        return members[rng.random(len(members)) < share] if share else members[:0]

    def split_by_platform(self, amount_fen: np.ndarray) -> np.ndarray:
        """Split each investor's amount over their platforms by weight, exactly to the fen."""
        parts = np.floor(amount_fen[:, None] * self.weight).astype(np.int64)
        parts[np.arange(len(amount_fen)), self.home] += amount_fen - parts.sum(axis=1)
        return parts

    def withdrawals(self) -> np.ndarray:
        """Withdrawals (提现) of the month per investor and platform, fen: a share of idle cash.

        Investors who have left withdraw all of it.
        """
        share = np.where(self.active, self.config.withdraw_share_monthly, 1.0)
        return np.floor(self.cash_fen * share[:, None]).astype(np.int64)
