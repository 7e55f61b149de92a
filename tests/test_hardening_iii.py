"""Hardening III: a resumed result is the result asked for, and every file written is valid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments import run_experiment
from sim.experiments.spec import ExperimentError
from sim.experiments.store import input_hashes
from sim.scenario.reads import files_read

from .test_bad_input import BASE, EXPERIMENT

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def based(tmp_path):
    """An experiment over ``child.toml``, a scenario ``based_on`` the plain ``scenario.toml``."""
    (tmp_path / "scenario.toml").write_text(BASE)
    (tmp_path / "child.toml").write_text('based_on = "scenario.toml"\n[investors]\ncount = 150\n')
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT.replace("scenario.toml", "child.toml"))
    return experiment


# ------------------------------------------------------------------ stale resume


def test_the_files_a_run_reads_include_bases_data_user_modules_and_code(tmp_path):
    (tmp_path / "scenario.toml").write_text(BASE)
    (tmp_path / "mid.toml").write_text('based_on = "scenario.toml"\n')
    (tmp_path / "child.toml").write_text('based_on = "mid.toml"\n')
    files = files_read(tmp_path / "child.toml")
    assert files["base scenario (based_on, level 1)"].name == "mid.toml"
    assert files["base scenario (based_on, level 2)"].name == "scenario.toml"
    assert files["p2psim code"] == ROOT / "sim"
    custom = files_read(ROOT / "examples" / "custom_policy.toml")
    assert custom["user module my_policies"] == ROOT / "examples" / "my_policies.py"
    industry = files_read(ROOT / "scenarios" / "thunderstorm_2018.toml")
    assert industry["industry platforms table"].name == "wdzj_platforms.csv"
    assert industry["industry failure hazard"].name == "wdzj_hazard.json"


def test_a_changed_base_is_never_resumed_and_the_refusal_names_it(based, capsys):
    out = based.parent / "exp"
    run_experiment(based, out=out, executor="local", quiet=True)
    kept = {p.name: p.read_bytes() for p in (out / "runs").iterdir()}
    (based.parent / "scenario.toml").write_text(BASE.replace("horizon_days = 30",
                                                             "horizon_days = 40"))
    assert main(["experiment", str(based), "--out", str(out), "--quiet",
                 "--executor", "local"]) == 2
    err = capsys.readouterr().err
    assert "base scenario (based_on, level 1)" in err and "scenario.toml changed" in err
    assert {p.name: p.read_bytes() for p in (out / "runs").iterdir()} == kept
    result = run_experiment(based, out=out, executor="local", quiet=True, overwrite=True)
    assert result["skipped"] == 0  # every run made again, on the new base


def test_a_changed_user_module_or_code_changes_the_key(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text((ROOT / "examples" / "custom_policy.toml").read_text().replace(
        "my_policies:", "stale_resume_policies:"))
    module = tmp_path / "stale_resume_policies.py"
    shutil.copy(ROOT / "examples" / "my_policies.py", module)
    before = input_hashes(path, path)
    assert before["user module stale_resume_policies"]["path"] == str(module)
    module.write_text(module.read_text() + "\n# the premium changed\n")
    after = input_hashes(path, path)
    changed = {role for role in before if before[role] != after[role]}
    assert changed == {"user module stale_resume_policies"}


def test_a_reserve_study_starts_over_when_its_base_changed_and_says_so(tmp_path, capsys):
    from sim.reserve.request import ReserveRequest, check
    from sim.reserve.study import path_store

    reserve = BASE.replace('name = "p"\n', 'name = "p"\n[platforms.guarantee]\n'
                                          'policy = "reserve_fund"\n')
    (tmp_path / "base.toml").write_text(reserve)
    (tmp_path / "child.toml").write_text('based_on = "base.toml"\n')
    request = ReserveRequest(scenario=str(tmp_path / "child.toml"), paths=4, quiet=True)
    store = path_store(tmp_path / "kept", request, check(request))
    store.write({"run": 0, "status": "ok", "path": 0, "round": 0, "seed": "1", "elapsed_s": 0})
    assert store.done() == {0}
    (tmp_path / "base.toml").write_text(reserve.replace("count = 200", "count = 210"))
    again = path_store(tmp_path / "kept", request, check(request))
    assert again.done() == set()
    assert "base scenario (based_on, level 1)" in again.started_over
