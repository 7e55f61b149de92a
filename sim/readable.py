"""Readable views of one loan or one investor: plain numbers, and long lists cut short.

``market.book[0]`` and ``market.investors[17]`` return frozen dataclasses built on
:class:`Readable`, whose ``repr`` writes ``24.25`` rather than ``np.float64(24.25)`` and a loan's 200
notes as the first few and a count of the rest.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

LIST_HEAD = 3
"""Items of a long list that a view shows before ``... and N more``."""


def plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, in tuples, lists and dicts too."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    return value


def cut_repr(value: Any) -> str:
    """``repr`` of a plain value; a list longer than ``LIST_HEAD + 1`` shows its head and a count."""
    if isinstance(value, list) and len(value) > LIST_HEAD + 1:
        head = ", ".join(repr(item) for item in value[:LIST_HEAD])
        return f"[{head}, ... and {len(value) - LIST_HEAD} more]"
    return repr(value)


class Readable:
    """Mixin for a dataclass view: plain numbers in its fields, a short ``repr``."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, plain(getattr(self, field.name)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{field.name}={cut_repr(getattr(self, field.name))}"
                           for field in dataclasses.fields(self))
        return f"{type(self).__name__}({fields})"
