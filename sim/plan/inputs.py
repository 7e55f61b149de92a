"""The uncertain inputs of a plan, drawn afresh for every run (``[[plan.uncertain]]``).

Run ``k`` draws its inputs from its own stream (the plan's seed and ``k``), so a run's inputs depend
only on the plan and its number, never on the worker or the order. A draw is the value itself
(``how = "set"``), a factor on the scenario's value (``scale``; every item of a list) or an amount
added to it (``shift``). Integer keys are rounded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario import Scenario
from sim.scenario.keys import InputError, base_value, lookup
from sim.scenario.plan import UncertainInput

__all__ = ["InputError", "apply", "base_value", "draw", "lookup", "run_inputs"]


def draw(spec: UncertainInput, rng: np.random.Generator) -> float:
    """One draw of ``spec``'s distribution."""
    if spec.distribution == "normal":
        return float(rng.normal(spec.mean, spec.sd))
    if spec.distribution == "lognormal":
        return float(spec.median * np.exp(spec.sigma * rng.standard_normal()))
    if spec.distribution == "uniform":
        return float(rng.uniform(spec.low, spec.high))
    return float(rng.triangular(spec.low, spec.mode, spec.high))


def run_inputs(uncertain: list[UncertainInput], scenario: Scenario, seed: int,
               run: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Run ``run``'s overrides (key to value) and its draws (key to the number drawn)."""
    rng = np.random.default_rng([seed, 2, run])  # the inputs' own stream, apart from the market's
    values = scenario.model_dump()
    overrides, draws = {}, {}
    for i, spec in enumerate(uncertain):
        drawn = draw(spec, rng)
        draws[spec.key] = drawn
        overrides[spec.key] = apply(spec, base_value(values, spec.key, i), drawn)
    return overrides, draws


def apply(spec: UncertainInput, base, drawn: float):
    """The value of ``spec.key`` in a run that drew ``drawn``."""
    if isinstance(base, list):
        return [apply(spec, item, drawn) for item in base]
    value = {"set": drawn, "scale": base * drawn, "shift": base + drawn}[spec.how]
    return int(round(value)) if isinstance(base, int) else float(value)
