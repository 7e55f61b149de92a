"""The market as the dashboard drives it: built from the inputs' values, one visitor's own.

Each browser session builds its own :class:`DashboardMarket` (:mod:`sim.dashboard.app`), so two
visitors never step the same market. A market's steps and the views' reads take its lock, so a
chart never reads a day half-written; steps stop at the horizon.
"""

from __future__ import annotations

import threading

import pandas as pd

from sim.dashboard.inputs import input_specs, overrides
from sim.loans import DAYS_PER_MONTH
from sim.model import P2PMarket
from sim.scenario import load_scenario

KERNELS = threading.Lock()  # one market's day at a time in this process: numba's thread pool is shared


class DashboardMarket(P2PMarket):
    """A :class:`~sim.model.P2PMarket` built from a scenario file and the dashboard's inputs.

    ``inputs`` keeps the values the market was built with (the key numbers show them), ``specs``
    the inputs with the scenario's own values (:func:`~sim.dashboard.inputs.input_specs`). Audit is
    off, as in production runs. ``step`` runs one day under ``lock`` and does nothing once the
    run has reached its horizon (``finished``).
    """

    def __init__(self, scenario_file: str = "scenarios/baseline.toml", **values) -> None:
        base = load_scenario(scenario_file)
        specs = input_specs(base, int(values.get("platform", 0)))
        unknown = sorted(set(values) - set(specs))
        if unknown:
            raise TypeError(f"unknown dashboard input(s): {', '.join(unknown)}")
        self.scenario_file, self.specs = scenario_file, specs
        self.inputs = {**{name: spec["value"] for name, spec in specs.items()}, **values}
        super().__init__(scenario_file, audit="off", **overrides(base, self.inputs))
        self.lock = threading.RLock()
        self._day_rows: tuple[int, pd.DataFrame] | None = None
        self._advance_day = self.step  # Mesa's step: the event list to the next day
        self.step = self.step_day

    @staticmethod
    def specs_for(scenario_file: str, platform: int) -> dict[str, dict]:
        """The inputs with the scenario's own values for platform number ``platform``."""
        return input_specs(load_scenario(scenario_file), platform)

    @property
    def finished(self) -> bool:
        """Whether the run has reached its horizon (or was released)."""
        return not self.running or self.day >= self.horizon_days

    def step_day(self) -> None:
        """One day, under the market's lock; nothing past the horizon."""
        with self.lock, KERNELS:
            if not self.finished:
                self._advance_day()

    def advance(self, days: int) -> int:
        """Up to ``days`` days (a frame), stopping at the horizon; the days run."""
        start = self.day
        for _ in range(days):
            if self.finished:
                break
            self.step_day()
        return self.day - start

    def day_rows(self) -> pd.DataFrame:
        """The day rows (one per day run), read under the lock and built once a day.

        Every view of a frame reads them; views only read, so one frame serves them all until the
        next day.
        """
        with self.lock:
            if self._day_rows is None or self._day_rows[0] != self.day:
                self._day_rows = self.day, self.datacollector.get_model_vars_dataframe()
            return self._day_rows[1]

    def dated_events(self) -> list[tuple[int, str]]:
        """The scenario's dated events as (day, label): downturns, runs' events, industry events."""
        config = self.config
        events = [(month * DAYS_PER_MONTH, f"downturn Z={shock:g}")
                  for month, shock in config.macro.shock_path if shock < 0]
        events += [(event.day, event.kind.replace("_", " ")) for event in config.runs.events]
        return sorted(e for e in events if 0 <= e[0] < self.horizon_days)
