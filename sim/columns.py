"""Struct-of-arrays storage that grows: one numpy column per field, one row per agent or loan.

Populations and the loan book append rows every day. Re-allocating on every append would copy the
whole book daily, so each column keeps spare capacity and doubles when full; ``len(table)`` rows are
live and ``table.column`` is a view of exactly those rows.
"""

from __future__ import annotations

import numpy as np


class Columns:
    """A growable table of numpy columns with a shared row count.

    Parameters
    ----------
    schema : dict[str, numpy dtype]
        Column names and their dtypes.
    capacity : int
        Rows allocated at the start.
    """

    def __init__(self, schema: dict[str, np.dtype], capacity: int = 1024) -> None:
        self._schema = dict(schema)
        self._capacity = max(capacity, 1)
        self._data = {name: np.zeros(self._capacity, dtype=dt) for name, dt in schema.items()}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is not None and name in data:
            return data[name][: self.__dict__["_n"]]
        raise AttributeError(name)

    @property
    def names(self) -> list[str]:
        """Column names, in schema order."""
        return list(self._schema)

    def append(self, **values: np.ndarray) -> slice:
        """Append rows given as equal-length arrays (or scalars) for every column; return their slice."""
        lengths = {len(v) for v in values.values() if isinstance(v, np.ndarray) and v.ndim}
        if len(lengths) > 1:
            raise ValueError("columns appended with different lengths")
        n = lengths.pop() if lengths else 1
        if len(values) != len(self._schema) or not values.keys() <= self._schema.keys():
            missing = sorted(set(self._schema) - set(values))
            raise ValueError(f"append needs exactly the columns of the table; missing {missing}")
        self.reserve(self._n + n)
        rows = slice(self._n, self._n + n)
        for name, value in values.items():
            self._data[name][rows] = value
        self._n += n
        return rows

    def reserve(self, rows: int) -> None:
        """Make room for at least ``rows`` rows, doubling the capacity as needed."""
        capacity = self._capacity
        if rows <= capacity:
            return
        while capacity < rows:
            capacity *= 2
        for name, old in self._data.items():
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: self._n] = old[: self._n]
            self._data[name] = grown
        self._capacity = capacity

    def keep(self, kept: np.ndarray) -> None:
        """Keep only the rows where ``kept`` (bool per row) is True, in their order.

        Each column is copied into a fresh array of the same capacity, so the memory of the rows
        that left goes back (the untouched spare rows take none).
        """
        n = int(np.count_nonzero(kept))
        for name, old in self._data.items():
            fresh = np.zeros(self._capacity, dtype=old.dtype)
            fresh[:n] = old[: self._n][kept]
            self._data[name] = fresh
        self._n = n

    def row(self, index: int) -> dict:
        """One row as a plain dict (for readable single-agent views)."""
        if not 0 <= index < self._n:
            raise IndexError(f"row {index} out of range 0..{self._n - 1}")
        return {name: self._data[name][index].item() for name in self._schema}

    def frame(self):
        """All live rows as a pandas DataFrame (a copy)."""
        import pandas as pd

        return pd.DataFrame({name: self._data[name][: self._n].copy() for name in self._schema})
