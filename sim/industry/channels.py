"""Contagion channels (传染渠道): how one platform's failure reaches the others.

Each channel turns today's failures into withdrawal requests at other platforms (or into defaults of
their borrowers), and records what it asked for per platform, so a run that follows can be put down
to the channels that made it (:class:`RequestLog`):

* ``shared_investors`` (连锁挤兑): an investor who held money on a platform that failed or froze asks
  back ``pull_share`` of what they hold on every other platform;
* ``network``: each such investor tells ``degree`` friends (a fixed random graph), who ask back
  ``pull_share`` of what they hold everywhere;
* ``sentiment`` (行业情绪): the news moves an industry-wide index that multiplies everyone's
  ordinary withdrawals and holds back new money;
* ``regulators``: events on a class of platforms (:mod:`sim.industry.events`);
* ``co_debt`` (共债): borrowers of the failed platform who also owe elsewhere stop paying there;
  the losses reach that platform's investors, who ask for their money back (:func:`loss_share`).
"""

from __future__ import annotations

import numpy as np

REQUEST_CHANNELS = ("ordinary", "sentiment", "shared_investors", "network", "regulators", "co_debt")
ATTRIBUTION_DAYS = 30.0  # a run is put down to the requests of about the last month


class RequestLog:
    """Requests per channel per platform: today's, and a decaying sum of the last month's (fen)."""

    def __init__(self, platforms: int) -> None:
        self.today = np.zeros((len(REQUEST_CHANNELS), platforms), dtype=np.int64)
        self.recent = np.zeros((len(REQUEST_CHANNELS), platforms))
        self.month = np.zeros(len(REQUEST_CHANNELS), dtype=np.int64)

    def add(self, channel: str, per_platform_fen: np.ndarray) -> None:
        """Record what ``channel`` asked of each platform today."""
        self.today[REQUEST_CHANNELS.index(channel)] += per_platform_fen

    def close_day(self) -> None:
        """Fold today into the month's totals and the decaying recent sums."""
        self.recent = self.recent * np.exp(-1.0 / ATTRIBUTION_DAYS) + self.today
        self.month += self.today.sum(axis=1)
        self.today[:] = 0

    def shares(self, platforms: np.ndarray) -> np.ndarray:
        """(channels, len(platforms)) share of each channel in the recent requests of ``platforms``."""
        recent = self.recent[:, platforms]
        total = recent.sum(axis=0)
        return np.divide(recent, total, out=np.zeros_like(recent), where=total > 0)


class Network:
    """Each investor's ``degree`` friends, drawn uniformly (a fixed random graph)."""

    def __init__(self, investors: int, degree: int, rng: np.random.Generator) -> None:
        self.friends = rng.integers(0, investors, (investors, degree), dtype=np.int32)

    def told(self, hit: np.ndarray) -> np.ndarray:
        """Bool per investor: a friend of someone ``hit`` (and not hit themselves)."""
        told = np.zeros(len(hit), dtype=bool)
        told[self.friends[hit].ravel()] = True
        return told & ~hit


def pull_out(positions, investors: np.ndarray, share: float, live: np.ndarray) -> np.ndarray:
    """Requests (fen per position) of ``investors`` (bool per investor) asking back a share.

    Each asks back ``share`` of what they hold beyond what they already asked, on the platforms
    still paying (``live``, bool per position).
    """
    asking = investors[positions.investor] & live
    free = positions.balance_fen - positions.queued_fen
    return np.where(asking, np.floor(free * share), 0).astype(np.int64)


def loss_share(recent_losses_fen: np.ndarray, money_fen: np.ndarray,
               multiplier: float) -> np.ndarray:
    """Share of their money not yet asked for that a platform's investors ask back today for losses.

    Losses of about the last month from borrowers who stopped paying because another platform
    failed (共债; a rate of the platform's money) make investors leave (逾期): they ask
    ``multiplier`` × that monthly loss rate / 30 a day, at most 1.
    """
    rate = np.divide(recent_losses_fen, money_fen, out=np.zeros(len(money_fen)),
                     where=money_fen > 0)
    return np.minimum(multiplier * rate / 30.0, 1.0)


def sentiment_after(sentiment: float, failed_money_share: float, failures: int, news: float,
                    config) -> float:
    """Tomorrow's sentiment (0 calm .. 1 panic) after today's failures and news, before decay."""
    moved = sentiment + config.impact * failed_money_share + config.news_per_failure * failures + news
    return float(min(1.0, moved))
