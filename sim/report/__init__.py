"""``p2psim report``: one self-contained HTML file for a run, an experiment, a plan or a reserve study.

:func:`write_report` checks the results folder (:mod:`sim.report.folder`), builds the page for its
kind (:mod:`sim.report.kinds`) and writes it whole or not at all (a temporary file renamed into
place). The page embeds its styles and figures: it opens with no network and without the folder.
"""

from __future__ import annotations

from pathlib import Path

from sim.folders import atomic_file
from sim.report.folder import NEEDS, ReportError, ResultsFolder, open_results
from sim.report.kinds import PAGES

__all__ = ["NEEDS", "ReportError", "ResultsFolder", "open_results", "write_report"]


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of results ``folder`` to ``out`` (default ``folder/report.html``).

    Raises
    ------
    ReportError
        The folder is missing, empty, of an unknown kind or lacks a file its kind needs; or
        ``out`` is a folder or in a folder that does not exist.
    """
    results = open_results(folder)
    target = Path(out) if out is not None else results.path / "report.html"
    if target.is_dir():
        raise ReportError(f"--out {out}: is a folder; give a file name, e.g. {target / 'report.html'}")
    if not target.parent.is_dir():
        raise ReportError(f"--out {out}: the folder {target.parent} does not exist")
    text = PAGES[results.kind](results).html()
    atomic_file(target, lambda path: path.write_text(text, encoding="utf-8"))
    return target
