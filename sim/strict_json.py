"""Strict JSON for every file p2psim writes: no NaN, no Infinity, the reason written beside.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON: a strict parser (a browser's,
jq, a database's) refuses the file. :func:`dumps` writes a number that is not finite as ``null``
and lists, under the document's :data:`NOTE_KEY`, where each is (a JSON Pointer, RFC 6901:
``"/statistics/default_rate"``) and what it was (``"NaN"``, ``"Infinity"``, ``"-Infinity"``: a
rate with no loans to divide by, a runway that never ends).
:func:`loads` puts them back, so a kept run read again is the run that was written.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

NOTE_KEY = "non_finite"
"""The key, beside a document's numbers, that lists those written as null and what they were."""

_WORDS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def dumps(value: Any, **options) -> str:
    """``value`` as strict JSON (``json.dumps`` options pass through).

    NumPy numbers and arrays become plain numbers and lists; a number that is not finite becomes
    ``null``, listed in a dictionary document's :data:`NOTE_KEY` by its JSON Pointer
    (``"/statistics/default_rate"``, ``"/points/2/mean"``).
    """
    found: dict[str, str] = {}
    plain = finite(value, "", found)
    if found and isinstance(plain, dict):
        plain = {**plain, NOTE_KEY: found}
    return json.dumps(plain, allow_nan=False, **options)


def loads(text: str) -> Any:
    """Read strict JSON written by :func:`dumps`, with its non-finite numbers put back."""
    return restore(json.loads(text))


def restore(value: Any) -> Any:
    """A document read from strict JSON with its non-finite numbers put back (in place)."""
    if isinstance(value, dict) and isinstance(value.get(NOTE_KEY), dict):
        for place, word in value.pop(NOTE_KEY).items():
            _put(value, place, float({"NaN": "nan", "Infinity": "inf"}.get(word, "-inf")))
    return value


def finite(value: Any, place: str = "", found: dict[str, str] | None = None) -> Any:
    """``value`` with NumPy types made plain and every non-finite number None (noted in ``found``)."""
    found = {} if found is None else found
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isfinite(number):
            return number
        found[place] = _WORDS[repr(number)]
        return None
    if isinstance(value, dict):
        return {key: finite(item, f"{place}/{_escaped(key)}", found) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [finite(item, f"{place}/{i}", found) for i, item in enumerate(value)]
    return value


def _escaped(key: Any) -> str:
    """A key as a JSON Pointer's step ("~" as "~0", "/" as "~1")."""
    return str(key).replace("~", "~0").replace("/", "~1")


def _put(document: Any, place: str, number: float) -> None:
    """Set the number at JSON Pointer ``place`` inside ``document``."""
    steps = [step.replace("~1", "/").replace("~0", "~") for step in place.split("/")[1:]]
    node = document
    try:
        for step in steps[:-1]:
            node = node[int(step) if isinstance(node, list) else step]
        last = steps[-1]
        node[int(last) if isinstance(node, list) else last] = number
    except (KeyError, IndexError, TypeError, ValueError):
        return  # a place that is not there (a hand-edited file): left as null
