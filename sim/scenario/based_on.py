"""A scenario written as changes to another: ``based_on = "../seed_business_plan.toml"``.

The failure cases (``scenarios/cases/``) are the seed plan with what broke changed; rather than a
copy of its 200 lines each, a case names the file it starts from and gives only what differs.
Tables merge key by key (a case's ``[platforms.company]`` keys replace the base's, the rest stay),
except a policy's table naming another policy, which replaces the base's whole; any other value,
a list included, replaces the base's whole. ``platforms`` is a list: a case that
changes a platform gives ``[[platforms]]`` whole, or changes it key by key with a table
``[platform_changes.0]`` (``platform_changes.0.liquidity.custody = false``). A base may itself be
based on another; the path is relative to the file that names it. The base's ``[plan.sources]``
for keys a file takes away (a guarantee policy replaced) are dropped with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_DEPTH = 8  # bases of bases; deeper is surely a loop


def with_base(path: Path, tables: dict, read, error: type[Exception], depth: int = 0) -> dict:
    """``tables`` of the file at ``path`` merged over its base's (recursively), without the key.

    ``read(path) -> (text, tables)`` reads a TOML file; ``error`` is raised naming the file and key.
    """
    if "based_on" not in tables and "platform_changes" not in tables:
        return tables
    tables = dict(tables)
    base_name = tables.pop("based_on", None)
    changes = tables.pop("platform_changes", {})
    if base_name is None:
        raise error(f"{path}: platform_changes needs based_on, the file whose platforms it changes")
    if not isinstance(base_name, str) or not base_name:
        raise error(f"{path}: based_on must be the path of a scenario file, e.g. "
                    f"\"../seed_business_plan.toml\"")
    if depth >= MAX_DEPTH:
        raise error(f"{path}: based_on: more than {MAX_DEPTH} files deep; is there a loop?")
    base_path = (path.parent / base_name)
    if not base_path.is_file():
        raise error(f"{path}: based_on = {base_name!r}: no such file ({base_path})")
    _, base = read(base_path)
    base = with_base(base_path, base, read, error, depth + 1)
    merged = _change_platforms(merge(base, tables), changes, path, error)
    return drop_sources_of_removed_keys(base, merged)


def merge(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` laid over it: tables key by key, every other value whole.

    A policy's table that names another policy replaces the base's whole (its keys are another
    policy's).
    """
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) \
                and value.get("policy", out[key].get("policy")) == out[key].get("policy"):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def drop_sources_of_removed_keys(base: dict, tables: dict) -> dict:
    """``tables`` less the ``[plan.sources]`` of keys the base gave and they took away.

    A file ``based_on`` another that replaces a policy, or an override that empties a list (the
    capital raises of a short run), takes the keys with it; their sources go too.

    Every other source stays, to be checked as any scenario's are.
    """
    sources = tables.get("plan", {}).get("sources")
    if not isinstance(sources, dict):
        return tables
    kept = {key: text for key, text in sources.items()
            if _holds(tables, key) or not _holds(base, key)}
    return {**tables, "plan": {**tables["plan"], "sources": kept}}


def _holds(tables: Any, key: str) -> bool:
    """Whether the raw ``tables`` give dotted ``key``."""
    node = tables
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def _change_platforms(tables: dict, changes: Any, path: Path, error) -> dict:
    if not isinstance(changes, dict):
        raise error(f"{path}: platform_changes must be tables by platform number "
                    f"([platform_changes.0])")
    platforms = list(tables.get("platforms", []))
    for index, change in changes.items():
        if not (index.isdigit() and int(index) < len(platforms)) or not isinstance(change, dict):
            if not platforms:
                raise error(f"{path}: platform_changes.{index}: the base has no [[platforms]] to "
                            f"change; give the platform whole with [[platforms]]")
            which = "platform 0" if len(platforms) == 1 else f"platforms 0 to {len(platforms) - 1}"
            raise error(f"{path}: platform_changes.{index}: the base has {which}; give a table "
                        f"of changes for one of them")
        platforms[int(index)] = merge(platforms[int(index)], change)
    if changes:
        tables["platforms"] = platforms
    return tables
