"""A scenario's value by dotted key, as ``--set`` writes it (``platforms.0.service_fee``).

The plan's uncertain inputs, its sources and ``--solve`` name numbers of the scenario this way;
loading a scenario checks that every such key names one.
"""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """An uncertain input that names no number of the scenario."""


def lookup(values: dict, key: str, where: str):
    """The scenario's value of dotted ``key`` (``platforms.0.service_fee``); InputError if none."""
    node: Any = values
    for part in key.replace("__", ".").split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise InputError(f"{where}: {key!r} names no key of the scenario "
                             f"(write it as --set does, e.g. platforms.0.service_fee)")
    return node


def base_value(values: dict, key: str, index: int):
    """The number(s) at dotted ``key``; InputError if none, or not a number."""
    node = lookup(values, key, f"plan.uncertain[{index}].key")
    numbers = node if isinstance(node, list) else [node]
    if not numbers or not all(isinstance(v, int | float) and not isinstance(v, bool)
                              for v in numbers):
        raise InputError(f"plan.uncertain[{index}].key: {key!r} is {node!r}, not a number or a "
                         f"list of numbers")
    return node
