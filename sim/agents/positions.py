"""Investors' positions on pooled platforms: sparse (investor, platform) pairs, never a dense array.

An industry of a million investors on a thousand platforms holds about two million positions, not a
billion cells: a few arrays of the positions' length, sorted by platform (so a platform's positions
are one slice, :mod:`sim.kernels.positions`), with an index by investor for the channels that follow
an investor from one platform to the others. A position is the investor's share of the platform's
money (its investors' cash and the loans they own pro rata): a pooled platform keeps no notes.

Investors of the platforms of full detail keep their cash, notes, queue and trust in
:class:`sim.agents.investors.InvestorPopulation` instead; an investor of the industry may hold both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.kernels.positions import group_sums


@dataclass
class Positions:
    """Balances of investors on pooled platforms, one entry per (investor, platform) pair.

    Attributes
    ----------
    investor, platform : numpy.ndarray
        Who (the investor's id in the industry) and where (the platform's index in the market).
    balance_fen : numpy.ndarray
        The investor's money on the platform (its cash and loans, pro rata), fen.
    queued_fen, queued_since : numpy.ndarray
        Withdrawals asked for and not yet paid (提现中), fen, and the day of the oldest (-1: none).
    lending : numpy.ndarray
        Bool: the investor reinvests on the platform (继续出借); False once they stopped: their
        repayments and interest are then withdrawn as they come instead of lent again.
    group_start : numpy.ndarray
        Platform ``p``'s positions are ``group_start[p] .. group_start[p + 1]``.
    investors, platforms : int
        How many investors and platforms there are (ids and indices below these).
    """

    investor: np.ndarray
    platform: np.ndarray
    balance_fen: np.ndarray
    investors: int
    platforms: int
    queued_fen: np.ndarray = field(default=None)
    queued_since: np.ndarray = field(default=None)
    lending: np.ndarray = field(default=None)
    group_start: np.ndarray = field(default=None)
    investor_start: np.ndarray = field(default=None, repr=False)
    by_investor: np.ndarray = field(default=None, repr=False)

    def __post_init__(self) -> None:
        order = np.lexsort((self.investor, self.platform))
        self.investor, self.platform = self.investor[order], self.platform[order]
        self.balance_fen = self.balance_fen[order]
        n = len(order)
        self.queued_fen = np.zeros(n, dtype=np.int64)
        self.queued_since = np.full(n, -1, dtype=np.int32)
        self.lending = np.ones(n, dtype=bool)
        self.group_start = np.searchsorted(self.platform, np.arange(self.platforms + 1))
        self.by_investor = np.argsort(self.investor, kind="stable")
        self.investor_start = np.searchsorted(self.investor[self.by_investor],
                                              np.arange(self.investors + 1))

    def __len__(self) -> int:
        return len(self.investor)

    def platform_totals_fen(self, values: np.ndarray | None = None) -> np.ndarray:
        """Sum per platform of ``values`` (int64 fen, default: the balances)."""
        return group_sums(self.group_start, self.balance_fen if values is None else values)

    def rows_of(self, platforms: np.ndarray) -> np.ndarray:
        """The positions on any of ``platforms`` (bool per platform): their slices, joined."""
        chosen = np.flatnonzero(platforms)
        if not len(chosen):
            return np.zeros(0, dtype=np.int64)
        starts, ends = self.group_start[chosen], self.group_start[chosen + 1]
        return np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])

    def investors_on(self, platforms: np.ndarray) -> np.ndarray:
        """Bool per investor: holds money on any of ``platforms`` (bool per platform)."""
        touched = np.zeros(self.investors, dtype=bool)
        rows = self.rows_of(platforms)
        touched[self.investor[rows[self.balance_fen[rows] > 0]]] = True
        return touched

    def rows_of_investors(self, investors: np.ndarray) -> np.ndarray:
        """The positions of ``investors`` (ids) on every platform."""
        if not len(investors):
            return np.zeros(0, dtype=np.int64)
        starts, ends = self.investor_start[investors], self.investor_start[investors + 1]
        counts = ends - starts
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        return self.by_investor[np.arange(int(counts.sum())) + offsets]

    def platforms_per_investor(self) -> np.ndarray:
        """How many platforms each investor holds money on."""
        return np.diff(self.investor_start)


def platforms_each(investors: int, mean_platforms: float, dispersion: float, most: int,
                   rng: np.random.Generator) -> np.ndarray:
    """How many platforms each investor uses: 1 + negative binomial (most on one to three, a tail).

    ``mean_platforms`` (at least 1) is the mean; ``dispersion`` the negative binomial's size (smaller:
    more investors on one platform and a longer tail); ``most`` caps it (the platforms there are).
    """
    extra = mean_platforms - 1.0
    if extra <= 0:
        return np.ones(investors, dtype=np.int64)
    counts = 1 + rng.negative_binomial(dispersion, dispersion / (dispersion + extra), investors)
    return np.minimum(counts, most)


def draw_positions(investors: int, platform_weight: np.ndarray, rng: np.random.Generator,
                   mean_platforms: float = 2.3, dispersion: float = 0.6,
                   median_wealth_cny: float = 30_000.0, wealth_sigma: float = 1.0,
                   first_platform: int = 0, platforms: int | None = None) -> Positions:
    """Positions of ``investors`` investors: how many platforms each, which, and how much on each.

    Platforms are chosen in proportion to ``platform_weight`` (e.g. their active investors), without
    repeating one for the same investor; an investor's wealth (log-normal, CNY) is split over their
    platforms by a flat Dirichlet. The platform of weight ``k`` is the market's platform
    ``first_platform + k`` (of ``platforms`` in all).
    """
    weight = np.asarray(platform_weight, dtype=float)
    drawn = len(weight)
    wanted = platforms_each(investors, mean_platforms, dispersion, drawn, rng)
    pairs = np.empty(0, dtype=np.int64)
    missing = wanted.copy()
    cumulative = np.cumsum(weight / weight.sum())
    for _ in range(100):  # draw, drop repeats, draw again for what repeats took away
        owner = np.repeat(np.arange(investors, dtype=np.int64), missing)
        chosen = np.minimum(np.searchsorted(cumulative, rng.random(len(owner))), drawn - 1)
        new = np.unique(owner * drawn + chosen)
        at = np.searchsorted(pairs, new)
        held = np.zeros(len(new), dtype=bool)  # already held by the investor
        if len(pairs):
            held = (at < len(pairs)) & (pairs[np.minimum(at, len(pairs) - 1)] == new)
        pairs = np.insert(pairs, at[~held], new[~held])  # stays sorted, no sort of the whole
        missing -= np.bincount(new[~held] // drawn, minlength=investors)
        if not missing.any():
            break
    investor, platform = pairs // drawn, (pairs % drawn).astype(np.int32) + first_platform
    wealth_fen = np.exp(rng.normal(np.log(median_wealth_cny * 100), wealth_sigma, investors))
    share = rng.exponential(1.0, len(pairs))
    share /= np.bincount(investor, share, minlength=investors)[investor]
    balance = np.floor(wealth_fen[investor] * share).astype(np.int64)
    return Positions(investor, platform, balance, investors,
                     first_platform + drawn if platforms is None else platforms)
