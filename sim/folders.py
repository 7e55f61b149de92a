"""Results folders: which folder a command may write into, checked before any work, and atomic writes.

A results folder made by p2psim holds a marker file, ``.p2psim.json``, that says which command made
it (``run``, ``experiment``, ``reserve``, ...) and lists every file p2psim wrote there, with its
size and SHA-256 (the folder's *inventory*). A command writes only into

* a folder that does not exist yet, or an empty folder, or
* a results folder that its own kind of command made, whose contents match its marker: every file
  in it is one the inventory lists, unchanged (an experiment's folder may also hold its run store,
  ``experiment.json`` and ``runs/``, which :class:`sim.experiments.store.RunStore` checks).

Anything else (a user's folder, a file, another kind of results folder, a results folder holding a
file p2psim did not write, such as a user's ``notes.txt``, or a forged marker) is refused *before*
the simulation starts, with the files named, a message and exit code 2. So a user's file is never
moved, overwritten or deleted, even inside a results folder. ``--overwrite`` lets an experiment
start over in a folder that holds another version of an experiment; it deletes only the files p2psim
wrote.

:func:`atomic_folder` writes a run or a reserve study into a staging folder beside the target and
renames it into place only when everything is written, so an error or Ctrl-C leaves nothing
half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".p2psim.json"
KINDS = ("run", "experiment", "reserve", "board", "industry", "paths", "solve", "estimation")
_WHAT = {"run": "a run (p2psim run)", "experiment": "an experiment (p2psim experiment)",
         "reserve": "a reserve study (p2psim reserve)",
         "board": "a comparison of protection schemes (p2psim board)",
         "industry": "an industry run (p2psim industry)",
         "paths": "the runs kept of an unfinished reserve study, board or estimation",
         "solve": "an input solved for a plan's target (p2psim plan --solve)",
         "estimation": "an estimation (p2psim estimate)"}


class OutputFolderError(ValueError):
    """A results folder that cannot be used; ``str(error)`` is the message for the user."""


def read_marker(folder: Path) -> dict | None:
    """The marker of results folder ``folder`` (kind, p2psim's version), or None if it has none."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def folder_kind(folder: Path) -> str | None:
    """The kind of p2psim results folder ``folder`` is (its marker), or None if it has no marker."""
    kind = (read_marker(folder) or {}).get("kind")
    return kind if kind in KINDS else None


def atomic_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file whole or not at all: ``write(temporary)`` beside ``path``, then rename.

    If ``write`` fails the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_marker(folder: Path, kind: str, files: dict[str, dict] | None = None) -> None:
    """Mark ``folder`` as a results folder of ``kind`` whose p2psim-written files are ``files``.

    ``files`` maps a path relative to the folder (``/``-separated) to ``{"bytes", "sha256"}``; see
    :func:`inventory`. The marker is written whole or not at all.
    """
    from sim import __version__

    text = json.dumps({"kind": kind, "p2psim": __version__,
                       "note": "made by p2psim; p2psim replaces only the files listed here",
                       "files": dict(sorted((files or {}).items()))}, indent=1)
    atomic_file(Path(folder) / MARKER,
                lambda path: path.write_text(text + "\n", encoding="utf-8"))


def inventory(folder: Path, before: dict[str, tuple[int, int]] | None = None) -> dict[str, dict]:
    """Every regular file under ``folder`` but the marker: relative path -> size and SHA-256.

    With ``before`` (a :func:`snapshot`), only the files new or changed since it: the ones a
    command has just written. Links and other non-regular entries are never listed (p2psim writes
    none), so a folder holding one never matches its marker.
    """
    folder = Path(folder)
    found = {}
    for name, path in _regular_files(folder):
        if before is not None and before.get(name) == _stamp(path):
            continue
        found[name] = _fingerprint(path)
    return found


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Each regular file's modification time and size, to tell later which files were written."""
    return {name: _stamp(path) for name, path in _regular_files(Path(folder))}


def _regular_files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or (path.name == MARKER and path.parent == folder):
            continue
        yield path.relative_to(folder).as_posix(), path


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def _fingerprint(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def seal(folder: Path, kind: str, before: dict[str, tuple[int, int]] | None = None) -> None:
    """Record in the marker the files p2psim wrote in ``folder``.

    Without ``before`` every file of the folder is p2psim's (a staging folder it made); with a
    :func:`snapshot` taken before a command wrote its results, the files new or changed since are
    added to those the marker already lists.
    """
    files = dict(marker_files(folder) or {}) if before is not None else {}
    files.update(inventory(folder, before))
    write_marker(folder, kind, files)


def add_to_inventory(folder: Path, written: Path) -> None:
    """Add one file p2psim has just written (a report) to results folder ``folder``'s marker."""
    marker = read_marker(folder)
    if marker is None or folder_kind(folder) is None:
        return
    files = dict(marker_files(folder) or {})
    files[Path(written).resolve().relative_to(Path(folder).resolve()).as_posix()] = \
        _fingerprint(Path(written))
    write_marker(folder, marker["kind"], files)


def marker_files(folder: Path) -> dict[str, dict] | None:
    """The inventory the marker of ``folder`` lists, or None if it lists none (or is not one)."""
    files = (read_marker(folder) or {}).get("files")
    if not isinstance(files, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values()):
        return None
    return files


def check_output_folder(out: str | Path, kind: str, label: str = "--out") -> Path:
    """Check, before any work, that results of ``kind`` may be written to ``out``; return its path.

    The path returned is absolute, with symbolic links resolved (a linked ``--out`` is written at
    the folder it points to, and the link is left alone).

    Raises
    ------
    OutputFolderError
        If ``out`` is a file, a folder p2psim did not make, another kind of results folder, or a
        place where nothing can be written.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown results kind {kind!r}")
    from sim.scenario.files import shortened

    shown = f"{label} {shortened(out)}"
    try:
        path = Path(out).expanduser().resolve()
        exists = path.exists() or path.is_symlink()
    except (OSError, RuntimeError) as error:  # a name too long, a loop of symbolic links
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputFolderError(f"{shown}: cannot be a folder here ({reason}); choose another "
                                f"name") from None
    if path == Path(path.anchor):
        raise OutputFolderError(f"{shown}: the root folder cannot be a results folder")
    if exists:
        if not path.is_dir():
            raise OutputFolderError(f"{shown}: exists and is not a folder; choose a new folder")
        _check_existing(path, kind, shown)
    _check_writable(path, shown)
    return path


def _check_existing(path: Path, kind: str, shown: str) -> None:
    try:
        entries = sorted(p.name for p in path.iterdir())
    except OSError as error:
        raise OutputFolderError(f"{shown}: cannot read this folder ({error.strerror})") from None
    if not entries:
        return
    found = folder_kind(path)
    if found == kind:
        _check_contents(path, kind, shown)
        return
    if found is not None:
        raise OutputFolderError(f"{shown}: holds the results of {_WHAT[found]}; {_WHAT[kind]} never "
                                f"writes there. Choose another folder")
    sample = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise OutputFolderError(
        f"{shown}: is a folder that p2psim did not make (it holds {sample}); results go only into "
        f"a new or empty folder, or one p2psim made for {_WHAT[kind]} (it has a {MARKER} file). "
        f"Nothing was changed; choose another folder")


RUN_STORE = ("experiment.json", "runs")  # a study's kept runs, checked by its RunStore
STORE_KINDS = ("experiment", "paths")  # the kinds of folder that hold one
LEFTOVER = re.compile(r"\..+\.\d+\.tmp(\.[^.]*)?")  # an atomic_file write cut short by a kill


def foreign_files(path: Path, kind: str) -> tuple[list[str], list[str], bool]:
    """What in results folder ``path`` p2psim did not write: (unknown files, changed files, listed).

    ``listed`` is False when the marker lists no inventory at all (an older p2psim, or a marker
    written by hand).
    """
    listed = marker_files(path)
    files = listed or {}
    unknown, changed = [], []
    for entry in sorted(path.rglob("*")):
        name = entry.relative_to(path).as_posix()
        if name == MARKER or (entry.is_dir() and not entry.is_symlink()):
            continue
        if LEFTOVER.fullmatch(entry.name) or (
                kind in STORE_KINDS and (name in RUN_STORE or name.startswith("runs/"))):
            continue
        if name not in files or entry.is_symlink() or not entry.is_file():
            unknown.append(name)
        elif _fingerprint(entry) != {k: files[name].get(k) for k in ("bytes", "sha256")}:
            changed.append(name)
    return unknown, changed, listed is not None


def _check_contents(path: Path, kind: str, shown: str) -> None:
    """A results folder of the right kind: refuse it unless its contents match its marker."""
    unknown, changed, listed = foreign_files(path, kind)
    if kind in STORE_KINDS and (path / "experiment.json").exists() and not _is_manifest(path):
        unknown.insert(0, "experiment.json")
    if not unknown and not changed:
        return
    if not listed and kind != "experiment":
        raise OutputFolderError(
            f"{shown}: its {MARKER} marker lists no files (made by an older p2psim, or not by "
            f"p2psim), so p2psim cannot tell its own files from yours and does not replace this "
            f"folder. Nothing was changed; move what you want to keep and delete the folder, or "
            f"choose another folder")
    what = []
    if unknown:
        what.append(f"{_sample(unknown)}, which p2psim did not write")
    if changed:
        what.append(f"{_sample(changed)}, changed since p2psim wrote {'them' if len(changed) > 1 else 'it'}")
    raise OutputFolderError(
        f"{shown}: holds {'; and '.join(what)}. p2psim never replaces or deletes a file it did not "
        f"write: nothing was changed; move those files out, or choose another folder")


def _is_manifest(path: Path) -> bool:
    try:
        manifest = json.loads((path / "experiment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "inputs" in manifest and "runs" in manifest


def _sample(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _check_writable(path: Path, shown: str) -> None:
    """Create and remove a probe where the results will be written (the nearest existing folder)."""
    probe_at = path if path.is_dir() else path.parent
    while not probe_at.exists():
        probe_at = probe_at.parent
    if not probe_at.is_dir():
        raise OutputFolderError(f"{shown}: {probe_at} is a file, so no folder can be made under it")
    try:
        tempfile.TemporaryDirectory(prefix=".p2psim-probe-", dir=probe_at).cleanup()
    except OSError as error:
        raise OutputFolderError(f"{shown}: cannot write in {probe_at} "
                                f"({error.strerror or error})") from None


@contextmanager
def atomic_folder(out_dir: Path, kind: str) -> Iterator[Path]:
    """Write a results folder atomically: yield a staging folder, then rename it into place.

    The target was checked by :func:`check_output_folder` before the work; it is checked again just
    before the rename (something may have been put there meanwhile). A results folder of the same
    kind already there is replaced only once everything is written; if anything fails, Ctrl-C
    included, the staging folder is removed and the target is left as it was.
    """
    out_dir = check_output_folder(out_dir, kind)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private (0700); results are not
        write_marker(staging, kind)
        yield staging
        seal(staging, kind)
        check_output_folder(out_dir, kind)
        if out_dir.exists() and any(out_dir.iterdir()):
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
            staging.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if out_dir.exists():
                out_dir.rmdir()
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
