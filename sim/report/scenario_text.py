"""A scenario (the dict a results folder recorded) written back as TOML text for people to read.

Tables become ``[section]`` headers, lists of tables ``[[section]]``; a key without a value
(``None``) is written as a comment, since TOML has no null. The text is for reading: the folder's
JSON keeps the exact values.
"""

from __future__ import annotations

import json
from pathlib import Path


def scenario_toml(scenario: dict) -> str:
    """The scenario as TOML-like text, tables in the order they were recorded."""
    lines: list[str] = []
    _table(scenario, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(table: dict, path: list[str], lines: list[str]) -> None:
    plain = {k: v for k, v in table.items() if not _is_table(v) and not _is_table_list(v)}
    for key, value in plain.items():
        lines.append(f"# {key} = (not set)" if value is None else f"{key} = {_value(value)}")
    for key, value in table.items():
        if _is_table(value):
            lines += ["", f"[{'.'.join(path + [key])}]"]
            _table(value, path + [key], lines)
        elif _is_table_list(value):
            for item in value:
                lines += ["", f"[[{'.'.join(path + [key])}]]"]
                _table(item, path + [key], lines)


def _is_table(value) -> bool:
    return isinstance(value, dict)


def _is_table_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def overrides_text(scenario_file: str | None, as_run: dict) -> str:
    """The keys where the scenario as run differs from its file, ``key = value, ...`` ("none").

    ``as_run`` may name a key by its field or by its alias (an industry's summary writes
    ``industry.events.N.class``): either is compared with the file's.

    Says so when the file is gone or no longer loads (it may have been edited since).
    """
    from sim.scenario import ScenarioError, load_scenario

    if not scenario_file or not Path(scenario_file).is_file():
        return "cannot tell: the scenario file is not where it was"
    try:
        written = load_scenario(scenario_file)
    except (ScenarioError, ValueError, OSError):
        return "cannot tell: the scenario file no longer loads"
    before = (_flat(written.model_dump(mode="json"))  # a key by its name and by its alias
              | _flat(written.model_dump(mode="json", by_alias=True)))  # (industry.events.N.class)
    changed = [f"{key} = {_value(value)}" for key, value in _flat(as_run).items()
               if before.get(key, object()) != value]
    return ", ".join(changed) if changed else "none"


def _flat(table, prefix: str = "") -> dict:
    """A nested scenario as ``{"platforms.0.service_fee": 0.03, ...}``."""
    out = {}
    items = table.items() if isinstance(table, dict) else enumerate(table)
    for key, value in items:
        path = f"{prefix}{key}"
        if isinstance(value, dict) or _is_table_list(value):
            out |= _flat(value, f"{path}.")
        else:
            out[path] = value
    return out
