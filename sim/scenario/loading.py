"""Reading a scenario: the file, the overrides, validation, and every platform's policies built once."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from sim import footprint
from sim.policies import FAMILIES, PolicyContext, PolicyError, build
from sim.runs.rules import resolve_rule
from sim.scenario.based_on import drop_sources_of_removed_keys, with_base
from sim.scenario.files import read_toml_file, without_negative_zero
from sim.scenario.keys import InputError, base_value, lookup
from sim.scenario.messages import Source, describe_errors, find_line, key_name, split_key
from sim.scenario.schema import PlatformConfig, Scenario, ScenarioError


def load_scenario(source: str | Path | dict | Scenario | None = None,
                  overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, override and validate a scenario.

    Parameters
    ----------
    source : path, dict, Scenario or None
        A TOML file, an already parsed mapping, a scenario, or None for the defaults.
    overrides : dict
        Values that replace keys of the file, by dotted path (``"macro.asset_correlation"``,
        ``"platforms.0.service_fee"``) or with ``__`` for ``.`` (as keyword arguments).

    Raises
    ------
    ScenarioError
        With one line per problem, naming the file, the key, the line and what is allowed.
    """
    text, label, sources = None, "<scenario>", None
    if isinstance(source, Scenario):
        raw = source.model_dump()
    elif isinstance(source, dict):
        raw = source
    elif source is None:
        raw = {}
    else:
        label = str(Path(source))
        text, raw = read_toml_file(Path(source), "scenario", ScenarioError)
        own = raw

        def read_base(path: Path) -> tuple[str, dict]:
            base_text, tables = read_toml_file(path, "scenario", ScenarioError)
            bases.append(Source(str(path), base_text, tables))
            return base_text, tables

        bases: list[Source] = []
        raw = with_base(Path(source), raw, read_base, ScenarioError)
        if bases:  # a key at fault is named in the file that gives it
            sources = [Source(label, text, own), *bases]
    scenario = validate_tables(Scenario, raw, overrides or {}, label, sources or text)
    try:
        footprint.check(scenario, label)
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    if isinstance(source, Scenario):
        scenario.source_dir = source.source_dir
    elif text is not None:
        scenario.source_dir = str(Path(source).resolve().parent)
    _check_policies(scenario, label, text)
    _check_rule(scenario, label, text)
    _check_plan_keys(scenario, label)
    if scenario.industry is not None:
        _check_industry_files(scenario, label, text)
    return scenario


PLATFORM_COLUMNS = ("wdzj_id", "owner_type", "province", "launch_month", "registered_capital_cny",
                    "monthly_volume_cny", "outstanding_cny", "investors", "annual_yield",
                    "average_term_months")
"""The columns of a table of platforms an industry is drawn from (data/wdzj_platforms.csv)."""


def _check_plan_keys(scenario: Scenario, label: str) -> None:
    """Each of the plan's uncertain inputs names a number (or numbers) of the scenario.

    Checked for every command, not only ``p2psim plan``: a scenario file is right or wrong as a
    whole.
    """
    if not scenario.plan.uncertain and not scenario.plan.sources:
        return
    values = scenario.model_dump()
    for i, spec in enumerate(scenario.plan.uncertain):
        try:
            base_value(values, spec.key, i)
        except InputError as error:
            raise ScenarioError(f"{label}: {error}") from None
    for key in scenario.plan.sources:
        try:
            lookup(values, key, "plan.sources")
        except InputError as error:
            raise ScenarioError(f"{label}: {error}") from None


def _check_industry_files(scenario: Scenario, label: str, text: str | None) -> None:
    """The industry's platforms file is a table of platforms; a detailed platform's WDZJ id is in it."""
    from sim.industry.population import PLATFORMS_FILE

    industry = scenario.industry
    folder = Path(scenario.source_dir or ".")
    path, key = PLATFORMS_FILE, ("industry", "platforms_file")
    if industry.platforms_file:
        path = folder / industry.platforms_file
    line = find_line(text, key) if text and industry.platforms_file else None
    where = f"{label}, line {line}" if line else label
    table = check_platforms_file(path, where)
    if industry.platforms_file:  # the user's own table (the shipped pool is the 2017 industry's)
        _launched_within_the_run(table, scenario, path, where)
    for i, platform in enumerate(scenario.platforms):
        wanted = platform.industry.wdzj_id if platform.industry else None
        if wanted is not None and wanted not in set(table.wdzj_id):
            loc = ("platforms", i, "industry", "wdzj_id")
            line = find_line(text, loc) if text else None
            where = f"{label}, line {line}" if line else label
            raise ScenarioError(f"{where}: {key_name(loc)}: {wanted} is not a platform of the "
                                f"industry's table {path}; give a wdzj_id of it, or none for a "
                                f"platform of its own")


