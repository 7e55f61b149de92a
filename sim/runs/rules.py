"""Decision rules: what investors do with their trust in a platform (pluggable, like the policies).

A rule is a class with ``grow(n, rng)`` (draw the per-investor parameters of ``n`` new investors)
and ``decide(trust, rows=None)`` returning :class:`Decisions`. One rule decides for every platform:
a detailed platform's investors pass their (investors, platforms) trust; the positions on pooled
platforms pass their trust as one column with ``rows``, the investor of each position (an
investor's parameters are the same on every platform they hold). A rule that is two lines in trust
(run below one, stop reinvesting below the other, as the threshold rule) says so with
``lines(rows)``; the positions are then decided in one compiled pass
(:func:`sim.kernels.decide_positions`) against the same lines instead of through ``decide``. A
scenario names a built-in rule (``[runs] rule = "threshold"``) or its own class as
``package.module:ClassName`` (looked for in the scenario's folder too); subclassing
:class:`DecisionRule` gives the defaults.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sim.scenario.runs import RunsConfig


class Decisions(NamedTuple):
    """What each investor does today on each platform, (investors, platforms) boolean arrays."""

    stop_reinvesting: np.ndarray  # no more auto-invest bids there (停止复投)
    withdraw: np.ndarray          # ask for all idle cash (提现)
    sell_notes: np.ndarray        # offer their notes on the secondary market (债权转让)
    redeem: np.ndarray            # redeem their fund-pool products (赎回)


class DecisionRule:
    """Base of decision rules: nobody ever acts (subclass and override :meth:`decide`)."""

    def __init__(self, config: RunsConfig) -> None:
        self.config = config

    def grow(self, n: int, rng: np.random.Generator) -> None:
        """Draw the parameters of ``n`` investors who have just joined (none here)."""

    def decide(self, trust: np.ndarray, rows: np.ndarray | None = None) -> Decisions:
        """Today's decisions from trust (0-1): rows are investors (``rows``: whose), columns platforms."""
        nothing = np.zeros(trust.shape, dtype=bool)
        return Decisions(nothing, nothing, nothing, nothing)

    def lines(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The rule as lines in trust, per row: (run below, stop reinvesting below), float32.

        None (the default) for a rule that is not two lines: it decides through :meth:`decide`.
        """
        return None


class ThresholdRule(DecisionRule):
    """The default: each investor runs below a trust threshold of their own.

    Thresholds are drawn once per investor, normal with mean ``withdraw_below`` and sd
    ``threshold_sd`` (clipped to [0, 1]). Below it they withdraw idle cash, sell their notes and
    redeem products; below it plus ``stop_reinvest_margin`` they stop reinvesting.
    """

    def __init__(self, config: RunsConfig) -> None:
        super().__init__(config)
        self.threshold = np.zeros(0, dtype=np.float32)

    def grow(self, n: int, rng: np.random.Generator) -> None:
        """Thresholds of ``n`` new investors."""
        c = self.config
        drawn = np.clip(c.withdraw_below + c.threshold_sd * rng.standard_normal(n), 0.0, 1.0)
        self.threshold = np.concatenate([self.threshold, drawn.astype(np.float32)])

    def lines(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each row's threshold (run below it) and the threshold plus the margin (stop below it)."""
        threshold = self.threshold if rows is None else self.threshold[rows]
        return threshold, threshold + np.float32(self.config.stop_reinvest_margin)

    def decide(self, trust: np.ndarray, rows: np.ndarray | None = None) -> Decisions:
        """Run below one's threshold; stop reinvesting a margin above it."""
        run_below, stop_below = self.lines(rows)
        run = trust < run_below[:, None]
        stop = trust < stop_below[:, None]
        return Decisions(stop, run, run, run)


RULES: dict[str, type[DecisionRule]] = {"threshold": ThresholdRule, "never": DecisionRule}


def resolve_rule(name: str, search_dir: str | Path | None = None) -> type[DecisionRule]:
    """The class a scenario's ``runs.rule`` names; ValueError with what is allowed otherwise."""
    if name in RULES:
        return RULES[name]
    if ":" not in name:
        raise ValueError(f"unknown decision rule {name!r}; built-in: {', '.join(sorted(RULES))}, "
                         f"or 'package.module:ClassName'")
    module_name, _, class_name = name.partition(":")
    added = search_dir is not None and str(search_dir) not in sys.path
    if added:
        sys.path.insert(0, str(search_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any failure in the user's module is reported
        raise ValueError(f"cannot import module {module_name!r} for decision rule {name!r}: "
                         f"{type(error).__name__}: {error}") from None
    finally:
        if added:
            sys.path.remove(str(search_dir))
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls) or not callable(getattr(cls, "decide", None)) \
            or not callable(getattr(cls, "grow", None)):
        raise ValueError(f"{name!r} must be a class with grow(n, rng) and decide(trust, rows=None) "
                         f"(subclass sim.runs.rules.DecisionRule)")
    return cls
