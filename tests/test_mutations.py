"""Valid scenarios mutated at random: every outcome is a clean refusal or a sound run.

A sound run's outputs hold no NaN or infinity except where documented (the two reserve ratios,
docs/scenarios.md), no account but the outside world is ever negative, and the ledger balances to
the fen after every day (``audit="full"``).
"""

from __future__ import annotations

import copy
import math
import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import P2PMarket
from sim.outputs import summarise
from sim.report.scenario_text import scenario_toml
from sim.scenario import Scenario, ScenarioError, load_scenario

from .conftest import ROOT, SCENARIOS

NAN_ALLOWED = {"reserve_coverage", "reserve_to_arrears"}  # 0 / 0: nothing lent, no arrears
BASES = [load_scenario(SCENARIOS / name, {"run.horizon_days": 60})
         for name in ("baseline.toml", "reserve_fund.toml", "fund_pool.toml")]


def _leaves(node, path=()):
    """Every (path, value) of a nested dict / list of scenario keys."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list) and node and isinstance(node[0], dict | list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    else:
        yield path, node


VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2.0, max_value=2.0),
    st.floats(min_value=0.0, max_value=1.0),  # plausible values, so that many mutations run
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=-10**20, max_value=10**20),
    st.integers(min_value=-3, max_value=400),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.floats(min_value=-1.0, max_value=2.0), max_size=8),
    st.none(),
)


def _mutated(base: Scenario, path: tuple, value) -> dict:
    raw = base.model_dump(mode="python")
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return raw


def _smaller(scenario: Scenario) -> Scenario:
    """Keep the run fast: at most 60 days, a few hundred investors and applications a day."""
    raw = scenario.model_dump(mode="python")
    raw["run"]["horizon_days"] = min(raw["run"]["horizon_days"], 60)
    raw["investors"]["count"] = min(raw["investors"]["count"], 300)
    raw["borrowers"]["applications_per_day"] = min(raw["borrowers"]["applications_per_day"], 20.0)
    raw["initial_book"]["loans"] = min(raw["initial_book"]["loans"], 300)
    return load_scenario(raw)


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_mutated_scenario_is_refused_cleanly_or_runs_soundly(data):
    base = data.draw(st.sampled_from(BASES))
    leaves = sorted(_leaves(base.model_dump(mode="python")), key=str)
    path, _ = data.draw(st.sampled_from(leaves))
    value = data.draw(VALUES)
    try:
        scenario = load_scenario(_mutated(base, path, value))
    except ScenarioError as error:
        assert str(error).strip()
        return
    model = P2PMarket(_smaller(scenario), rng=5, audit="full")  # audits every day
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    for column in frame.columns:
        values = frame[column].to_numpy(dtype=np.float64)
        assert not np.isinf(values).any(), (path, value, column)
        if column not in NAN_ALLOWED:
            assert not np.isnan(values).any(), (path, value, column)
    for key, number in summarise(model).items():
        if isinstance(number, float):
            assert math.isfinite(number) or key in NAN_ALLOWED, (path, value, key)
    assert (model.investors.cash_fen >= 0).all()
    model.ledger.check()


INDUSTRY_SMALL = {"run.horizon_days": 90, "industry.platforms": 12, "industry.investors": 1500,
                  "industry.events": [{"month": "2017-02", "kind": "collapse", "class": "all",
                                       "largest": 2, "news": 0.3}]}
INDUSTRY_BASES = [
    load_scenario(SCENARIOS / "thunderstorm_2018.toml", INDUSTRY_SMALL),
    load_scenario(SCENARIOS / "seed_plan_in_2018.toml", {
        **INDUSTRY_SMALL, "investors.count": 300, "plan.targets": [], "plan.uncertain": [],
        "platforms.0.company.capital_raises": []}),
]


def _smaller_industry(scenario: Scenario) -> Scenario:
    """An industry kept fast: 90 days at most, a few platforms and a few thousand investors."""
    raw = scenario.model_dump(mode="python", by_alias=True)
    raw["run"]["horizon_days"] = min(raw["run"]["horizon_days"], 90)
    raw["industry"]["platforms"] = min(raw["industry"]["platforms"], 20)
    raw["industry"]["investors"] = min(raw["industry"]["investors"], 2000)
    raw["investors"]["count"] = min(raw["investors"]["count"], 300)
    raw["borrowers"]["applications_per_day"] = min(raw["borrowers"]["applications_per_day"], 20.0)
    return load_scenario(raw)


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_mutated_industry_or_mixed_scenario_is_refused_cleanly_or_runs_soundly(data):
    base = data.draw(st.sampled_from(INDUSTRY_BASES))
    raw = base.model_dump(mode="python", by_alias=True)
    leaves = sorted(((p, v) for p, v in _leaves(raw)
                     if p[0] in ("industry", "runs", "platforms", "investors", "macro")), key=str)
    path, _ = data.draw(st.sampled_from(leaves))
    value = data.draw(VALUES)
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    try:
        scenario = _smaller_industry(load_scenario(raw))
    except ScenarioError as error:
        assert str(error).strip()
        return
    model = P2PMarket(scenario, rng=5, audit="full")  # the books and every position, each day
    model.run()
    monthly = model.industry.tracker.frame()
    numbers = monthly.select_dtypes("number").to_numpy(dtype=np.float64)
    assert np.isfinite(numbers).all(), (path, value)
    assert (model.industry.positions.balance_fen >= 0).all()
    model.ledger.check()


# --------------------------------------------------------------------------- board, plan, platforms

BOARD_BASE = tomllib.loads((ROOT / "experiments" / "protection_board.toml").read_text())
BOARD_BASE["scenario"] = str(SCENARIOS / "layered_protection.toml")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_board_file_is_refused_cleanly_or_checked_whole(data, tmp_path):
    """A board file mutated at one key: a clean refusal, or every scheme's study checked."""
    from sim.reserve.board import board_requests, load_board
    from sim.reserve.request import ReserveError

    raw = copy.deepcopy(BOARD_BASE)
    path, _ = data.draw(st.sampled_from(sorted(_leaves(raw), key=str)))
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = data.draw(VALUES)
    file = tmp_path / "board.toml"
    file.write_text(scenario_toml(raw), encoding="utf-8")
    try:
        board = load_board(file)
        requests = board_requests(board, file, paths=4)
    except ReserveError as error:
        assert str(error).strip() and "Traceback" not in str(error)
        return
    assert len(requests) == len(board.schemes) >= 1
    assert 2 <= board.paths and all(0 < c < 1 for c in board.confidence)


