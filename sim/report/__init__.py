"""``p2psim report``: one self-contained HTML file for a run, an experiment, a plan or a reserve study.

:func:`write_report` checks the results folder (:mod:`sim.report.folder`), builds the page for its
kind (:mod:`sim.report.kinds`) and writes it whole or not at all (a temporary file renamed into
place). The page embeds its styles and figures: it opens with no network and without the folder.
"""

from __future__ import annotations

from pathlib import Path

from sim.folders import add_to_inventory, atomic_file, read_marker
from sim.report.folder import NEEDS, ReportError, ResultsFolder, open_results
from sim.report.html import GENERATOR
from sim.report.kinds import PAGES

__all__ = ["NEEDS", "ReportError", "ResultsFolder", "open_results", "write_comparison",
           "write_report"]


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of results ``folder`` to ``out`` (default ``folder/report.html``).

    The report replaces only an earlier report (a file that p2psim report wrote: its first line
    says so), never any other file, link or device. Written into a results folder, it joins the
    files that folder's marker lists as p2psim's.

    Raises
    ------
    ReportError
        The folder is missing, empty, of an unknown kind or lacks a file its kind needs; or
        ``out`` is a folder, in a folder that does not exist, or a file that is not a report.
    """
    results = open_results(folder)
    target = Path(out) if out is not None else results.path / "report.html"
    _write(target, out, "report.html", [results], lambda: PAGES[results.kind](results).html())
    home = _results_folder_of(target)
    if home is not None:
        add_to_inventory(home, target)
    return target


def write_comparison(folders: list[str | Path], out: str | Path | None = None) -> Path:
    """Write the comparison of results ``folders`` (two or more of one kind) to ``out``.

    The default file is ``comparison.html`` in the current folder. As :func:`write_report`, it
    is written whole or not at all and replaces only a report p2psim wrote.
    """
    from sim.report.compare import comparison_page

    results = [open_results(folder) for folder in folders]
    target = Path(out) if out is not None else Path("comparison.html")
    _write(target, out, "comparison.html", results,
           lambda: comparison_page(results, PAGES).html())
    return target


def _write(target: Path, out, example: str, results: list[ResultsFolder], page) -> None:
    """Check ``target``, build the page (a damaged file named) and write it whole or not at all."""
    shown = f"--out {out}" if out is not None else str(target)
    if out is not None and not str(out).strip():
        raise ReportError(f"--out '': give a file name, e.g. --out {example}")
    _check_target(target, shown)
    try:
        text = page()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        if isinstance(error, ReportError):
            raise
        damaged = next((r for r in results if r.reading), results[0])
        raise damaged.damaged(damaged.reading or "a file", f"does not hold what the report "
                              f"needs ({type(error).__name__}: {error})") from None
    for result in results:  # files that read well but are not what p2psim wrote
        result.check_unchanged()
    try:
        atomic_file(target, lambda path: path.write_text(text, encoding="utf-8"))
    except OSError as error:
        raise ReportError(f"{shown}: cannot write there ({error.strerror or error}); nothing "
                          f"written") from None


def _check_target(target: Path, shown: str) -> None:
    """Refuse a target the report may not write: a folder, a link, a device, a user's file."""
    if target.is_symlink():
        raise ReportError(f"{shown}: is a link; give the file name itself, or a new one")
    if target.is_dir():
        raise ReportError(f"{shown}: is a folder; give a file name, e.g. {target / 'report.html'}")
    if not target.parent.is_dir():
        raise ReportError(f"{shown}: the folder {target.parent} does not exist")
    if target.exists() and not target.is_file():
        raise ReportError(f"{shown}: exists and is not a regular file (a device or a pipe); "
                          f"give a new file name")
    if target.exists() and not _is_report(target):
        raise ReportError(f"{shown}: exists and is not a report p2psim wrote; p2psim never "
                          f"replaces a file it did not write. Nothing was changed; give a new "
                          f"file name")


def _is_report(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            head = stream.read(200)
    except OSError:
        return False
    return head.startswith(b"<!DOCTYPE html>\n") and GENERATOR.encode() in head


def _results_folder_of(path: Path) -> Path | None:
    """The results folder that ``path`` lies in (the nearest folder above it with a marker)."""
    for parent in Path(path).resolve().parents:
        if read_marker(parent) is not None:
            return parent
    return None
