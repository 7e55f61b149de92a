"""The Inputs sheet of ``plan.xlsx``: every input's value, unit and where its number came from.

A founder's plan mixes numbers from the seed documents, from laws and rules, from data, and
assumptions. ``[plan.sources]`` records the first three by key (as ``--set`` writes it); an input
with no source is either the model's default (documented with its field) or the scenario's own
assumption, and the sheet says which, so an unsourced number is visible as one.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

SKIPPED = ("plan",)  # the plan's own targets, draws and sources are not inputs

UNITS = (("_cny", "CNY"), ("_fen", "fen"), ("_days", "days"), ("_months", "months"),
         ("headcount", "people"), ("count", "count"), ("_monthly", "a month"),
         ("annual_rate", "annual rate"), ("rate_cap", "annual rate"), ("all_in_cap", "annual rate"),
         ("_share", "share (0.1 = 10 %)"), ("_fee", "share of principal or interest"),
         ("_rate", "rate (0.06 = 6 %)"), ("hazard", "a month, probability"))
"""Units read from a key's name, first match wins (docs/scenarios.md names each key's)."""


def unit_of(key: str) -> str:
    """The unit of the input at ``key``, from its name ('' where the name does not say)."""
    name = key.rsplit(".", 1)[-1]
    for suffix, unit in UNITS:
        if suffix in name:
            return unit
    return ""


def leaves(values: Any, prefix: str = "") -> dict[str, Any]:
    """Every input of a scenario's dump by dotted key; a list of numbers is one input."""
    if isinstance(values, dict):
        out: dict[str, Any] = {}
        for key, value in values.items():
            if not prefix and key in SKIPPED:
                continue
            out.update(leaves(value, f"{prefix}{key}."))
        return out
    if isinstance(values, list) and values and all(isinstance(v, dict) for v in values):
        out = {}
        for i, value in enumerate(values):
            out.update(leaves(value, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: values}


def inputs_sheet(scenario) -> pd.DataFrame:
    """One row per input: key, value, unit, source (or whether it is a default or an assumption)."""
    from sim.scenario import Scenario

    given = leaves(scenario.model_dump(mode="json"))
    defaults = leaves(Scenario().model_dump(mode="json"))
    drawn = {u.key: f"{u.distribution} ({u.how})" for u in scenario.plan.uncertain}
    rows = []
    for key, value in given.items():
        if key in scenario.plan.sources:
            source = scenario.plan.sources[key]
        elif key in defaults and defaults[key] == value:
            source = "model default (docs/scenarios.md)"
        else:
            source = "assumption: no source given"
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        rows.append({"Input": key, "Value": shown, "Unit": unit_of(key), "Source": source,
                     "Drawn in each run": drawn.get(key, "")})
    return pd.DataFrame(rows, columns=["Input", "Value", "Unit", "Source", "Drawn in each run"])
