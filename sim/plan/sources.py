"""The Inputs sheet of ``plan.xlsx``: every input's value, unit and where its number came from.

A founder's plan mixes numbers from the seed documents, from laws and rules, from data, and
assumptions. ``[plan.sources]`` records the first three by key (as ``--set`` writes it); an input
with no source is either the model's default (documented with its field) or the scenario's own
assumption, and the sheet says which, so an unsourced number is visible as one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

SKIPPED = ("plan",)  # the plan's own targets, draws and sources are not inputs

UNITS = (("_timing", "when charged (text)"), ("_cny", "CNY"), ("_fen", "fen"), ("_days", "days"),
         ("_months", "months"), ("headcount", "people"), ("count", "count"),
         ("_monthly", "a month"), ("annual_rate", "annual rate"), ("rate_cap", "annual rate"),
         ("all_in_cap", "annual rate"), ("_share", "share (0.1 = 10 %)"),
         ("_fee", "share of principal or interest"), ("_rate", "rate (0.06 = 6 %)"),
         ("hazard", "a month, probability"), ("_sigma", "standard deviation of the log"),
         ("_sd", "standard deviation, in the key's own unit"), ("elasticity", "per percentage point"),
         ("_weight", "trust (0-1) per unit of its signal"), ("_month", "month of the run"),
         ("month", "month of the run"), ("_daily", "share a day"), ("_per_year", "share a year"),
         ("correlation", "correlation (0-1)"), ("_probability", "probability a month"))
"""Units read from a key's name, first match wins (docs/scenarios.md names each key's)."""

UNITS_BY_NAME = {
    "seed": "integer (the random seed)", "persistence": "autocorrelation a month (0-1)",
    "initial_factor": "standard deviations (the macro factor)", "seasoning": "hazard multiplier by "
    "loan age", "shock_path": "standard deviations by month (the macro factor)",
    "applications_per_day": "applications a day", "dti_mean": "debt-to-income, % of income",
    "max_dti": "debt-to-income, % of income", "rate_tolerance_mean": "annual rate over the "
    "grade's", "score_informativeness": "0 (noise) - 1 (the true risk)",
    "bid_fraction": "share of wealth a bid", "max_scan_per_listing": "investors",
    "churn_base": "share a month", "churn_sensitivity": "share a month per unit of shortfall",
    "target_return": "annual rate", "trust_sensitivity": "share a month at no reputation",
    "reputation_sensitivity": "per unit of annual loss rate", "custody_cost_annual": "share of "
    "the money held a year", "transfer_price_floor": "share of par",
    "fire_sale_price": "share of the balance", "branches": "branches by year",
    "cost_of_funds": "annual rate", "margin": "annual rate",
    "collection_intensity": "multiplier of recoveries (1: the calibration's)",
    "compensation_reserve_cap": "share of guaranteed principal", "leverage_limit": "times net "
    "assets", "word_of_mouth": "new users a month per active user",
    "saturation_units": "units a month", "reach_per_unit": "people per unit",
    "notes_per_loan": "notes", "loans": "loans", "recession": "true / false or its table",
    "initial_trust": "trust (0-1)", "trust_sd": "trust (0-1)", "recovery_daily": "share of the "
    "gap a day", "disclosure_tolerance": "annual loss rate", "state_shock": "trust (0-1)",
    "withdraw_below": "trust (0-1)", "threshold_sd": "trust (0-1)",
    "stop_reinvest_margin": "trust (0-1)", "mean_degree": "friends per investor",
    "rewire": "probability", "events": "list of dated events (docs/runs.md)",
    "industry": "table (docs/industry.md)", "platforms": "names of platforms"}
"""Units of inputs whose name does not say it (by the key's last part)."""


def unit_of(key: str, value: Any = None) -> str:
    """The unit of the input at ``key`` (with its ``value``: text and true / false say so)."""
    name = key.rsplit(".", 1)[-1]
    if name in UNITS_BY_NAME:
        return UNITS_BY_NAME[name]
    if isinstance(value, bool):
        return "true / false"
    for suffix, unit in UNITS:
        if suffix in name:
            return unit
    if isinstance(value, str) or (isinstance(value, list) and value
                                  and all(isinstance(v, str) for v in value)):
        return "text"
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


MODEL_DEFAULT = "model default (docs/scenarios.md)"
NO_SOURCE = "assumption: no source given"
GENERATED_SOURCES = (MODEL_DEFAULT, NO_SOURCE)
"""What the sheet writes where no source is given: not a source a founder wrote."""


def written_keys(path: str | Path | None, overrides: dict[str, Any] | None = None) -> set[str]:
    """The inputs the scenario file (with its bases) and the overrides give, as dotted keys."""
    from sim.scenario import ScenarioError
    from sim.scenario.based_on import with_base
    from sim.scenario.files import read_toml_file

    keys = set(overrides or {})
    if path is None:
        return keys
    _, tables = read_toml_file(Path(path), "scenario", ScenarioError)
    tables = with_base(Path(path), tables,
                       lambda base: read_toml_file(base, "scenario", ScenarioError), ScenarioError)
    return keys | set(leaves(tables))


def inputs_sheet(scenario, written: set[str] | None = None) -> pd.DataFrame:
    """One row per input: key, value, unit, source (or whether it is a default or an assumption).

    ``written``: the keys the founder's file and overrides give (:func:`written_keys`); an input
    among them with no source is the founder's assumption, even where it equals the model's
    default, and only an input they are silent on is a "model default". Without ``written``,
    an input equal to the default is taken as one.
    """
    from sim.scenario import Scenario

    given = leaves(scenario.model_dump(mode="json"))
    defaults = leaves(Scenario().model_dump(mode="json"))
    drawn = {u.key: f"{u.distribution} ({u.how})" for u in scenario.plan.uncertain}
    rows = []
    for key, value in given.items():
        said = (key in written or any(key.startswith(f"{k}.") for k in written)
                if written is not None else not (key in defaults and defaults[key] == value))
        if key in scenario.plan.sources:
            source = scenario.plan.sources[key]
        else:
            source = NO_SOURCE if said else MODEL_DEFAULT
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        rows.append({"Input": key, "Value": shown, "Unit": unit_of(key, value), "Source": source,
                     "Drawn in each run": drawn.get(key, "")})
    return pd.DataFrame(rows, columns=["Input", "Value", "Unit", "Source", "Drawn in each run"])
