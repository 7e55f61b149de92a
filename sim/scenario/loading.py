"""Reading a scenario: the file, the overrides, validation, and every platform's policies built once."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from sim import footprint
from sim.policies import FAMILIES, PolicyContext, PolicyError, build
from sim.runs.rules import resolve_rule
from sim.scenario.messages import describe_errors, find_line, key_name, split_key
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
    text, label = None, "<scenario>"
    if isinstance(source, Scenario):
        raw = source.model_dump()
    elif isinstance(source, dict):
        raw = source
    elif source is None:
        raw = {}
    else:
        label = str(Path(source))
        text, raw = read_toml_file(Path(source), "scenario", ScenarioError)
        if "industry" in raw:
            raise ScenarioError(f"{label}: industry: this is an industry scenario (many platforms "
                                f"drawn from data); run it with `p2psim industry {label}`")
    scenario = validate_tables(Scenario, raw, overrides or {}, label, text)
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
    return scenario


def _check_rule(scenario: Scenario, label: str, text: str | None) -> None:
    """The runs' decision rule must be one that can be built."""
    try:
        resolve_rule(scenario.runs.rule, scenario.source_dir)
    except ValueError as error:
        line = find_line(text, ("runs", "rule")) if text else None
        where = f"{label}, line {line}" if line else label
        raise ScenarioError(f"{where}: runs.rule: {error}") from None


def read_text_file(path: Path, what: str, error: type[Exception]) -> str:
    """Read a UTF-8 text file (a byte-order mark is allowed); refuse anything else, naming the file.

    Raises
    ------
    error
        If the file is missing, a folder, unreadable, or not UTF-8 text.
    """
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a folder; give the {what} file (.toml) itself")
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise error(f"{path}: is not UTF-8 text (byte 0x{data[problem.start]:02x} at position "
                    f"{problem.start}); save the {what} file as UTF-8") from None
    if "\x00" in text:
        raise error(f"{path}: is not a text file (it holds NUL bytes); give a TOML {what} file")
    return text


def read_toml_file(path: Path, what: str, error: type[Exception]) -> tuple[str, dict]:
    """The text of a TOML file and its tables (see :func:`read_text_file`); bad TOML raises ``error``."""
    text = read_text_file(path, what, error)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML: {problem}") from None


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
                    text: str | None):
    """``raw`` with ``overrides`` applied, validated as ``model``; a ScenarioError names each key."""
    merged = apply_overrides(raw, overrides, label)
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
