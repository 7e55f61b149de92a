"""Results folders: which folder a command may write into, checked before any work, and atomic writes.

A results folder made by p2psim holds a marker file, ``.p2psim.json``, that says which command made
it (``run``, ``experiment``, ``reserve``). A command writes only into

* a folder that does not exist yet, or an empty folder, or
* a results folder that its own kind of command made (the marker says so): a run replaces an older
  run's folder, an experiment resumes its own runs,

and refuses anything else (a user's folder, a file, another kind of results folder) *before* the
simulation starts, with a message and exit code 2. A user's file is never moved, overwritten or
deleted. ``--overwrite`` lets an experiment start over in a folder that holds another version of an
experiment; it never lets any command write into a folder p2psim did not make.

:func:`atomic_folder` writes a run or a reserve study into a staging folder beside the target and
renames it into place only when everything is written, so an error or Ctrl-C leaves nothing
half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".p2psim.json"
KINDS = ("run", "experiment", "reserve", "board", "industry", "industry_experiment")
_WHAT = {"run": "a run (p2psim run)", "experiment": "an experiment (p2psim experiment)",
         "reserve": "a reserve study (p2psim reserve)",
         "board": "a comparison of protection schemes (p2psim board)",
         "industry": "an industry run (p2psim industry)",
         "industry_experiment": "an industry experiment (p2psim industry on an experiment file)"}


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


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` as a results folder of ``kind``."""
    from sim import __version__

    text = json.dumps({"kind": kind, "p2psim": __version__,
                       "note": "made by p2psim; p2psim may replace this folder's contents"})
    (Path(folder) / MARKER).write_text(text + "\n", encoding="utf-8")


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
    path = Path(out).expanduser().resolve()
    shown = f"{label} {out}"
    if path == Path(path.anchor):
        raise OutputFolderError(f"{shown}: the root folder cannot be a results folder")
    if path.exists() or path.is_symlink():
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
        return
    if found is not None:
        raise OutputFolderError(f"{shown}: holds the results of {_WHAT[found]}; {_WHAT[kind]} never "
                                f"writes there. Choose another folder")
    sample = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise OutputFolderError(
        f"{shown}: is a folder that p2psim did not make (it holds {sample}); results go only into "
        f"a new or empty folder, or one p2psim made for {_WHAT[kind]} (it has a {MARKER} file). "
        f"Nothing was changed; choose another folder")


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
