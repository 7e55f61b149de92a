"""Dated events of an industry run: the regulators' timeline, a named platform's collapse, the police.

* ``tighten`` (regulators): the class's background hazard times ``hazard_multiplier`` for ``months``
  (the 2018 专项整治 inspection, a custody deadline);
* ``ban`` (regulators): the class stops lending and winds down; its investors ask for everything
  back (a ban that forces fund pools, 资金池, to unwind);
* ``collapse``: the named platforms (``platforms = [ids]`` or the ``largest = N`` of the class) fail;
* ``investigation`` (经侦介入): the police close the named platforms.

Every event adds ``news`` to the industry's sentiment when that channel is on. Events of the
regulators are skipped when ``channels.regulators.enabled`` is false; a collapse or an investigation
is a fact of the scenario and always happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.industry.config import Event, month_index
from sim.industry.hazard import OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS, Industry

REGULATORS = ("tighten", "ban")


@dataclass
class Classes:
    """What puts a platform in a class: business model, owner, custody, registration."""

    industry: Industry
    registered: np.ndarray

    def mask(self, name: str) -> np.ndarray:
        """Bool per platform: in class ``name`` (one of config.PLATFORM_CLASSES)."""
        ind = self.industry
        if name == "all":
            return np.ones(len(ind), dtype=bool)
        if name in BUSINESS_MODELS:
            return ind.business_model == BUSINESS_MODELS.index(name)
        if name in OWNER_TYPES:
            return ind.owner == OWNER_TYPES.index(name)
        if name in ("custody", "no_custody"):
            return ind.custody == (name == "custody")
        return self.registered == (name == "registered")


def events_by_day(events: list[Event], start: str) -> dict[int, list[Event]]:
    """The events keyed by the run's day they happen (the first day of their month)."""
    by_day: dict[int, list[Event]] = {}
    for event in events:
        day = 30 * (month_index(event.month) - month_index(start))
        by_day.setdefault(day, []).append(event)
    return by_day


def chosen(event: Event, classes: Classes, money_fen: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Bool per platform: the platforms an event hits (alive ones only)."""
    in_class = classes.mask(event.platform_class) & alive
    if event.kind in REGULATORS:
        return in_class
    hit = np.zeros(len(alive), dtype=bool)
    hit[event.platforms] = True
    if event.largest:
        ranked = np.flatnonzero(in_class)[np.argsort(-money_fen[in_class], kind="stable")]
        hit[ranked[: event.largest]] = True
    return hit & alive
