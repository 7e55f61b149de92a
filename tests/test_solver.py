"""The root-finding search on synthetic paths: ``g(x)``, the size a run at ``x`` says it needed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.reserve.paths import PathTask
from sim.reserve.solver import Search, Unknown, path_value, refine_band, solve_path, undecided

KEY = "platforms.0.guarantee.initial_cny"


def _solve(g, start=5e6, steps=None, search=None, released=lambda x: 0.0):
    """Solve a path whose one-run answer at size ``x`` is ``g(x)``; return record and sizes run."""
    unknown = Unknown("size", KEY, "required_reserve", start, 100)
    task = PathTask(path=0, seed=1, shocks=[], scenario="unused", solve=unknown, steps=steps,
                    search=search)
    run = []

    def run_once(at):
        x = at.overrides[KEY]
        run.append(x)
        return {"required_reserve": g(x), "released": released(x)}

    return solve_path(task, run_once), run


def test_without_feedback_two_runs_give_the_one_run_answer():
    record, run = _solve(lambda x: 37e6)
    assert record["required_reserve"] == 37e6 and run == [5e6, 37e6]
    assert record["solver_converged"]


def test_top_ups_that_stand_in_for_the_initial_reserve_are_found_and_the_answer_was_run():
    # below 40 M the platform's top-ups make up the difference (g = x + c); above, they stop
    def g(x):
        return x + 9.7e6 if x < 40e6 else 42.5e6

    record, run = _solve(g)
    need = record["required_reserve"]
    assert 40e6 <= need <= 42.5e6 and need in run  # the answer is a size run and found enough
    assert need - record["solver_low"] <= 0.005 * need + 1000
    assert g(need) <= need and g(record["solver_low"] * 0.999) > record["solver_low"] * 0.999


def test_a_cap_that_releases_any_excess_means_no_size_is_enough():
    # whatever it starts with beyond 3 M goes back to the platform; it is short by the same
    record, run = _solve(lambda x: x + 390_887.0, released=lambda x: max(0.0, x - 3e6))
    assert math.isinf(record["required_reserve"]) and not record["solver_converged"]
    assert len(run) <= 4  # found out at once, not by running up to the largest size
    record, run = _solve(lambda x: x + 390_887.0)  # the same shortfall, nothing released
    assert math.isinf(record["required_reserve"]) and len(run) > 8  # searched up to the largest


def test_a_search_goes_on_where_the_last_round_left_it():
    def g(x):
        return x + 9.7e6 if x < 40e6 else 42.5e6

    whole, run = _solve(g)
    first, _ = _solve(g, steps=1)
    assert first["solver_runs"] == 1 and not first["solver_search"].done
    search = first["solver_search"]
    while not search.done:
        later, _ = _solve(g, steps=1, search=search)
        assert "net_outflow" not in later  # the series come from the first run only
        search = later["solver_search"]
    assert search.enough == whole["required_reserve"] and search.runs == len(run)


def _search(low, high, done=False):
    return Search(next_value=0.0, short_below=low, enough=high, done=done)


def test_the_band_holds_each_quantile_and_paths_far_from_it_keep_a_bound():
    weights = np.ones(100)
    searches = [_search(v, v, done=True) for v in np.linspace(0, 99e6, 100)]
    searches[3] = _search(0.0, 4e6)           # far below: its upper end decides its side
    searches[98] = _search(150e6, math.inf)   # far above: its lower end does
    searches[90] = _search(60e6, math.inf)    # may be anywhere above 60 M: still open
    band = refine_band(searches, weights, [0.9])
    (low, high), = band
    assert low < 0.9 * 89e6 and 1.1 * 89e6 < high  # the 0.9 quantile (89 M), widened
    assert not undecided(searches[3], band) and not undecided(searches[98], band)
    assert undecided(searches[90], band)
    assert path_value(searches[3]) == 4e6 and path_value(searches[98]) == 150e6


@pytest.mark.parametrize("refine", ["near-quantiles", "every-path"])
def test_refine_is_checked(refine):
    from sim.reserve.request import REFINE

    assert refine in REFINE