def _launched_within_the_run(table: pd.DataFrame, scenario: Scenario, path: Path,
                             where: str) -> None:
    """No platform of the table launches after the run's last month (a date from another file).

    A platform launched after the industry's start is drawn as a young one at the start (its age
    counts from 0).
    """
    from sim.scenario.industry import month_index, month_name

    last = month_index(scenario.industry.start) + (scenario.run.horizon_days + 29) // 30 - 1
    launched = np.array([month_index(m) for m in table.launch_month.astype(str)])
    late = np.flatnonzero(launched > last)
    if late.size:
        row = int(late[0])
        raise ScenarioError(f"{where}: industry.platforms_file: {path}, row {row + 2}: "
                            f"launch_month {table.launch_month.iloc[row]} is after the run's last "
                            f"month {month_name(last)}")


def check_platforms_file(path: Path, where: str) -> pd.DataFrame:
    """A platforms file has the pool's columns, known owner types, amounts that are numbers >= 0.

    Returns the table; raises ScenarioError naming the file, the row and the column otherwise.
    """
    from sim.industry.hazard import OWNER_TYPES
    from sim.scenario.industry import MONTH_PATTERN

    key = f"{where}: industry.platforms_file"
    try:
        table = pd.read_csv(path, dtype={"launch_month": str})
    except FileNotFoundError:
        raise ScenarioError(f"{key}: no such file {path}") from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as error:
        raise ScenarioError(f"{key}: {path} is not a readable CSV ({error})") from None
    missing = [c for c in PLATFORM_COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(f"{key}: {path} lacks the columns {', '.join(missing)} (needed: "
                            f"{', '.join(PLATFORM_COLUMNS)})")
    if table.empty:
        raise ScenarioError(f"{key}: {path} holds no platform")
    unknown = sorted(set(table.owner_type.astype(str)) - set(OWNER_TYPES))
    if unknown:
        raise ScenarioError(f"{key}: {path}: unknown owner_type {unknown[0]!r}; allowed: "
                            f"{', '.join(OWNER_TYPES)}")
    months = table.launch_month.astype(str).str.fullmatch(MONTH_PATTERN.strip("^$"))
    if not months.all():
        row = int(np.flatnonzero(~months.to_numpy())[0])
        raise ScenarioError(f"{key}: {path}, row {row + 2}: launch_month must be YYYY-MM (got "
                            f"{table.launch_month.iloc[row]!r})")
    amounts = ["wdzj_id", "registered_capital_cny", "monthly_volume_cny", "outstanding_cny",
               "investors", "annual_yield", "average_term_months"]
    values = table[amounts].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bounds = {"annual_yield": (1.0, "100 %"), "average_term_months": (120.0, "months"),
              "investors": (2e8, "the whole industry had about 40 million"),
              **{name: (1e13, "10 万亿 CNY, ten times the whole industry's balance at its peak")
                 for name in amounts if name.endswith("_cny")}}
    high = np.array([bounds.get(name, (np.inf, ""))[0] for name in amounts])
    bad = ~np.isfinite(values) | (values < 0) | (values > high)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        limit = (f" and at most {high[col]:g} ({bounds[amounts[col]][1]})"
                 if np.isfinite(high[col]) else "")
        raise ScenarioError(f"{key}: {path}, row {row + 2}: {amounts[col]} must be a number >= 0"
                            f"{limit} (got {table[amounts[col]].iloc[row]!r})")
    return table


def parse_set(item: str) -> tuple[str, object]:
    """A command line's ``--set KEY=VALUE``: the key, and the value read as TOML (else as text)."""
    if "=" not in item:
        raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. macro.asset_correlation=0.1")
    key, value = item.split("=", 1)
    try:
        parsed = without_negative_zero(tomllib.loads(f"v = {value}")["v"])
    except tomllib.TOMLDecodeError:
        parsed = value
    return key.strip(), parsed


def _check_rule(scenario: Scenario, label: str, text: str | None) -> None:
    """The runs' decision rule must be one that can be built."""
    try:
        resolve_rule(scenario.runs.rule, scenario.source_dir)
    except ValueError as error:
        line = find_line(text, ("runs", "rule")) if text else None
        where = f"{label}, line {line}" if line else label
        raise ScenarioError(f"{where}: runs.rule: {error}") from None


def policy_context(scenario: Scenario, platform: PlatformConfig) -> PolicyContext:
    """The market facts the platform's policies are built with."""
    grades = scenario.grades
    return PolicyContext(
        platform=platform.name, grade_names=list(grades.names),
        grade_rate=np.asarray(grades.annual_rate, dtype=np.float64),
        default_hazard_monthly=np.asarray(grades.default_hazard_monthly, dtype=np.float64),
        recovery_rate=np.asarray(grades.recovery_rate, dtype=np.float64),
        cure_probability=grades.cure_probability,
        default_after_days=scenario.loans.default_after_days, source_dir=scenario.source_dir)


def _check_policies(scenario: Scenario, label: str, text: str | None) -> None:
    """Build every platform's policies once, so a bad name or parameter stops the load."""
    for i, platform in enumerate(scenario.platforms):
        context = policy_context(scenario, platform)
        for family in FAMILIES:
            try:
                build(family, getattr(platform, family), context, scenario.source_dir)
                if (family == "guarantee" and platform.funding == "fund_pool"
                        and platform.guarantee["policy"] != "none"):
                    raise PolicyError("policy", "a fund pool promises principal and interest "
                                      "itself: its guarantee policy must be 'none'")
            except PolicyError as error:
                loc = ("platforms", i, family, *split_key(error.key))
                line = find_line(text, loc) if text else None
                where = f"{label}, line {line}" if line else label
                raise ScenarioError(f"{where}: {key_name(loc)}: {error}") from None


def validate_tables(model: type[BaseModel], raw: dict, overrides: dict[str, Any], label: str,
                    text: str | list | None):
    """``raw`` with ``overrides`` applied, validated as ``model``; a ScenarioError names each key.

    ``text`` is the file's, or for a file ``based_on`` others a list of :class:`Source` (the file,
    then its bases, nearest first), so that a key at fault is named where it is written.
    """
    merged = drop_sources_of_removed_keys(raw, apply_overrides(raw, overrides, label))
    try:
        return model.model_validate(merged)
    except ValidationError as error:
        raise ScenarioError(describe_errors(error, label, text, overrides, model)) from None


def apply_overrides(raw: dict, overrides: dict[str, Any], label: str) -> dict:
    """A copy of ``raw`` with each dotted key of ``overrides`` set (a missing table is made)."""
    merged = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        parts = dotted.replace("__", ".").split(".")
        node: Any = merged
        if any(not part for part in parts):
            raise ScenarioError(f"{label}: override {dotted!r}: not a key (e.g. macro.persistence "
                                f"or platforms.0.service_fee)")
        for depth, part in enumerate(parts[:-1]):
            key: Any = int(part) if part.isdigit() else part
            if not isinstance(node, dict | list):
                raise ScenarioError(f"{label}: override {dotted!r}: {'.'.join(parts[:depth])} is "
                                    f"a value ({node!r}), not a table with keys")
            if isinstance(node, list):
                if not isinstance(key, int) or key >= len(node):
                    raise ScenarioError(f"{label}: override {dotted!r}: no item {part} in "
                                        f"{'.'.join(parts[:depth])}")
                node = node[key]
            else:
                if key == "platforms" and "platforms" not in node:
                    node["platforms"] = [{}]
                node = node.setdefault(key, {})
        last = parts[-1]
        if not isinstance(node, dict | list):
            raise ScenarioError(f"{label}: override {dotted!r}: {'.'.join(parts[:-1])} is a value "
                                f"({node!r}), not a table with keys")
        if isinstance(node, list):
            raise ScenarioError(f"{label}: override {dotted!r} must name a key, not a list item")
        node[last] = value
    return merged
