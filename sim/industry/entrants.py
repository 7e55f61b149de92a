"""New platforms (新平台上线): how many launch each month, what they are, who invests in them.

The WDZJ data give the platforms launched each month over those operating in January 2017
(``data/wdzj_moments.json``, written by ``python calibration/wave_moments.py``: 2017 saw about 1.2 %
of the industry's number launch a month, 2018 a fifth of that, none after August 2018 in the data).
An industry of ``N`` drawn platforms gets, for each month of the run, ``Poisson(N × rate ×
rate_multiplier)`` entrants, drawn when the industry is built (so the whole industry's arrays are
sized once) from the same pool as the others, then made young (launched that month: the hazard's
youngest age band) and small (``size_factor``, by default the data's young platforms' median
investors over the median reporting platform's, 0.35). Their investors are industry investors
chosen at random; their positions hold nothing until the launch, when the money comes in as
deposits. Everything about the entrants comes from the industry's ``entrants`` stream, so adding
them moves no other draw.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np

from sim.industry.population import IndustryPlatforms, draw_industry
from sim.ledger import WORLD, AccountKind, Memo
from sim.runs.states import RunState
from sim.scenario.industry import month_name

MOMENTS_FILE = Path(__file__).resolve().parents[2] / "data" / "wdzj_moments.json"


def entry_rates(months: list[str], path: Path = MOMENTS_FILE) -> tuple[np.ndarray, float]:
    """Launches a month per platform operating in January 2017, for each of ``months`` (YYYY-MM).

    A month outside the data (after 2018-08) has none. Also returns the young platforms' size.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))["entrants"]
    stock = data["operating_2017_01"]
    rates = np.array([data["launches"].get(m, 0) / stock for m in months])
    return rates, float(data["young_size"]["investors"])


def draw_entrants(industry, rng: np.random.Generator) -> tuple[IndustryPlatforms, np.ndarray]:
    """The entrants of the whole run: their attributes and the run's month each launches in."""
    cfg = industry.config
    months = (industry.scenario.run.horizon_days + 29) // 30
    names = [month_name(industry.first_month + m) for m in range(months)]
    rates, young_size = entry_rates(names)
    counts = rng.poisson(cfg.platforms * rates * cfg.entrants.rate_multiplier)
    total = int(counts.sum())
    drawn = draw_industry(total, rng, industry.hazard.provinces, cfg.model_shares,
                          cfg.custody_by_owner, pool=industry.pool_file)
    size = cfg.entrants.size_factor or young_size
    month = np.repeat(np.arange(months), counts)
    drawn.launch_month = industry.first_month + month
    for name in ("monthly_volume_cny", "outstanding_cny"):
        setattr(drawn, name, getattr(drawn, name) * size)
    drawn.investors = np.maximum(np.round(drawn.investors * size), 1).astype(np.int64)
    if cfg.policies.custody_mandate:  # every platform's cash with a bank, the new ones' too
        drawn.custody[:] = True
    return drawn, month


def joined(platforms: IndustryPlatforms, entrants: IndustryPlatforms) -> IndustryPlatforms:
    """The industry's platforms with the entrants after them."""
    return IndustryPlatforms(**{f.name: np.concatenate([getattr(platforms, f.name),
                                                        getattr(entrants, f.name)])
                                for f in fields(IndustryPlatforms)})


def entrant_positions(industry, first: int, investors_each: np.ndarray,
                      rng: np.random.Generator, positions_per_investor: float):
    """Positions of the entrants ``first, first + 1, ...``: (investor, platform, balance fen).

    An entrant's positions are ``investors_each × positions_per_investor`` industry investors
    chosen at random, each with the money a position of the drawn platforms holds on average (a
    log-normal around the median wealth over the platforms per investor).
    """
    cfg = industry.config
    counts = np.maximum(np.round(investors_each * positions_per_investor), 1).astype(np.int64)
    counts = np.minimum(counts, cfg.investors)
    investor = np.concatenate([rng.choice(cfg.investors, size=c, replace=False) for c in counts]
                              ) if len(counts) else np.zeros(0, np.int64)
    platform = np.repeat(np.arange(first, first + len(counts), dtype=np.int32), counts)
    median = cfg.median_wealth_cny * 100 / cfg.mean_platforms_per_investor
    balance = np.floor(np.exp(rng.normal(np.log(median), cfg.wealth_sigma, len(investor))))
    return investor.astype(np.int64), platform, balance.astype(np.int64)


def launch(industry, day: int) -> None:
    """The entrants of this month open: their investors' money comes in; they lend from tomorrow."""
    if not len(industry.entrant_month):
        return
    month = day // 30
    due = np.zeros(industry.n, dtype=bool)
    due[industry.first_entrant:] = industry.entrant_month == month
    due &= industry.state == RunState.NORMAL  # a class banned before its launch never opens
    if not due.any():
        return
    pos = industry.positions
    rows = pos.rows_of(due)
    pos.balance_fen[rows] = industry.entrant_fen[rows]
    pos.lending[rows] = True
    industry.entrant_fen[rows] = 0
    money = pos.platform_totals_fen(np.where(due[pos.platform], pos.balance_fen, 0))
    industry.market.ledger.post(WORLD, AccountKind.INVESTOR_CASH, money, Memo.DEPOSIT)
    industry.launched |= due
    industry.tracker.add("entrants", int(due.sum()))
    industry.tracker.add("entrant_money", int(money.sum()), money)
