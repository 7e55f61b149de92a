"""Error messages for a scenario: the key as the user wrote it, its line in the file, what is allowed.

``platforms[0].service_fee`` rather than pydantic's ``('platforms', 0, 'service_fee')``; the line is
found by reading the TOML text (tomllib keeps no positions).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from sim.scenario.industry import MONTH_PATTERN
from sim.scenario.schema import NAME_RULE, Scenario

PATTERN_RULES = {MONTH_PATTERN: "a month YYYY-MM from 2000-01 to 2099-12, e.g. \"2017-01\""}
"""What each pattern of the schema asks for, in words (any other: a name's rule)."""


def split_key(key: str) -> list:
    """``"a.0.b"`` as ``["a", 0, "b"]``."""
    return [int(part) if part.isdigit() else part for part in key.split(".")]


class Source(NamedTuple):
    """A scenario file as read: its name, its text and its tables (before its bases are merged)."""

    label: str
    text: str | None
    tables: dict


def gives(tables: Any, loc: tuple) -> bool:
    """Whether a file's own ``tables`` give the key at ``loc`` (``platform_changes`` included)."""
    changes = tables.get("platform_changes") if isinstance(tables, dict) else None
    if len(loc) > 1 and loc[0] == "platforms" and changes is not None \
            and _holds(changes, (str(loc[1]), *loc[2:])):
        return True
    return _holds(tables, loc)


def _holds(node: Any, loc: tuple) -> bool:
    for part in loc:
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    return True


def _located(label: str, text: str | list[Source] | None, loc: tuple) -> tuple[str, str | None]:
    """The file that gives the key at ``loc`` (the scenario, or the base it comes from), its text."""
    if not isinstance(text, list):
        return label, text
    for depth, source in enumerate(text):
        if gives(source.tables, loc):
            return (label if depth == 0 else f"{label} (from its base {source.label}"
                    f"{'' if depth == 1 else f', {depth} files down'})"), source.text
    return label, text[0].text


def describe_errors(error: ValidationError, label: str, text: str | list[Source] | None,
                    overrides: dict[str, Any], root: type[BaseModel] = Scenario) -> str:
    """One line per problem (20 at most): where (file, line or override), the key, what is allowed.

    ``text`` is the file's, or a list of :class:`Source`: the file and the files it is
    ``based_on``, nearest first; a key at fault is then placed in the file that gives it.
    """
    overridden = {tuple(split_key(k.replace("__", "."))): k.replace("__", ".") for k in overrides}
    lines = []
    for item in error.errors()[:20]:
        loc = item["loc"]
        key = key_name(loc)
        where, own_text = _located(label, text, loc)
        by = next((k for path, k in overridden.items() if tuple(loc[:len(path)]) == path), None)
        line = find_line(own_text, loc) if own_text and by is None else None
        if by is not None:
            where += f" (override {by})"
        elif line:
            where += f", line {line}"
        if item["type"] == "extra_forbidden":
            allowed = allowed_keys(loc[:-1], root)
            message = f"unknown key; allowed here: {', '.join(allowed)}"
        else:
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "string_pattern_mismatch":
                pattern = item.get("ctx", {}).get("pattern")
                message = (f"use {PATTERN_RULES[pattern]}" if pattern in PATTERN_RULES
                           else f"use {NAME_RULE}")
            if "input" in item and item["type"] not in ("missing",) and not isinstance(
                    item["input"], dict):
                message += f" (got {short_repr(item['input'])})"
        lines.append(f"{where}: {key or '<top level>'}: {message}")
    if len(error.errors()) > 20:
        lines.append(f"{label}: ... and {len(error.errors()) - 20} more problems")
    return "\n".join(lines)


def short_repr(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters (a list of 1,001 platforms is not a message)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def key_name(loc: tuple) -> str:
    """A location as the user writes the key: ``platforms[0].service_fee``."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name


def allowed_keys(loc: tuple, root: type[BaseModel] = Scenario) -> list[str]:
    """The keys the table at ``loc`` of a ``root`` file allows (empty if ``loc`` is not a table)."""
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        model = args[0] if args and isinstance(args[0], type) else annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return list(model.model_fields)


def find_line(text: str, loc: tuple) -> int | None:
    """Line (1-based) of the key at ``loc`` in the TOML text, or None if it is not written there."""
    keys = [p for p in loc if isinstance(p, str)]
    index = next((p for p in loc if isinstance(p, int)), None)
    if not keys:
        return None
    table, key = keys[:-1], keys[-1]
    current: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        header = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?$", line)
        if header:
            current = header.group(1).split(".")
            if line.startswith("[["):
                seen[header.group(1)] = seen.get(header.group(1), -1) + 1
            continue
        if re.match(rf"^{re.escape(key)}\s*=", line) and current == table:
            if index is None or seen.get(".".join(table[:1]), 0) == index:
                return number
    if table and index is None:  # the whole table: point at its header
        for number, raw in enumerate(text.splitlines(), start=1):
            if raw.strip().strip("[]") == ".".join(keys):
                return number
    return None


def file_errors(error: ValidationError, path) -> str:
    """A study file's validation errors (an experiment, an estimation): ``path: key: message`` each."""
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "<top level>"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{path}: {key}: {message}")
    return "\n".join(lines)
