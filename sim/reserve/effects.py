"""What separates the simulation from the closed form, each effect measured by switching it off.

``p2psim reserve SCENARIO --effects`` runs, after the study, one side study per effect that the
scenario has (:data:`EFFECTS`), on the same seed and paths, with that effect switched off and every
other setting the study's: a downturn the scenario fixes in every path, the economy moving month by
month, borrowers of a grade who differ, cures, lending during the horizon, late recoveries. For each
it reports the simulated loss quantile and Vasicek's formula at each confidence, and how far the
gap between them moves when the effect is off: the part of the gap the effect makes. Errors of a
change combine the two studies' as if independent, an upper bound since they share their paths.
Side studies are written to a temporary folder and dropped; what they found is ``effects.csv``.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any


def _fixed(s) -> bool:
    return bool(s.macro.shock_path or s.macro.initial_factor is not None or s.stress.recession)


EFFECTS = (
    ("a downturn fixed in every path", _fixed,
     {"macro.shock_path": [], "macro.initial_factor": None, "stress.recession": []}),
    ("the economy moving month by month", lambda s: s.macro.persistence < 1.0,
     {"macro.persistence": 1.0}),
    ("borrowers of a grade who differ", lambda s: s.borrowers.hazard_dispersion > 0,
     {"borrowers.hazard_dispersion": 0.0}),
    ("cures of missed instalments", lambda s: s.grades.cure_probability > 0,
     {"grades.cure_probability": 0.0}),
    ("late recoveries", lambda s: getattr(s.grades, "recovery_lag_months", 0) > 0,
     {"grades.recovery_lag_months": 0}),
)
"""(effect, whether the scenario has it, the keys that switch it off)."""


def effects_of(scenario) -> list[tuple[str, dict[str, Any]]]:
    """The effects the scenario has, each with the overrides that switch it off."""
    return [(name, keys) for name, present, keys in EFFECTS if present(scenario)]


def measure_effects(request, plan, results: dict, run_study) -> list[dict]:
    """One side study per effect; rows of what each found beside the study's own figures.

    ``run_study(request) -> results`` runs a study (the reserve study itself, without effects).
    """
    rows = []
    main = {row["confidence"]: row for row in results["closed_form"]}
    for name, keys in effects_of(plan.scenario):
        with tempfile.TemporaryDirectory(prefix="p2psim-effect-") as folder:
            side = run_study(dataclasses.replace(
                request, out=str(Path(folder) / "study"), effects=False, quiet=True,
                overrides={**(request.overrides or {}), **keys},
                label=f"{request.label or plan.scenario.run.name}, without {name}"))
        for row in side["closed_form"]:
            base = main[row["confidence"]]
            gap, side_gap = _gap(base), _gap(row)
            rows.append({
                "effect": name, "switched off by": ", ".join(f"{k} = {v!r}" for k, v in keys.items()),
                "confidence": row["confidence"],
                "simulated_cny": row["simulated_cny"], "simulated_se": row["simulated_se"],
                "formula_cny": row["formula_cny"],
                "study_simulated_cny": base["simulated_cny"],
                "change_cny": base["simulated_cny"] - row["simulated_cny"],
                "change_se": math.hypot(base["simulated_se"], row["simulated_se"]),
                "gap_cny": gap, "gap_without_cny": side_gap,
                "gap_made_by_it_cny": gap - side_gap,
                "mean_loss_cny": _mean(side), "study_mean_loss_cny": _mean(results)})
    return rows


def _gap(row: dict) -> float:
    """Simulated less formula at one confidence (CNY)."""
    return row["simulated_cny"] - row["formula_cny"]


def _mean(results: dict) -> float:
    """The study's mean credit loss (CNY)."""
    return next(r["estimate"] for r in results["statistics"]["credit_loss"]
                if r["statistic"] == "mean")
