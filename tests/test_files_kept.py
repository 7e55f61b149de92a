"""No command replaces or deletes a file p2psim did not write: the data-loss cases of the hostile trial.

Each case builds a place a user might point a command at (their own file, a results folder's own
file, a pipe, a results folder with their notes in it, a folder with a forged marker), runs the
command, and checks that it exits 2 with the reason and that every watched file is byte for byte
what it was.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from sim import strict_json
from sim.cli import main
from sim.folders import MARKER, marker_files

from .test_bad_input import BASE, EXPERIMENT, _refused


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(BASE)
    return path


@pytest.fixture
def run_folder(tmp_path, scenario):
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    return out


def _users_file(tmp_path, run):
    path = tmp_path / "thesis.html"
    path.write_text("<html>my thesis, two years of work</html>")
    return path, [path]


def _results_own_file(tmp_path, run):
    return run / "summary.json", [run]


def _a_pipe(tmp_path, run):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path, [run]


def _a_link_to_a_users_file(tmp_path, run):
    mine = tmp_path / "mine.html"
    mine.write_text("mine")
    link = tmp_path / "link.html"
    link.symlink_to(mine)
    return link, [mine]


REPORT_OUT_CASES = [
    ("a user's file", _users_file, "not a report p2psim wrote"),
    ("the results folder's own summary.json", _results_own_file, "not a report p2psim wrote"),
    ("a pipe (not a regular file)", _a_pipe, "not a regular file"),
    ("a link to a user's file", _a_link_to_a_users_file, "is a link"),
]


@pytest.mark.parametrize("make, words", [c[1:] for c in REPORT_OUT_CASES],
                         ids=[c[0] for c in REPORT_OUT_CASES])
def test_report_never_replaces_a_file_it_did_not_write(tmp_path, run_folder, capsys, make, words):
    target, watched = make(tmp_path, run_folder)
    _refused(["report", str(run_folder), "--out", str(target)], capsys, watched, words)


def test_report_replaces_its_own_report_and_lists_it_as_p2psims(tmp_path, run_folder, capsys):
    for _ in range(2):
        assert main(["report", str(run_folder)]) == 0
    assert "report.html" in marker_files(run_folder)
    outside = tmp_path / "copy.html"
    for _ in range(2):
        assert main(["report", str(run_folder), "--out", str(outside)]) == 0
    assert outside.read_text().startswith("<!DOCTYPE html>")


def test_rerunning_a_run_never_deletes_a_users_file_in_its_folder(tmp_path, scenario, run_folder,
                                                                  capsys):
    (run_folder / "notes.txt").write_text("what I saw in this run")
    _refused(["run", str(scenario), "--out", str(run_folder), "--quiet", "--seed", "2"], capsys,
             [run_folder], "notes.txt, which p2psim did not write")


def test_rerunning_a_run_refuses_a_file_changed_since_it_was_written(tmp_path, scenario,
                                                                     run_folder, capsys):
    (run_folder / "summary.json").write_text('{"my": "edits"}')
    _refused(["run", str(scenario), "--out", str(run_folder), "--quiet"], capsys, [run_folder],
             "summary.json, changed since p2psim wrote it")


def test_rerunning_a_run_replaces_its_folder_and_its_report(tmp_path, scenario, run_folder):
    assert main(["report", str(run_folder)]) == 0
    assert main(["run", str(scenario), "--out", str(run_folder), "--quiet", "--seed", "2"]) == 0
    assert not (run_folder / "report.html").exists()
    assert strict_json.loads((run_folder / "metadata.json").read_text())["seed"] == 2


def _forged(tmp_path, kind, extra=None):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"PK\x03\x04 years of work")
    (folder / MARKER).write_text(json.dumps({"kind": kind, "p2psim": "0.1.0", **(extra or {})}))
    return folder


FORGED_CASES = [
    ("run marker, no inventory", "run", None, "lists no files"),
    ("run marker, empty inventory", "run", {"files": {}}, "thesis.docx, which p2psim did not"),
    ("run marker listing another file", "run",
     {"files": {"thesis.docx": {"bytes": 3, "sha256": "0" * 64}}}, "changed since p2psim"),
    ("experiment marker", "experiment", None, "thesis.docx, which p2psim did not"),
]


@pytest.mark.parametrize("kind, extra, words", [c[1:] for c in FORGED_CASES],
                         ids=[c[0] for c in FORGED_CASES])
def test_a_forged_marker_is_checked_against_the_folder(tmp_path, scenario, capsys, kind, extra,
                                                       words):
    folder = _forged(tmp_path, kind, extra)
    if kind == "run":
        argv = ["run", str(scenario), "--out", str(folder), "--quiet"]
    else:
        experiment = tmp_path / "experiment.toml"
        experiment.write_text(EXPERIMENT)
        argv = ["experiment", str(experiment), "--out", str(folder), "--quiet", "--executor",
                "local", "--overwrite"]
    _refused(argv, capsys, [folder], words)


def test_an_experiment_marker_over_a_users_experiment_json_is_refused(tmp_path, capsys):
    folder = _forged(tmp_path, "experiment")
    (folder / "thesis.docx").unlink()
    (folder / "experiment.json").write_text('{"my": "own notes"}')
    (tmp_path / "scenario.toml").write_text(BASE)
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    _refused(["experiment", str(experiment), "--out", str(folder), "--quiet", "--executor",
              "local", "--overwrite"], capsys, [folder], "experiment.json, which p2psim did not")


def test_overwrite_deletes_only_the_experiments_own_files(tmp_path, scenario, capsys):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "exp"
    assert main(["experiment", str(experiment), "--out", str(out), "--quiet", "--executor",
                 "local"]) == 0
    assert {"summary.csv", "done.json"} <= set(marker_files(out))
    (out / "notes.txt").write_text("mine")
    scenario.write_text(BASE.replace("count = 200", "count = 250"))
    _refused(["experiment", str(experiment), "--out", str(out), "--quiet", "--executor", "local",
              "--overwrite"], capsys, [out], "notes.txt, which p2psim did not write")
    (out / "notes.txt").unlink()
    assert main(["experiment", str(experiment), "--out", str(out), "--quiet", "--executor",
                 "local", "--overwrite"]) == 0


def test_a_run_folder_copied_elsewhere_can_still_be_rerun(tmp_path, scenario, run_folder):
    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy)
    assert main(["run", str(scenario), "--out", str(copy), "--quiet"]) == 0


@pytest.mark.parametrize("command", ["run", "experiment", "reserve", "plan", "board", "industry"])
def test_an_empty_out_is_refused(tmp_path, capsys, command):
    _refused([command, "whatever.toml", "--out", ""], capsys, [tmp_path], "--out ''")
