"""The parameter table of docs/odd.md, written from a shipped scenario and its estimation file.

    .venv/bin/python docs/tables/odd.py scenarios/thunderstorm_2018.toml estimation/wave_2018.toml

Prints Markdown: every parameter of the industry's behaviour (``[runs]``, ``[industry]`` and its
behaviour, channels, policies and entrants, the credit grades, the dated events) with the value the
scenario runs at and where that value comes from: **estimated** (a parameter of the estimation
file, fitted to the WDZJ data), **data** (calibrated from a data file, named), **dated input** (a
dated event: its date and kind are history the replay takes as given, its size an assumption) or
**assumption** (set in the scenario, or the
model's default). tests/test_odd.py checks that docs/odd.md holds the table of the shipped files.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sim.industry.results import event_text  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SECTIONS = ("runs", "industry", "grades")
"""The scenario's tables that hold the industry's behaviour (a market's own are docs/scenarios.md's)."""

DATA = {
    "industry.background_period": "data/wdzj_hazard.json: the failure hazard by owner, age, capital "
                                  "and province, calibrated on WDZJ's problem platforms",
    "industry.entrants.rate_multiplier": "x the launches a month in WDZJ's platform data "
                                         "(sim/industry/entrants.py)",
    "industry.mean_platforms_per_investor": "WDZJ/盈灿 investor surveys (most on 1-3 platforms)",
    **{f"grades.{key}": "LendingClub 2007-2010 loan tape (docs/calibration.md)"
       for key in ("names", "application_share", "annual_rate", "default_hazard_monthly",
                   "prepay_hazard_monthly", "recovery_rate")},
}
"""Keys whose values come from a data file or survey, and which (a prefix covers its table)."""

SKIPPED = ("runs.events", "industry.platforms_file", "runs.rule", "industry.events")
"""Keys that name things rather than set a quantity (listed in the text of docs/odd.md)."""


def leaves(model: BaseModel, prefix: str):
    """(key, value, description) of every setting of ``model``, tables flattened to dotted keys."""
    for name, field in type(model).model_fields.items():
        key, value = f"{prefix}.{name}", getattr(model, name)
        if key in SKIPPED:
            continue
        if isinstance(value, BaseModel):
            yield from leaves(value, key)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for i, item in enumerate(value):
                yield from leaves(item, f"{key}.{i}")
        else:
            yield key, value, field.description or ""


def written(raw: dict, key: str) -> bool:
    """Whether the scenario's own file (``raw``) sets ``key``."""
    node = raw
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def source(key: str, estimated: set[str], raw: dict) -> str:
    """Where the value of ``key`` comes from, in the table's words."""
    if key in estimated:
        return "**estimated**"
    for prefix, text in DATA.items():
        if key == prefix or key.startswith(prefix + "."):
            return f"data: {text}"
    return "assumption" if written(raw, key) else "assumption (the model's default)"


def shown(value) -> str:
    """A value as the table writes it."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {shown(v)}" for k, v in value.items())
    return str(value)


def parameter_table(scenario_path: Path, estimation_path: Path) -> str:
    """The Markdown table of every behavioural parameter of the scenario, with its source."""
    raw = tomllib.loads(scenario_path.read_text(encoding="utf-8"))
    spec = tomllib.loads(estimation_path.read_text(encoding="utf-8"))
    estimated = {p["key"] for p in spec.get("parameters", [])}
    scenario = load_scenario(scenario_path)
    rows = ["| key | value | what it is | source |", "| --- | --- | --- | --- |"]
    for section in SECTIONS:
        for key, value, description in leaves(getattr(scenario, section), section):
            text = description.replace("|", "/")
            rows.append(f"| `{key}` | {shown(value)} | {text} | {source(key, estimated, raw)} |")
    for i, event in enumerate(scenario.industry.events):
        rows.append(f"| `industry.events.{i}` | {event_text(event)}, news {event.news:g} | a dated "
                    f"event | dated input (its date and kind are history; its size and news are "
                    f"assumptions, held fixed in the estimation) |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(parameter_table(Path(sys.argv[1]), Path(sys.argv[2])))