PLAN_BASE = load_scenario(SCENARIOS / "seed_business_plan.toml")  # its plan, mutated


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_mutated_plan_is_refused_cleanly_or_gives_every_run_its_inputs(data):
    """A plan's targets or uncertain inputs mutated: a clean refusal, or every run's inputs drawn.

    Every run's scenario is checked too: what p2psim plan does before the first run.
    """
    from sim.plan.errors import PlanError
    from sim.plan.study import PlanRequest, plan_tasks

    raw = PLAN_BASE.model_dump(mode="python", by_alias=True)
    path, _ = data.draw(st.sampled_from(sorted(_leaves({"plan": raw["plan"]}), key=str)))
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = data.draw(st.one_of(VALUES, st.sampled_from(
        ["net_margin[year=9] >= 0.05", "payback_month <= 1e999", "volume_cny > x", "",
         "borrowers.nothing", "lognormal", "uniform", "scale", "shift"])))
    try:
        _, tasks = plan_tasks(PlanRequest(
            scenario=str(SCENARIOS / "seed_business_plan.toml"), runs=3, executor="local",
            overrides={"plan.targets": raw["plan"]["targets"],
                       "plan.uncertain": raw["plan"]["uncertain"]}))
    except (ScenarioError, PlanError) as error:
        assert str(error).strip()
        return
    assert len(tasks) == 3


PLATFORMS_HEADER = (ROOT / "data" / "wdzj_platforms.csv").read_text(encoding="utf-8").splitlines()


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_platforms_file_is_refused_cleanly_or_runs_soundly(data, tmp_path):
    """One cell of an industry's platforms file mutated: a clean refusal naming the file.

    Or an industry that runs with its books and positions audited every day.
    """
    rows = [line.split(",") for line in PLATFORMS_HEADER[:13]]
    row = data.draw(st.integers(min_value=1, max_value=len(rows) - 1))
    column = data.draw(st.integers(min_value=0, max_value=len(rows[0]) - 1))
    rows[row][column] = data.draw(st.one_of(
        st.sampled_from(["", "nan", "inf", "-1", "1e30", "garbage", "2030H9", "2017-13", "0",
                         "state", "listed", "上海", "normal", "problem", "50", "0.5"]),
        st.text(alphabet="0123456789.-e", max_size=6)))
    file = tmp_path / "platforms.csv"
    file.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    try:
        scenario = load_scenario(SCENARIOS / "thunderstorm_2018.toml", {
            **INDUSTRY_SMALL, "industry.platforms_file": str(file), "industry.investors": 800})
        model = P2PMarket(_smaller_industry(scenario), rng=5, audit="full")
    except ScenarioError as error:
        assert "platforms" in str(error)
        return
    model.run()
    assert (model.industry.positions.balance_fen >= 0).all()
    model.ledger.check()
