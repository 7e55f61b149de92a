"""Trust (信任), per investor and platform, moved every day by what each investor sees.

See :class:`~sim.scenario.runs.RunsConfig` for the update and its weights. Trust, the investors'
anchors and the day each last ran are (investors, platforms) arrays; the neighbours' part is one
sparse product (:mod:`sim.runs.network`).
"""

from __future__ import annotations

import numpy as np

from sim.runs import network
from sim.scenario.runs import RunsConfig

NEVER = -(10**6)  # the day an investor who never ran last ran


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
    """

    def __init__(self, config: RunsConfig, investors, rng: np.random.Generator) -> None:
        self.config, self.investors, self.rng = config, investors, rng
        n_platforms = investors.n_platforms
        self.level = np.zeros((0, n_platforms), dtype=np.float32)
        self.anchor = np.zeros(0, dtype=np.float32)
        self.ran_day = np.zeros((0, n_platforms), dtype=np.int32)
        self.running = np.zeros((0, n_platforms), dtype=bool)  # decided to run, still below
        self.lost_seen = np.zeros(0, dtype=np.int64)
        self.wealth_fen = np.zeros(0, dtype=np.float64)
        self.adjacency = None
        self.neighbours = None

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
            self.adjacency = network.generate(c.network, n, seed)
        else:
            self.adjacency = network.extend(self.adjacency, inv.home, old, c.network, rng)
        self.neighbours = network.row_normalised(self.adjacency)
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
        lost = inv.principal_lost_fen - self.lost_seen
        self.lost_seen = inv.principal_lost_fen.copy()
        own = (c.loss_weight * lost + c.late_weight * late_fen) / self.wealth_fen
        waiting = (inv.queued_fen > 0) & (inv.queued_since < day)
        recent = (day - self.ran_day <= c.herd_memory_days).astype(np.float32)
        herd = self.neighbours @ recent if self.neighbours.nnz else 0.0
        level = self.level
        level += c.recovery_daily * (self.anchor[:, None] - level)
        level -= (own[:, None] * (inv.weight > 0)).astype(np.float32)
        level -= np.float32(c.delay_weight_daily) * waiting
        level -= np.float32(c.herding_weight) * herd
        level -= platform_hit.astype(np.float32)[None, :]
        np.clip(level, 0.0, 1.0, out=level)

    def shock(self, platform: int, size: float) -> None:
        """Every investor's trust in ``platform`` falls by ``size`` (an event, a state change)."""
        np.clip(self.level[:, platform] - size, 0.0, 1.0, out=self.level[:, platform])

    def quantiles(self, platform: int, active: np.ndarray) -> tuple[float, float, float, float]:
        """Mean, P10, P50 and P90 of the trust of ``platform``'s ``active`` investors."""
        values = self.level[active, platform]
        if len(values) == 0:
            return (float("nan"),) * 4
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        return float(values.mean()), float(p10), float(p50), float(p90)

    def ran(self, day: int, platform: int, running: np.ndarray) -> None:
        """Record who runs on ``platform`` today; those who start today are seen by neighbours."""
        start = running & ~self.running[:, platform]
        self.ran_day[start, platform] = day
        self.running[:, platform] = running
