"""Which kind of results folder a report is asked for, and whether it holds what the report needs.

A results folder is known by its marker (``.p2psim.json``, :mod:`sim.folders`): a run, an
experiment (a business plan is an experiment with a ``plan.json``), a reserve study or a board's
comparison of protection schemes. Each kind
must hold the files in :data:`NEEDS`; a folder that lacks one is refused with the names of what is
missing, and, when p2psim's version differs from the one that made the folder, says so.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import strict_json
from sim.folders import MARKER, read_marker

NEEDS = {
    "run": ("summary.json", "metadata.json", "timeseries.parquet"),
    "experiment": ("experiment.json", "summary.csv"),
    "plan": ("experiment.json", "plan.json", "targets.csv"),
    "reserve": ("summary.json", "requirements.csv", "statistics.csv"),
    "board": ("board.csv",),
    "industry": ("summary.json", "monthly.csv", "wave.png"),
}
MAKERS = {"run": "p2psim run", "experiment": "p2psim experiment", "plan": "p2psim plan",
          "reserve": "p2psim reserve", "board": "p2psim board", "industry": "p2psim industry"}


class ReportError(ValueError):
    """A results folder that cannot be reported; ``str(error)`` is the message for the user."""


@dataclass
class ResultsFolder:
    """A checked results folder: its path, its kind and the version of p2psim that made it.

    Its files are read through :meth:`json` and :meth:`table`, which refuse a damaged file by
    name; ``reading`` is the last file read, so that a file that parses but does not hold what
    p2psim writes is named too (:func:`sim.report.write_report`).
    """

    path: Path
    kind: str
    made_by: str
    reading: str = ""

    def check_unchanged(self) -> None:
        """Refuse a folder whose files changed since p2psim wrote them (its marker's SHA-256s).

        A report of a table edited by hand would show what p2psim did not compute.
        """
        from sim.folders import foreign_files

        _, changed, _ = foreign_files(self.path, read_marker(self.path).get("kind"))
        if changed:
            more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
            raise ReportError(f"RESULTS_DIR {self.path}: {', '.join(changed[:5])}{more} changed "
                              f"since p2psim wrote {'it' if len(changed) == 1 else 'them'} (its "
                              f"{MARKER} marker holds each file's SHA-256); make the folder again "
                              f"with {MAKERS[self.kind]}")

    def json(self, name: str) -> dict:
        """A JSON file of the folder (a table of keys), or :class:`ReportError` naming it."""
        self.reading = name

        def keys_named(pairs: dict) -> dict:
            return _Keys(pairs, lambda key: self.damaged(name, f"lacks the key {key!r}"))

        try:
            value = json.loads((self.path / name).read_text(encoding="utf-8"),
                               object_hook=keys_named)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise self.damaged(name, f"not readable JSON ({error})") from None
        if not isinstance(value, dict):
            raise self.damaged(name, f"holds a {type(value).__name__}, not a table of keys")
        return strict_json.restore(value)

    def table(self, name: str, columns: tuple[str, ...] = ()) -> pd.DataFrame:
        """A CSV table of the folder with at least ``columns``, or :class:`ReportError` naming it."""
        self.reading = name
        try:
            table = pd.read_csv(self.path / name)
        except pd.errors.EmptyDataError:
            raise self.damaged(name, "is empty") from None
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise self.damaged(name, f"not a readable CSV table ({error})") from None
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise self.damaged(name, f"lacks the columns {', '.join(missing)}")
        if table.empty and columns:
            raise self.damaged(name, "has no rows")
        return table

    def parquet(self, name: str, columns: tuple[str, ...] = ()) -> pd.DataFrame:
        """A Parquet table of the folder with at least ``columns``, or :class:`ReportError`."""
        self.reading = name
        try:
            table = pd.read_parquet(self.path / name)
        except (OSError, ValueError) as error:
            raise self.damaged(name, f"not a readable Parquet table ({error})") from None
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise self.damaged(name, f"lacks the columns {', '.join(missing)}")
        return table

    def damaged(self, name: str, what: str) -> ReportError:
        """The error for a file of this folder that is not what p2psim wrote."""
        return ReportError(f"RESULTS_DIR {self.path}: {name}: {what}; it is not what "
                           f"{MAKERS[self.kind]} writes: make the folder again")

    def made_on(self) -> str:
        """When the folder's files were last written (UTC), for kinds that record no date."""
        stamp = max((f.stat().st_mtime for f in self.path.iterdir() if f.is_file()), default=0)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ (file time)", time.gmtime(stamp))

    def has(self, name: str) -> bool:
        """Whether the folder holds ``name``."""
        return (self.path / name).exists()


class _Keys(dict):
    """A JSON table whose missing key raises the error that names its file (not a KeyError)."""

    def __init__(self, pairs: dict, missing) -> None:
        super().__init__(pairs)
        self._missing = missing

    def __missing__(self, key):
        raise self._missing(key)


def open_results(folder: str | Path) -> ResultsFolder:
    """Check ``folder`` and tell its kind; raise :class:`ReportError` with what is wrong."""
    from sim import __version__

    path = Path(folder).expanduser()
    shown = f"RESULTS_DIR {folder}"
    if not path.exists():
        raise ReportError(f"{shown}: no such folder")
    if not path.is_dir():
        raise ReportError(f"{shown}: is a file, not a results folder")
    if not any(path.iterdir()):
        raise ReportError(f"{shown}: is empty; make results with p2psim run, experiment, plan "
                          f"or reserve first")
    marker = read_marker(path)
    if marker is None:
        raise ReportError(f"{shown}: not a p2psim results folder (no {MARKER} marker): unknown "
                          f"kind; a report needs the folder of a run, an experiment, a plan or a "
                          f"reserve study")
    kind = marker.get("kind")
    if kind == "paths":
        raise ReportError(f"{shown}: the paths kept of a reserve study or a board that has not "
                          f"finished; finish it with the same command (it resumes), then report "
                          f"its results folder")
    if kind == "solve":
        raise ReportError(f"{shown}: a solve (p2psim plan --solve) has no report: its solve.json, "
                          f"trials.csv and solve.png hold the answer, every value tried and each "
                          f"run's threshold")
    if kind == "experiment" and (path / "experiment.json").exists() and _is_plan(path):
        kind = "plan"
    if kind not in NEEDS:
        raise ReportError(f"{shown}: unknown kind {kind!r} in {MARKER}; allowed: "
                          f"{', '.join(NEEDS)}")
    made_by = str(marker.get("p2psim", "unknown"))
    missing = [name for name in NEEDS[kind] if not (path / name).exists()]
    if missing:
        older = (f"; it was made by p2psim {made_by}, an older format than this {__version__}: "
                 f"make it again with {MAKERS[kind]}" if made_by != __version__ else
                 f"; finish it with {MAKERS[kind]} (it resumes) or make it again")
        raise ReportError(f"{shown}: a {kind} folder missing {', '.join(missing)}{older}")
    return ResultsFolder(path=path, kind=kind, made_by=made_by)


def _is_plan(path: Path) -> bool:
    """A business plan's folder: its manifest holds the plan (or its plan.json is written)."""
    if (path / "plan.json").exists():
        return True
    try:
        manifest = json.loads((path / "experiment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "plan" in manifest
