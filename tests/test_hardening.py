"""The defects of the hostile trial, each shown fixed: lost files, mixed versions, orphans, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import strict_json
from sim.cli import main
from sim.experiments import run_experiment
from sim.experiments.spec import ExperimentError
from sim.folders import MARKER

from .test_bad_input import BASE, EXPERIMENT
from .test_reserve_layers import BOARD

ROOT = Path(__file__).resolve().parents[1]
SLOW = BASE.replace("horizon_days = 30", "horizon_days = 3000").replace(
    "applications_per_day = 4.0", "applications_per_day = 60.0")


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(BASE)
    return path


def test_run_never_empties_a_users_folder(tmp_path, scenario, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "important.txt").write_text("x")
    assert main(["run", str(scenario), "--out", str(folder), "--quiet"]) == 2
    assert "did not make" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["important.txt"]
    assert (folder / "important.txt").read_text() == "x"


def test_run_into_an_experiments_folder_leaves_its_runs(tmp_path, scenario, capsys):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "exp"
    run_experiment(experiment, out=out, executor="local", quiet=True)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 2
    assert "holds the results of an experiment" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "runs").iterdir()) == runs == [
        f"run-{i:06d}.json" for i in range(4)]


def test_experiment_into_a_runs_folder_leaves_its_timeseries(tmp_path, scenario, capsys):
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    before = (out / "timeseries.parquet").read_bytes()
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    assert main(["experiment", str(experiment), "--out", str(out), "--quiet",
                 "--executor", "local"]) == 2
    assert "holds the results of a run" in capsys.readouterr().err
    assert (out / "timeseries.parquet").read_bytes() == before
    assert not (out / "runs").exists()


def test_a_run_replaces_its_own_older_folder_readable_by_others(tmp_path, scenario):
    out = tmp_path / "run"
    for seed in ("1", "2"):
        assert main(["run", str(scenario), "--out", str(out), "--quiet", "--seed", seed]) == 0
    assert json.loads((out / MARKER).read_text())["kind"] == "run"
    assert strict_json.loads((out / "metadata.json").read_text())["seed"] == 2
    assert stat.S_IMODE(out.stat().st_mode) & 0o055 == 0o055  # not 0700: group and others read
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_symlinked_out_is_written_where_it_points_and_leaves_nothing_behind(tmp_path, scenario):
    target = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    for _ in range(2):
        assert main(["run", str(scenario), "--out", str(link), "--quiet"]) == 0
    assert link.is_symlink() and (target / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real", "scenario.toml"]


def test_an_empty_folder_is_used_as_a_new_one(tmp_path, scenario):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    assert (out / "summary.json").exists()


def test_resume_after_the_scenario_changed_is_refused_with_what_changed(tmp_path, scenario, capsys):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "exp"
    run_experiment(experiment, out=out, executor="local", quiet=True)
    kept = {p.name: p.read_bytes() for p in (out / "runs").iterdir()}
    scenario.write_text(BASE.replace("count = 200", "count = 250"))
    assert main(["experiment", str(experiment), "--out", str(out), "--quiet",
                 "--executor", "local"]) == 2
    err = capsys.readouterr().err
    assert "the base scenario" in err and "changed since those runs" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in (out / "runs").iterdir()} == kept
    experiment.write_text(EXPERIMENT + "# a comment changes the file too\n")
    scenario.write_text(BASE)
    with pytest.raises(ExperimentError, match="the experiment file .* changed"):
        run_experiment(experiment, out=out, executor="local", quiet=True)


def test_overwrite_starts_over_in_an_experiments_own_folder(tmp_path, scenario):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "exp"
    first = run_experiment(experiment, out=out, executor="local", quiet=True)
    scenario.write_text(BASE.replace("count = 200", "count = 250"))
    again = run_experiment(experiment, out=out, executor="local", quiet=True, overwrite=True)
    assert again["skipped"] == 0 and again["runs"] == first["runs"] == 4


def test_overwrite_never_writes_into_a_users_folder(tmp_path, scenario, capsys):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    assert main(["experiment", str(experiment), "--out", str(folder), "--overwrite", "--quiet",
                 "--executor", "local"]) == 2
    assert "did not make" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("name, content, fault", [
    ("run-000001.json", '{"run": 1, "point": 0', "truncated?"),
    ("run-000099.json", "{}", "run 99 is not in this experiment"),
    ("run-000002.json", '{"run": 3}', "not a complete run record"),
    ("stray.txt", "hello", "not a run file of this experiment"),
], ids=["truncated", "beyond the plan", "another run's record", "stray"])
def test_a_corrupt_or_stray_run_file_is_reported_by_name(tmp_path, scenario, capsys, name, content,
                                                          fault):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "exp"
    run_experiment(experiment, out=out, executor="local", quiet=True)
    (out / "runs" / name).write_text(content)
    assert main(["experiment", str(experiment), "--out", str(out), "--quiet",
                 "--executor", "local"]) == 2
    err = capsys.readouterr().err
    assert f"runs/{name}" in err and fault in err and "Traceback" not in err


def _tamper_inputs(out: Path) -> None:
    manifest = json.loads((out / "experiment.json").read_text())
    (out / "experiment.json").write_text(json.dumps({**manifest, "inputs": [1, 2]}))


def _runs_a_file(out: Path) -> None:
    shutil.rmtree(out / "runs")
    (out / "runs").write_text("x")


@pytest.mark.parametrize("tamper, words", [
    (_tamper_inputs, "experiment.json is damaged"),
    (_runs_a_file, "is a file where the runs' folder goes"),
], ids=["inputs a list", "runs a file"])
def test_a_tampered_experiment_folder_is_refused_when_resumed(tmp_path, scenario, capsys, tamper,
                                                              words):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "exp"
    run_experiment(experiment, out=out, executor="local", quiet=True)
    tamper(out)
    assert main(["experiment", str(experiment), "--out", str(out), "--quiet",
                 "--executor", "local"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err


# --------------------------------------------------------------------------- signals

def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    """The command in a process group of its own, with Ctrl-C's signal at its default.

    A test run in the background of a shell without job control inherits SIGINT ignored, and
    Python then keeps ignoring it.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "sim.cli", *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def test_ctrl_c_in_run_writes_nothing_and_exits_130(tmp_path):
    (tmp_path / "scenario.toml").write_text(SLOW)
    process = _start(["run", "scenario.toml", "--out", "out"], tmp_path)
    time.sleep(6.0)  # imported, built and running (the run takes far longer)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted; nothing written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


