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
from sim.scenario.based_on import with_base
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


OTHER_FILES = {"estimation": ("an estimation file", "p2psim estimate"),
               "schemes": ("a board of protection schemes", "p2psim board"),
               "experiment": ("an experiment file", "p2psim experiment")}
"""A file's top table that says it is not a scenario: what it is, and the command it is for."""


def not_a_scenario(path: Path, tables: dict) -> str | None:
    """Why the file at ``path`` (read as ``tables``) is not a scenario, naming its command; or None."""
    for table, (what, command) in OTHER_FILES.items():
        if table in tables:
            return f"{path}: {table}: this is {what}, not a scenario; run it with `{command} {path}`"
    return None


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


def without_negative_zero(value: Any) -> Any:
    """``value`` with every -0.0 read as 0.0 (numpy refuses a scale of -0.0 that ``>= 0`` allows)."""
    if isinstance(value, dict):
        return {key: without_negative_zero(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_negative_zero(item) for item in value]
    if isinstance(value, float) and value == 0.0:
        return 0.0
    return value


def _check_rule(scenario: Scenario, label: str, text: str | None) -> None:
    """The runs' decision rule must be one that can be built."""
    try:
        resolve_rule(scenario.runs.rule, scenario.source_dir)
    except ValueError as error:
        line = find_line(text, ("runs", "rule")) if text else None
        where = f"{label}, line {line}" if line else label
        raise ScenarioError(f"{where}: runs.rule: {error}") from None


def file_fault(path: Path) -> str | None:
    """Why ``path`` is not a file that can be opened, or None if it is one.

    "no such file", "is a folder", or the system's reason for a name it cannot look up (one too
    long for the file system, say).
    """
    try:
        if path.is_dir():
            return "is a folder"
        return None if path.is_file() else "no such file"
    except OSError as error:  # e.g. a name longer than the file system allows
        return (error.strerror or str(error)).lower()


def shortened(path: Path | str, most: int = 120) -> str:
    """A path as a message shows it: whole up to ``most`` characters, else its ends and its length."""
    text = str(path)
    if len(text) <= most:
        return text
    return f"{text[:most // 2]}...{text[-most // 3:]} ({len(text):,} characters)"


def read_text_file(path: Path, what: str, error: type[Exception]) -> str:
    """Read a UTF-8 text file (a byte-order mark is allowed); refuse anything else, naming the file.

    Raises
    ------
    error
        If the file is missing, a folder, unreadable, or not UTF-8 text.
    """
    path = Path(path)
    fault = file_fault(path)
    if fault == "is a folder":
        raise error(f"{path}: is a folder; give the {what} file (.toml) itself")
    if fault:
        raise error(f"{path}: no such {what} file{'' if fault == 'no such file' else f' ({fault})'}")
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
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML: {problem}") from None
    except RecursionError:
        raise error(f"{path}: arrays or tables nested too deeply to read (thousands of levels); "
                    f"no key of a {what} nests more than a few") from None
    tables = without_negative_zero(tables)
    if not tables:
        raise error(f"{path}: holds no settings (an empty file, or comments only); give a TOML "
                    f"{what} file, e.g. one of the shipped ones")
    garbled = _gbk_read_as_utf8(tables)
    if garbled:
        raise error(f"{path}: {garbled[0]!r} looks like GBK text read as UTF-8 (it reads "
                    f"{garbled[1]!r} in GBK); save the {what} file as UTF-8")
    return text, tables


def _gbk_read_as_utf8(tables: Any) -> tuple[str, str] | None:
    """A key or string of ``tables`` that is Chinese saved as GBK whose bytes are valid UTF-8.

    Such bytes decode to letters of the two-byte UTF-8 range (U+0080 to U+07FF: "平台" in GBK reads
    "ƽ̨"); a string whose non-ASCII letters are all in that range and whose bytes read in GBK are
    all Chinese characters (CJK ideographs) is taken for one. Comments are not looked at.
    """
    stack = [tables]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            wide = [c for c in item if ord(c) > 0x7F]
            if not wide or not all(ord(c) <= 0x7FF for c in wide):
                continue
            try:
                chinese = item.encode("utf-8").decode("gbk")
            except UnicodeDecodeError:
                continue
            if all(0x4E00 <= ord(c) <= 0x9FFF for c in chinese if ord(c) > 0x7F):
                return item, chinese
    return None


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
