"""Every policy, shipped or user-written, keeps its family's behavioural contract (sim.policies.contract).

Each built-in policy and the examples are run through it; policies broken on purpose show that the
contract catches each kind of breach.
"""

from __future__ import annotations

import pytest

from sim.policies import FAMILIES, builtin_names
from sim.policies.contract import check_policy, main

from .conftest import ROOT

NEEDS = {"layered": {"layers": [{"policy": "reserve_fund"}]}}  # a layered guarantee needs layers

BUILT_IN = [(family, name) for family in FAMILIES for name in builtin_names(family)]

BROKEN = '''\
import numpy as np


class Grade:
    def __init__(self, params, context):
        self.grade_rate = context.grade_rate

    def rates(self, applicants):
        return self.grade_rate[applicants["grade"]]


class Moody(Grade):
    """Draws from numpy's global generator: another result on every run of the same seed."""

    def price(self, applicants, state):
        return self.rates(applicants) + np.random.random() * 0.01


class Closed(Grade):
    """Declines every listing."""

    def price(self, applicants, state):
        return np.full(len(applicants["grade"]), np.nan)


class Negative(Grade):
    """A negative rate once the first month is over."""

    def price(self, applicants, state):
        return self.rates(applicants) - (0.5 if state.day > 30 else 0.0)


class Sulky:
    """Refuses every applicant."""

    def __init__(self, params, context):
        pass

    def review(self, applicants, rates, state):
        n = len(applicants["grade"])
        return np.zeros(n), np.zeros(n)


class Raising(Grade):
    def price(self, applicants, state):
        raise ZeroDivisionError("oops")
'''


@pytest.mark.parametrize("family, name", BUILT_IN, ids=[f"{f}-{n}" for f, n in BUILT_IN])
def test_every_built_in_policy_keeps_its_contract(family, name):
    assert check_policy(family, {"policy": name, **NEEDS.get(name, {})}) == []


@pytest.mark.parametrize("family, spec", [
    ("pricing", {"policy": "my_policies:TermPremium"}),
    ("risk", {"policy": "my_policies:LendToEveryone", "max_amount_cny": 20000.0}),
])
def test_the_example_user_policies_keep_their_contract(family, spec):
    assert check_policy(family, spec, search_dir=str(ROOT / "examples")) == []


@pytest.mark.parametrize("family, name, breach", [
    ("pricing", "broken_policies:Moody", "is not reproducible: price returned other results"),
    ("pricing", "broken_policies:Closed", "does not do its job: it prices no listing"),
    ("pricing", "broken_policies:Negative", "the rates returned holds -"),
    ("risk", "broken_policies:Sulky", "does not do its job: it approves no applicant"),
    ("pricing", "broken_policies:Raising", "price() raised ZeroDivisionError: oops"),
    ("pricing", "broken_policies:Missing", "does not build"),
])
def test_a_policy_that_breaks_its_contract_is_told_how(tmp_path, family, name, breach):
    (tmp_path / "broken_policies.py").write_text(BROKEN)
    breaches = check_policy(family, {"policy": name}, search_dir=str(tmp_path))
    assert len(breaches) == 1 and breach in breaches[0], breaches


def test_the_contract_runs_from_the_command_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_policies.py").write_text(BROKEN)
    monkeypatch.chdir(tmp_path)
    assert main(["pricing", "broken_policies:Closed"]) == 1
    assert "prices no listing" in capsys.readouterr().out
    monkeypatch.chdir(ROOT / "examples")
    assert main(["risk", "my_policies:LendToEveryone", "max_amount_cny=20000.0"]) == 0
    assert "keeps the contract" in capsys.readouterr().out
    assert main(["nothing", "x"]) == 2
