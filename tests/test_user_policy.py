"""A user-defined policy class, named in a scenario as module:Class (examples/my_policies.py)."""

from __future__ import annotations

import numpy as np

from sim import P2PMarket
from sim.cli import main
from sim.scenario import load_scenario

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "custom_policy.toml"


def test_a_user_pricing_policy_prices_the_listings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the module is found beside the scenario, wherever we run from
    model = P2PMarket(EXAMPLE, audit="full", run__horizon_days=90)
    model.run()
    lst = model.marketplace.listings
    n = len(lst)
    assert n > 0
    grade_rate = np.asarray(model.config.grades.annual_rate)
    expected = np.minimum(grade_rate[lst.grade[:n]] + 0.01 * lst.term[:n] / 12.0, 0.24)
    assert np.allclose(lst.annual_rate[:n], expected)
    assert set(np.unique(lst.term[:n])) == {12, 36}


def test_a_user_policy_without_params_gets_its_keys_as_a_dict():
    scenario = load_scenario(EXAMPLE, {
        "platforms.0.risk": {"policy": "my_policies:LendToEveryone", "max_amount_cny": 20000.0},
        "run.horizon_days": 60})
    model = P2PMarket(scenario, audit="full")
    model.run()
    n = len(model.marketplace.listings)
    assert n > 0 and model.marketplace.listings.amount[:n].max() <= 2_000_000


def test_the_example_runs_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(EXAMPLE), "--out", str(out), "--quiet",
                 "--set", "run.horizon_days=60"]) == 0
    assert "pricing my_policies:TermPremium" in capsys.readouterr().out
    assert (out / "summary.json").exists()
