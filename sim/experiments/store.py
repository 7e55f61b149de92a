"""A study's kept runs: each finished run in a file of its own, so an interrupted study resumes.

:class:`RunStore` writes each finished run to ``runs/run-NNNNNN.json`` atomically (a temporary file
renamed into place) beside a manifest, ``experiment.json``, of the study's settings and the hashes
of the files it read. On a restart the runs already there are skipped, so an interrupted study
completes with every run present exactly once; a folder holding another study's runs is refused
(an experiment, a plan) or cleared (the paths a reserve study or a board keep while they run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from sim import strict_json
from sim.experiments.spec import ExperimentError
from sim.folders import MARKER, atomic_file, folder_kind, marker_files, write_marker


class RunStore:
    """A study's finished runs: a marker, a manifest, and one JSON file per finished run.

    The manifest records the study's settings and a hash of every file it read (an experiment's
    file and its base scenario). Opening a folder whose manifest differs is refused with what
    changed, so a resumed study never mixes runs of two versions; ``overwrite`` clears the folder
    (it is p2psim's: its marker says so) and starts over.

    An experiment and a plan keep their store in their results folder (marker kind
    ``experiment``); a reserve study and a board, whose results folder is written whole at the end,
    keep theirs beside it while they run (kind ``paths``, :mod:`sim.reserve.study`). ``required``:
    the keys a complete record has (``run``, its number, among them).
    """

    def __init__(self, out: Path, manifest: dict[str, Any], overwrite: bool = False,
                 kind: str = "experiment", required: frozenset[str] | None = None) -> None:
        self.out = Path(out)
        self.kind = kind
        self.required = RECORD_KEYS if required is None else required | {"run", "status"}
        self.runs_dir = self.out / "runs"
        self.total = int(manifest["runs"])
        path = self.out / "experiment.json"
        text = strict_json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
        self.started_over: str | None = None  # why runs kept there before were deleted
        if path.exists() and path.read_text(encoding="utf-8", errors="replace") != text:
            changed = _what_changed(path, manifest)
            if not overwrite:
                raise ExperimentError(f"{self.out} holds the runs of {changed}. Rerun with "
                                      f"--overwrite to start over there, or choose another --out")
            if self.runs_dir.is_dir() and any(self.runs_dir.glob("run-*.json")):
                self.started_over = f"the runs kept in {self.out} were of {changed}"
            _clear(self.out, self.kind)
        self.out.mkdir(parents=True, exist_ok=True)
        if self.runs_dir.exists() and not self.runs_dir.is_dir():
            raise ExperimentError(f"{self.runs_dir}: is a file where the runs' folder goes; "
                                  f"move it away and rerun the same command (the runs resume), "
                                  f"or choose another --out")
        if folder_kind(self.out) is None:
            write_marker(self.out, self.kind)
        self.runs_dir.mkdir(exist_ok=True)
        _write_atomic(path, text)
        for stale in self.runs_dir.glob(".*.tmp"):  # a write cut short by a kill
            stale.unlink()
        self._check_run_files()

    def path(self, run: int) -> Path:
        """Where run ``run`` is kept."""
        return self.runs_dir / f"run-{run:06d}.json"

    def done(self) -> set[int]:
        """Numbers of the runs already written."""
        return {int(p.stem.split("-")[1]) for p in self.runs_dir.glob("run-*.json")}

    def write(self, record: dict[str, Any]) -> None:
        """Keep one finished run (atomically)."""
        _write_atomic(self.path(record["run"]), strict_json.dumps(record, ensure_ascii=False))

    def records(self) -> list[dict[str, Any]]:
        """Every run written, in run order."""
        return [strict_json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.runs_dir.glob("run-*.json"))]

    def discard(self) -> None:
        """Delete the store (its study is written): see :func:`discard_store`."""
        discard_store(self.out, self.kind)

    def _check_run_files(self) -> None:
        """Refuse, by name, a file in ``runs/`` that is not a complete record of one of the runs."""
        bad = []
        for file in sorted(self.runs_dir.iterdir()):
            fault = _run_file_fault(file, self.total, self.required)
            if fault:
                bad.append(f"  runs/{file.name}: {fault}")
        if bad:
            raise ExperimentError(f"{self.runs_dir} holds files that are not complete run records:\n"
                                  + "\n".join(bad[:20])
                                  + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else "")
                                  + "\nDelete them and rerun the same command: the runs they "
                                    "should hold are run again")


RECORD_KEYS = frozenset({"run", "point", "replication", "seed", "params", "status", "statistics",
                         "timeseries", "elapsed_s"})  # an experiment's or a plan's run


def _run_file_fault(file: Path, total: int, required: frozenset[str]) -> str | None:
    """What is wrong with one file of ``runs/``, or None if it is a complete run record."""
    match = re.fullmatch(r"run-(\d{6,})\.json", file.name)
    if not match or not file.is_file():
        return "not a run file of this experiment (run-NNNNNN.json)"
    number = int(match.group(1))
    if number >= total:
        return f"run {number} is not in this experiment (it has runs 0 to {total - 1})"
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"cannot be read ({type(error).__name__}: {error}); truncated?"
    if not isinstance(record, dict) or not required <= set(record) or record["run"] != number:
        return "not a complete run record (keys missing, or another run's number)"
    if record["status"] not in ("ok", "failed"):
        return f"status {record['status']!r} (ok or failed)"
    return None


def input_hashes(experiment: Path, scenario: Path, loaded=None) -> dict[str, dict[str, str]]:
    """The SHA-256 of every file an experiment (or a plan: ``experiment`` is its scenario) reads.

    The experiment file and everything a run of its scenario reads, by role
    (:func:`sim.scenario.reads.files_read`: bases, platforms table, data, user modules, code);
    ``loaded`` is the scenario already loaded, if it is.
    """
    from sim.scenario.reads import files_read

    if Path(experiment).resolve() == Path(scenario).resolve():
        return file_hashes(files_read(scenario, loaded))
    return file_hashes({"experiment file": experiment,
                        **files_read(scenario, loaded, role="base scenario")})


def file_hashes(files: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Each file's resolved path and SHA-256, by role (a manifest's ``inputs``).

    A folder (p2psim's own code) is hashed as its ``.py`` files' relative names and contents.
    """
    return {role: {"path": str(Path(file).resolve()), "sha256": _sha256(Path(file))}
            for role, file in files.items()}


def _sha256(path: Path) -> str:
    """A file's SHA-256, or a folder's over its Python files, in name order."""
    if not path.is_dir():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*.py")):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _what_changed(path: Path, manifest: dict[str, Any]) -> str:
    """Say how the experiment in a folder differs from the one asked for now."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "an experiment whose experiment.json cannot be read"
    if not isinstance(old, dict) or "inputs" not in old:
        return "an experiment made by an earlier version of p2psim (no record of its inputs)"
    if not isinstance(old["inputs"], dict) or not all(
            isinstance(then, dict) for then in old["inputs"].values()):
        return ("an experiment whose experiment.json is damaged (its inputs are not the table "
                "p2psim writes)")
    changes = []
    for role, now in manifest["inputs"].items():
        then = old["inputs"].get(role, {})
        if then.get("path") != now["path"]:
            changes.append(f"the {role} was {then.get('path')}, now {now['path']}")
        elif then.get("sha256") != now["sha256"]:
            changes.append(f"the {role} {now['path']} changed since those runs (sha256 "
                           f"{str(then.get('sha256'))[:12]} then, {now['sha256'][:12]} now)")
    if not changes:
        changed = sorted(k for k in manifest if old.get(k) != manifest[k])
        changes.append(f"the same files read with other settings ({', '.join(changed)} differ: "
                       f"another version of p2psim?)")
    moved = any(old["inputs"].get(role, {}).get("path") != now["path"]
                for role, now in manifest["inputs"].items())
    what = "a different experiment" if moved else "another version of this experiment"
    return f"{what}: " + "; ".join(changes)


def kept_runs_folder(out: Path) -> Path:
    """Where a study writing ``out`` whole at its end keeps its finished runs meanwhile: beside it.

    A reserve study, a board, an estimation and a solve keep theirs there (kind ``paths``), deleted once
    the results are written; Ctrl-C leaves them for the same command to resume from.
    """
    return out.parent / f".{out.name}.paths"


def discard_store(folder: Path, kind: str) -> None:
    """Delete a store of kept runs of ``kind``: p2psim's own files only, then the folder if empty."""
    if not folder.is_dir() or folder_kind(folder) != kind:
        return
    _clear(folder, kind)
    (folder / MARKER).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: something not p2psim's is left alone
        folder.rmdir()


def _clear(folder: Path, kind: str) -> None:
    """Delete the files a study wrote in its folder (``--overwrite``), and only those.

    The folder was checked before (:func:`sim.folders.check_output_folder`): its marker's
    inventory, ``experiment.json`` and ``runs/`` hold everything in it.
    """
    if folder_kind(folder) != kind:
        raise ExperimentError(f"{folder}: not a folder of p2psim's kept runs; not cleared")
    written = [folder / name for name in marker_files(folder) or {}]
    written += [folder / "experiment.json", *(folder / "runs").glob("run-*.json"),
                *(folder / "runs").glob(".*.tmp*")]
    for path in written:
        if not path.is_symlink() and path.is_file():
            path.unlink()
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()),
                      key=lambda p: len(p.parts), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    write_marker(folder, kind)


def _write_atomic(path: Path, text: str) -> None:
    atomic_file(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