def test_ctrl_c_while_the_command_loads_is_an_interruption_not_a_traceback(tmp_path):
    code = ("import sys, importlib.abc\n"
            "class Interrupt(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name == 'numpy': raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Interrupt())\n"
            "from sim.console import main\n"
            "sys.exit(main(['run', 'scenario.toml']))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "interrupted while starting" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def _experiment_files(tmp_path: Path) -> None:
    (tmp_path / "scenario.toml").write_text(SLOW.replace("horizon_days = 3000",
                                                         "horizon_days = 1500"))
    (tmp_path / "experiment.toml").write_text(EXPERIMENT.replace("replications = 2",
                                                                 "replications = 3"))


def test_ctrl_c_in_an_experiment_says_how_to_resume_and_leaves_no_worker(tmp_path):
    _experiment_files(tmp_path)
    process = _start(["experiment", "experiment.toml", "--out", "exp", "--workers", "2",
                      "--quiet"], tmp_path)
    _wait_for(lambda: len(_children(process.pid)) >= 2)
    workers = _children(process.pid)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal sends it: to the whole group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted; rerun the same command to resume" in err and "Traceback" not in err
    _wait_for(lambda: not any(_alive(pid) for pid in workers), timeout=10)


def _interrupt_to_resume(process: subprocess.Popen) -> None:
    """Ctrl-C a study still running, as a terminal sends it; it must say how to resume."""
    assert process.poll() is None, process.communicate()[1]
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted; rerun the same command to resume" in err and "Traceback" not in err


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_ctrl_c_in_a_plan_says_how_to_resume_and_the_rerun_resumes(tmp_path):
    argv = ["plan", str(ROOT / "scenarios" / "seed_business_plan.toml"), "--runs", "8",
            "--workers", "2", "--out", "plan", "--quiet", "--set", "investors.count=3000"]
    process = _start(argv, tmp_path)
    runs = tmp_path / "plan" / "runs"
    _wait_for(lambda: process.poll() is not None or (runs.is_dir() and any(runs.glob("run-*"))),
              timeout=300)
    _interrupt_to_resume(process)
    kept = len(list(runs.glob("run-*.json")))
    assert 1 <= kept < 8
    again = subprocess.run([sys.executable, "-m", "sim.cli", *argv], cwd=tmp_path, text=True,
                           capture_output=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"8 runs ({kept} already done)" in again.stdout


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_ctrl_c_in_a_board_says_how_to_resume_and_the_rerun_resumes(tmp_path):
    short = BOARD.replace("paths = 4", "paths = 3").replace("= 360", "= 240")
    (tmp_path / "board.toml").write_text(
        short.format(scenario=ROOT / "scenarios" / "layered_protection.toml"), encoding="utf-8")
    argv = ["board", "board.toml", "--out", "b", "--workers", "1", "--executor", "local"]
    process = _start([*argv, "--quiet"], tmp_path)
    second = tmp_path / ".b.paths" / "guarantor_alone" / "runs"  # the second scheme has begun
    _wait_for(lambda: process.poll() is not None or (second.is_dir() and any(second.iterdir())),
              timeout=300)
    _interrupt_to_resume(process)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.paths", "board.toml"]
    first = len(list((tmp_path / ".b.paths" / "reserve_alone" / "runs").glob("run-*.json")))
    assert first == 3  # the first scheme's every path, kept
    board = (tmp_path / "board.toml").read_text(encoding="utf-8")  # the second scheme renamed:
    (tmp_path / "board.toml").write_text(board.replace("guarantor alone", "guarantor only"),
                                         encoding="utf-8")  # its kept paths are another study's
    again = subprocess.run([sys.executable, "-m", "sim.cli", *argv], cwd=tmp_path, text=True,
                           capture_output=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "reserve alone: resuming; 3 path runs kept" in again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "board.toml"]


def test_workers_die_with_a_killed_parent(tmp_path):
    _experiment_files(tmp_path)
    process = _start(["experiment", "experiment.toml", "--out", "exp", "--workers", "2",
                      "--quiet"], tmp_path)
    _wait_for(lambda: len(_children(process.pid)) >= 2)
    workers = _children(process.pid)
    process.kill()  # kill -9: no chance to clean up
    process.wait(timeout=10)
    _wait_for(lambda: not any(_alive(pid) for pid in workers), timeout=15)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --------------------------------------------------------------------------- charts

def test_chinese_platform_names_draw_with_a_cjk_font(tmp_path):
    import warnings

    import matplotlib.pyplot as plt

    from sim.outputs import CJK_FONT, save_figure

    if CJK_FONT is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs fonts-wqy-microhei (make fonts); no CJK font was found")
        pytest.skip("no CJK font on this machine (make fonts installs one)")
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="宜人贷: 流标")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
        save_figure(fig, tmp_path / "cjk.png")


def test_ctrl_c_inside_a_compiled_kernel_interrupts_the_study_not_fails_a_run():
    """Numba turns a KeyboardInterrupt raised while it unpickles into a SystemError caused by it."""
    from sim.experiments.runner import describe_failure

    def kernel():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError("returned a result with an exception set") from interrupt

    with pytest.raises(KeyboardInterrupt):
        try:
            kernel()
        except Exception:  # noqa: BLE001 - as run_one, run_path and run_plan_one catch it
            describe_failure()
    try:
        raise ValueError("a real fault")
    except ValueError:
        assert "a real fault" in describe_failure()
