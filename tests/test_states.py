"""One state machine for every platform: normal, 提现困难 (recoverable), and failure."""

from __future__ import annotations

import numpy as np

from sim.industry.failures import CAUSES
from sim.model import P2PMarket
from sim.runs.states import RunState, RunStates

from .conftest import ROOT


def test_late_enters_difficulty_recovers_when_paid_and_fails_after_its_days():
    states = RunStates(3)
    entered, failing = states.update([0, 1, 2], [True, True, False], day=10, fail_after_days=5)
    assert list(entered) == [0, 1] and not len(failing)
    assert states.state.tolist() == [RunState.WITHDRAWAL_DIFFICULTY] * 2 + [RunState.NORMAL]
    entered, failing = states.update([0, 1], [False, True], day=12, fail_after_days=5)
    assert states.state[0] == RunState.NORMAL and states.difficulty_since[0] == -1  # paid again
    assert not len(failing)
    entered, failing = states.update([1], [True], day=15, fail_after_days=5)
    assert list(failing) == [1]  # five days in 提现困难: the caller says how it fails
    states.fail(failing, RunState.CLOSED, 15)
    assert states.state[1] == RunState.CLOSED and states.failed_day[1] == 15
    entered, failing = states.update([1], [True], day=16, fail_after_days=5)
    assert not len(entered) and not len(failing)  # a failed platform does not move


def test_a_pooled_platform_in_an_industry_goes_through_the_same_machine():
    """Pooled platforms that failed by a run were in 提现困难 for ``fail_after_days`` first."""
    market = P2PMarket(ROOT / "scenarios" / "thunderstorm_2018.toml", rng=3,
                       **{"industry.platforms": 40, "industry.investors": 5000,
                          "industry.behaviour.withdrawal_daily": 0.02,
                          "industry.behaviour.fail_after_days": 30,  # time to be paid again
                          "runs.enabled": False})  # no trust: a late platform may be paid again
    entered_any = np.zeros(market.industry.n, dtype=bool)
    for _ in range(300):
        market.step()
        entered_any |= market.run_states.state == RunState.WITHDRAWAL_DIFFICULTY
    industry, states = market.industry, market.run_states
    by_run = industry.pooled & (industry.cause == CAUSES.index("run"))
    assert by_run.any() and entered_any.any()
    waited = states.failed_day[by_run] - states.difficulty_since[by_run]
    assert (waited >= 30).all()
    recovered = entered_any & (states.state == RunState.NORMAL)  # 提现困难, then paid again
    assert recovered.any()
    assert market.platforms == [] or all(p.run.state == RunState(states.state[p.index])
                                         for p in market.platforms)
