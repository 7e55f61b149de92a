"""Reading an industry scenario: the TOML file, ``--set`` overrides, validation, the platforms file.

Every problem is a :class:`sim.scenario.ScenarioError` naming the file, the key (``channels.rumours``,
``events[2].class``, ``industry.model_shares``), its line and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.industry.config import IndustryScenario
from sim.industry.hazard import OWNER_TYPES
from sim.scenario.loading import read_toml_file, validate_tables
from sim.scenario.messages import find_line
from sim.scenario.schema import ScenarioError

PLATFORM_COLUMNS = ("wdzj_id", "owner_type", "province", "launch_month", "registered_capital_cny",
                    "monthly_volume_cny", "outstanding_cny", "investors", "annual_yield",
                    "average_term_months")


def load_industry_scenario(source: str | Path | dict | IndustryScenario | None = None,
                           overrides: dict[str, Any] | None = None) -> IndustryScenario:
    """Read, override and validate an industry scenario (raises ScenarioError naming the key)."""
    if isinstance(source, IndustryScenario):
        return source
    text, label, raw, folder = None, "<industry scenario>", source or {}, Path(".")
    if isinstance(source, str | Path):
        label, folder = str(Path(source)), Path(source).resolve().parent
        text, raw = read_toml_file(Path(source), "scenario", ScenarioError)
    market = sorted(set(raw) & {"platforms", "borrowers", "investors", "grades", "loans", "macro"})
    if market and "industry" not in raw:
        raise ScenarioError(f"{label}: {market[0]}: this is a market scenario (one market, its "
                            f"platforms by name); run it with `p2psim run {label}`")
    scenario = validate_tables(IndustryScenario, raw, overrides or {}, label, text)
    scenario.source_dir = str(folder)
    if scenario.industry.platforms_file:
        line = find_line(text, ("industry", "platforms_file")) if text else None
        where = f"{label}, line {line}" if line else label
        check_platforms_file(folder / scenario.industry.platforms_file, where)
    return scenario


def check_platforms_file(path: Path, where: str) -> None:
    """A platforms file has the pool's columns, known owner types, amounts that are numbers >= 0."""
    key = f"{where}: industry.platforms_file"
    try:
        table = pd.read_csv(path, dtype={"launch_month": str})
    except FileNotFoundError:
        raise ScenarioError(f"{key}: no such file {path}") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise ScenarioError(f"{key}: {path} is not a readable CSV ({error})") from None
    missing = [c for c in PLATFORM_COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(f"{key}: {path} lacks the columns {', '.join(missing)} (needed: "
                            f"{', '.join(PLATFORM_COLUMNS)})")
    if table.empty:
        raise ScenarioError(f"{key}: {path} holds no platform")
    unknown = sorted(set(table.owner_type) - set(OWNER_TYPES))
    if unknown:
        raise ScenarioError(f"{key}: {path}: unknown owner_type {unknown[0]!r}; allowed: "
                            f"{', '.join(OWNER_TYPES)}")
    amounts = ["registered_capital_cny", "monthly_volume_cny", "outstanding_cny", "investors",
               "annual_yield", "average_term_months"]
    values = table[amounts].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy(dtype=float) < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ScenarioError(f"{key}: {path}, row {row + 2}: {amounts[col]} must be a number >= 0 "
                            f"(got {table[amounts[col]].iloc[row]!r})")
