"""Trust (信任), per investor and platform, moved every day by what each investor sees.

See :class:`~sim.scenario.runs.RunsConfig` for the update and its weights. Trust, the investors'
anchors and the day each last ran are (investors, platforms) arrays; the neighbours' part reads the
sparse adjacency from the runners' rows only (:mod:`sim.runs.network`).
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.runs import network
from sim.scenario.runs import RunsConfig

NEVER = -(10**6)  # the day an investor who never ran last ran
QUANTILE_BINS = 1000
QUANTILES = np.array([0.1, 0.5, 0.9])


def disclosed(config: RunsConfig, loss_rate_annual, overdue):
    """Trust lost a day to what a platform discloses (信息披露), for a platform or a vector of them.

    ``disclosure_weight`` × (its loss rate a year above ``disclosure_tolerance`` + its queued
    withdrawals over what it owes its investors).
    """
    excess_loss = np.maximum(loss_rate_annual - config.disclosure_tolerance, 0.0)
    return config.disclosure_weight * (excess_loss + overdue)


class Trust:
    """Investors' trust in each platform and what moves it.

    Parameters
    ----------
    config : RunsConfig
        Weights, anchors, network.
    investors : InvestorPopulation
        Whose trust; new investors get theirs when :meth:`grow` sees them.
    rng : numpy.random.Generator
        The runs' own stream.
    network_of : callable or None
        Inside an industry: ``network_of(ids)``, the industry's one network among the investors of
        those industry ids (their herding reads it); otherwise a network of their own is drawn.
    """

    def __init__(self, config: RunsConfig, investors, rng: np.random.Generator,
                 network_of=None) -> None:
        self.config, self.investors, self.rng = config, investors, rng
        self.network_of = network_of
        n_platforms = investors.n_platforms
        self.level = np.zeros((0, n_platforms), dtype=np.float32)
        self.anchor = np.zeros(0, dtype=np.float32)
        self.ran_day = np.zeros((0, n_platforms), dtype=np.int32)
        self.running = np.zeros((0, n_platforms), dtype=bool)  # decided to run, still below
        self.lost_seen = np.zeros(0, dtype=np.int64)
        self.wealth_fen = np.zeros(0, dtype=np.float64)
        self.adjacency = None
        self.degree = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.anchor)

    def grow(self) -> slice:
        """Trust of the investors who joined since the last call; their rows."""
        old, n = len(self), len(self.investors)
        if n == old:
            return slice(old, old)
        c, inv, rng = self.config, self.investors, self.rng
        anchor = np.clip(c.initial_trust + c.trust_sd * rng.standard_normal(n - old), 0.0, 1.0)
        self.anchor = np.concatenate([self.anchor, anchor.astype(np.float32)])
        self.level = np.concatenate([self.level, np.repeat(anchor[:, None], inv.n_platforms, 1)
                                     .astype(np.float32)])
        self.ran_day = np.concatenate([self.ran_day, np.full((n - old, inv.n_platforms), NEVER,
                                                             dtype=np.int32)])
        self.running = np.concatenate([self.running, np.zeros((n - old, inv.n_platforms), bool)])
        self.lost_seen = np.concatenate([self.lost_seen, inv.principal_lost_fen[old:]])
        wealth = inv.initial_cash_fen[old:] + 12 * inv.monthly_deposit_fen[old:]
        self.wealth_fen = np.concatenate([self.wealth_fen, np.maximum(wealth, 100.0)])
        if self.adjacency is None:
            seed = int(rng.integers(0, 2**31 - 1))
            if self.network_of is None:
                self.adjacency = network.generate(c.network, n, seed)
            else:  # the industry's graph among those it knows; newcomers link as they join
                known = self.network_of(inv.industry_id)
                self.adjacency = (known if known.shape[0] == n else
                                  network.extend(known, inv.home, known.shape[0], c.network, rng))
        else:
            self.adjacency = network.extend(self.adjacency, inv.home, old, c.network, rng)
        self.degree = np.maximum(self.adjacency.sum(axis=1), 1).astype(np.float32)
        return slice(old, n)

    def update(self, day: int, late_fen: np.ndarray, platform_hit: np.ndarray) -> None:
        """Today's move of trust.

        Parameters
        ----------
        late_fen : numpy.ndarray
            Per investor, the balance of their notes on loans that missed today (fen).
        platform_hit : numpy.ndarray
            Per platform, what every investor in it loses today: disclosure, state, events (0-1).
        """
        c, inv = self.config, self.investors
        signals = kernels.TrustSignals(
            inv.principal_lost_fen, self.lost_seen, late_fen, self.wealth_fen, inv.weight,
            inv.queued_fen, inv.queued_since, self.ran_day, platform_hit)
        weights = (c.recovery_daily, c.loss_weight, c.late_weight, c.delay_weight_daily,
                   c.herding_weight)
        kernels.update_trust(self.level, self.anchor, signals, day, c.herd_memory_days,
                             self.adjacency.indptr, self.adjacency.indices, self.degree, weights)

    def shock(self, platform: int, size: float) -> None:
        """Every investor's trust in ``platform`` falls by ``size`` (an event, a state change)."""
        np.clip(self.level[:, platform] - size, 0.0, 1.0, out=self.level[:, platform])

    def shock_rows(self, rows: np.ndarray, platform: int, size: float) -> None:
        """The trust of investors ``rows`` in ``platform`` falls by ``size`` (a channel reached them)."""
        if len(rows):
            self.level[rows, platform] = np.clip(self.level[rows, platform] - size, 0.0, 1.0)

    def distribution(self) -> np.ndarray:
        """Per platform, the mean, P10, P50 and P90 of its active investors' trust.

        A (platforms, 4) array, NaN where it has none. Percentiles come from 1,000 bins, so they
        are exact to 0.001.
        """
        inv = self.investors
        return kernels.trust_distribution(self.level, inv.weight, inv.active, QUANTILE_BINS,
                                          QUANTILES)

    def ran(self, day: int, platform: int, running: np.ndarray) -> None:
        """Record who runs on ``platform`` today; those who start today are seen by neighbours."""
        start = running & ~self.running[:, platform]
        self.ran_day[start, platform] = day
        self.running[:, platform] = running
