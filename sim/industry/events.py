"""Dated events of an industry: the regulators' timeline, a named platform's collapse, the police.

Each ``[[industry.events]]`` is scheduled on the market's calendar (Mesa's event list,
:class:`sim.market.events.Calendar`) on the first day of its month:

* ``tighten`` (regulators): the class's background hazard times ``hazard_multiplier`` for ``months``
  (the 2018 专项整治 inspection, a custody deadline); a detailed platform of the class has its
  investors' trust fall by the event's ``news``;
* ``ban`` (regulators): the class stops lending and winds down (良性退出); its investors ask for
  everything back (a ban that forces fund pools, 资金池, to unwind);
* ``shrink`` (regulators, 三降): for ``months`` the class takes no new money (no deposits, no
  flight-to-quality money; a detailed platform of the class no new savings), so its balance only
  runs off as its investors withdraw (the 2019 exit programme's order to reduce balances,
  investors and borrowers);
* ``collapse``: the named platforms (``platforms = [ids or names]``, or the ``largest = N`` of the
  class among the drawn platforms: a historical collapse is not the scenario's own platform's) fail;
  a detailed platform named here sees its operators flee (跑路);
* ``investigation`` (经侦介入): the police close the named platforms.

Every event adds ``news`` to the industry's sentiment when that channel is on. Events of the
regulators are skipped when ``channels.regulators.enabled`` is false; a collapse or an investigation
is a fact of the scenario and always happens.
"""

from __future__ import annotations

import numpy as np

from sim.industry import failures
from sim.industry.hazard import OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS
from sim.loans import DAYS_PER_MONTH
from sim.runs.failure import fail
from sim.scenario.industry import IndustryEvent, month_index

REGULATORS = ("tighten", "ban", "shrink")


def in_class(industry, name: str) -> np.ndarray:
    """Bool per platform: in class ``name`` (one of ``sim.scenario.industry.PLATFORM_CLASSES``)."""
    p = industry.platforms
    if name == "all":
        return np.ones(industry.n, dtype=bool)
    if name in BUSINESS_MODELS:
        return p.business_model == BUSINESS_MODELS.index(name)
    if name in OWNER_TYPES:
        return p.owner == OWNER_TYPES.index(name)
    if name in ("custody", "no_custody"):
        return p.custody == (name == "custody")
    return industry.registered == (name == "registered")


def schedule(calendar, industry) -> None:
    """Put every event of the industry on the market's calendar."""
    first = month_index(industry.config.start)
    for event in industry.config.events:
        calendar.on(DAYS_PER_MONTH * (month_index(event.month) - first), happen, event)


def chosen(industry, event: IndustryEvent) -> np.ndarray:
    """Bool per platform: the platforms an event hits (those still paying their investors)."""
    alive = industry.alive & industry.launched & ~industry.failing
    member = in_class(industry, event.platform_class) & alive
    if event.kind in REGULATORS:
        return member
    hit = np.zeros(industry.n, dtype=bool)
    for name in event.platforms:
        hit[industry.names.index(name) if isinstance(name, str)
            else industry.detailed + name] = True
    if event.largest:
        money = industry.money_fen()
        drawn = member & industry.pooled
        ranked = np.flatnonzero(drawn)[np.argsort(-money[drawn], kind="stable")]
        hit[ranked[: event.largest]] = True
    return hit & alive


def happen(market, day: int, event: IndustryEvent) -> None:
    """The event, on ``day`` (its month's first day)."""
    industry = market.industry
    if event.kind in REGULATORS and not industry.config.channels.regulators.enabled:
        return
    hit = chosen(industry, event)
    if industry.config.channels.sentiment.enabled:
        industry.sentiment = min(1.0, industry.sentiment + event.news)
    detailed = {platform.index: platform for platform in market.platforms}
    if event.kind == "tighten":
        industry.hazard_multiplier[hit] = event.hazard_multiplier
        industry.multiplier_until[hit] = day + DAYS_PER_MONTH * event.months
        market.runs.heard(np.flatnonzero(hit), event.news)
    elif event.kind == "shrink":
        industry.shrinking |= hit
        industry.shrink_until[hit] = day + DAYS_PER_MONTH * event.months
        market.runs.heard(np.flatnonzero(hit), event.news)
    elif event.kind == "ban":
        hit &= industry.operating
        failures.ban(industry, hit, day)
        for p in np.flatnonzero(hit & ~industry.pooled):
            fail(market, detailed[p], day, "regulators' ban", how="wind_down")
    else:
        kind = "跑路" if event.kind == "collapse" else "经侦介入"
        for p in np.flatnonzero(hit & ~industry.pooled):
            how = "flee" if event.kind == "collapse" else "closure"
            fail(market, detailed[p], day, f"{event.kind} ({event.month})", how=how)
        failures.mark(industry, hit, "named", kind)
