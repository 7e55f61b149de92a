"""Investors' positions across platforms: sparse (investor, platform) pairs, never a dense array.

An industry of a million investors on a thousand platforms holds about two million positions, not a
billion cells: three arrays of the positions' length (investor, platform, balance in fen), sorted by
investor. Per-platform totals are one ``np.bincount``; the investors a failure touches, and what they
pull out of their other platforms (the shared-investor channel of contagion, 连锁挤兑), are two
vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.industry.kernels import group_sums


@dataclass
class Positions:
    """Balances of investors on platforms, one entry per (investor, platform) pair."""

    investor: np.ndarray  # int64, sorted
    platform: np.ndarray  # int32
    balance_fen: np.ndarray  # int64: the investor's money on that platform (cash and notes)
    investors: int
    platforms: int
    queued_fen: np.ndarray | None = None  # int64: withdrawals asked for and not yet paid (提现中)
    group_start: np.ndarray | None = None  # with sorted_by_platform: platform p's rows start here

    def __len__(self) -> int:
        return len(self.investor)

    def platform_totals_fen(self, values: np.ndarray | None = None) -> np.ndarray:
        """Sum per platform of ``values`` (default: the balances), in fen."""
        values = self.balance_fen if values is None else values
        if self.group_start is not None and values.dtype == np.int64:
            return group_sums(self.group_start, values)
        return np.bincount(self.platform, values, minlength=self.platforms).round().astype(np.int64)

    def sorted_by_platform(self) -> Positions:
        """The same positions sorted by (platform, investor), each platform's rows one slice."""
        order = np.lexsort((self.investor, self.platform))
        platform = self.platform[order]
        return Positions(self.investor[order], platform, self.balance_fen[order], self.investors,
                         self.platforms, np.zeros(len(order), dtype=np.int64),
                         np.searchsorted(platform, np.arange(self.platforms + 1)))

    def platforms_per_investor(self) -> np.ndarray:
        """How many platforms each investor holds money on."""
        return np.bincount(self.investor, minlength=self.investors)

    def investors_on(self, platforms: np.ndarray) -> np.ndarray:
        """Bool per investor: holds money on any of ``platforms`` (bool per platform)."""
        touched = np.zeros(self.investors, dtype=bool)
        touched[self.investor[platforms[self.platform]]] = True
        return touched

    def shared_investor_withdrawals(self, failed: np.ndarray, pull_share: float) -> np.ndarray:
        """Fen each platform's investors ask back because they also held a platform that failed.

        ``failed``: bool per platform (failed, or froze withdrawals, today); ``pull_share``: the
        share of their balance elsewhere such an investor asks back (0 switches the channel off).
        A platform that shares no investor with a failed one is asked for nothing.
        """
        hit = self.investors_on(failed)[self.investor] & ~failed[self.platform]
        asked = np.floor(self.balance_fen[hit] * pull_share)
        return np.bincount(self.platform[hit], asked, minlength=self.platforms).astype(np.int64)


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
                   median_wealth_cny: float = 30_000.0, wealth_sigma: float = 1.0) -> Positions:
    """Positions of ``investors`` investors: how many platforms each, which, and how much on each.

    Platforms are chosen in proportion to ``platform_weight`` (e.g. their active investors), without
    repeating one for the same investor; an investor's wealth (log-normal, CNY) is split over their
    platforms by a flat Dirichlet.
    """
    weight = np.asarray(platform_weight, dtype=float)
    platforms = len(weight)
    wanted = platforms_each(investors, mean_platforms, dispersion, platforms, rng)
    pairs = np.empty(0, dtype=np.int64)
    missing = wanted.copy()
    cumulative = np.cumsum(weight / weight.sum())
    for _ in range(100):  # draw, drop repeats, draw again for what repeats took away
        owner = np.repeat(np.arange(investors, dtype=np.int64), missing)
        chosen = np.minimum(np.searchsorted(cumulative, rng.random(len(owner))), platforms - 1)
        new = np.unique(owner * platforms + chosen)
        at = np.searchsorted(pairs, new)
        held = np.zeros(len(new), dtype=bool)  # already held by the investor
        if len(pairs):
            held = (at < len(pairs)) & (pairs[np.minimum(at, len(pairs) - 1)] == new)
        pairs = np.insert(pairs, at[~held], new[~held])  # stays sorted, no sort of the whole
        missing -= np.bincount(new[~held] // platforms, minlength=investors)
        if not missing.any():
            break
    investor, platform = pairs // platforms, (pairs % platforms).astype(np.int32)
    wealth_fen = np.exp(rng.normal(np.log(median_wealth_cny * 100), wealth_sigma, investors))
    share = rng.exponential(1.0, len(pairs))
    share /= np.bincount(investor, share, minlength=investors)[investor]
    balance = np.floor(wealth_fen[investor] * share).astype(np.int64)
    return Positions(investor, platform, balance, investors, platforms)
