"""What a risk committee reads in a reserve study: the book, the closed form, the tail, warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from sim.cli import main
from sim.money import estimate_text
from sim.reserve import ReserveRequest, analysis, format_results, run_reserve_study
from sim.reserve.caveats import agreement_bound, caveats
from sim.reserve.committee import tail_contributions
from sim.reserve.paths import PathTask, run_path
from sim.reserve.sampling import shock_count

ONE_PERIOD = "scenarios/vasicek_one_period.toml"
LIMIT = "scenarios/vasicek_limit.toml"
RESERVE = "scenarios/reserve_fund.toml"


@pytest.fixture(scope="module")
def one_period(tmp_path_factory):
    out = tmp_path_factory.mktemp("one-period") / "study"
    return run_reserve_study(ReserveRequest(scenario=ONE_PERIOD, out=str(out), paths=160,
                                            confidence=(0.99, 0.999), seed=5, quiet=True,
                                            workers=2))


def test_the_closed_form_agrees_with_the_simulation_in_the_formula_s_world(one_period):
    """One period, 40,000 loans, no cures: the study's Vasicek line within its stated error."""
    for row in one_period["closed_form"]:
        assert abs(row["difference_se"]) < 3, row  # the error the study states beside it
        assert row["simulated_se"] < 0.08 * row["simulated_cny"]  # precise enough to mean much
        assert row["granularity_sd_cny"] < 0.02 * row["formula_cny"]  # near an infinite pool
        assert row["formula_averaged_cny"] == pytest.approx(row["formula_cny"])  # factor held
    # in the formula's world nothing but the pool's size is left to explain a difference
    assert len(one_period["closed_form_reasons"]) == 1
    assert "40,000 loans" in one_period["closed_form_reasons"][0]
    # and the comparison has power: the formula with another correlation is many errors away
    book = one_period["book"]
    pd_ = next(r for r in one_period["statistics"]["defaulted"]
               if r["statistic"] == "mean")["estimate"] / book["exposure_cny"]
    assert pd_ == pytest.approx(0.03 * 29 / 30, rel=0.1)  # h, but for the window's last day
    row = one_period["closed_form"][-1]
    wrong = book["exposure_cny"] * ndtr((ndtri(pd_) + math.sqrt(0.08) * ndtri(0.999))
                                        / math.sqrt(1 - 0.08))
    assert abs(row["simulated_cny"] - wrong) > 5 * row["simulated_se"]
    assert "against the closed form" in format_results(one_period)


def test_the_book_sized_is_the_opening_book_and_the_loans_lent(one_period):
    book = one_period["book"]
    # 40,000 interest-only loans of 10,000 CNY in every path (a weighted mean: to rounding)
    assert book["opening_balance_cny"] == pytest.approx(400_000_000, abs=1e-3)
    assert book["opening_loans"] == pytest.approx(40_000)
    assert book["lent_cny"] == 0 == book["loans_lent"]
    assert [g["grade"] for g in book["grade_mix"]] == ["A"]
    assert book["grade_mix"][0]["share"] == pytest.approx(1.0)
    for row in one_period["requirements"]:
        assert row["initial_reserve_cny_share"] == pytest.approx(
            row["initial_reserve_cny"] / 400_000_000)


def test_a_path_s_losses_by_grade_term_and_vintage_add_up_to_its_write_offs():
    days = 540
    task = PathTask(path=0, seed=4, shocks=[0.0] * shock_count(days), scenario=RESERVE,
                    horizon_days=days, overrides={"grades.recovery_lag_months": 0})
    record = run_path(task)
    assert record["status"] == "ok", record.get("error")
    defaulted = sum(record["defaulted"])
    assert defaulted > 1_000_000
    assert sum(record["defaulted_by_grade"]) == pytest.approx(defaulted, abs=0.01)
    loss = sum(record["loss_by_grade"])
    for split in ("term", "vintage"):
        assert sum(record[f"loss_by_{split}"]) == pytest.approx(loss, rel=1e-12)
    # recoveries paid at once: the loss at write-off is the credit loss, to a fen a default
    credit_loss = defaulted - sum(record["recovered"])
    assert loss == pytest.approx(credit_loss, abs=0.01 * len(record["defaulted"]) * 1000)
    assert record["loss_by_vintage"][0] == 0  # no opening book in this scenario
    assert sum(record["book_lent_by_grade"]) > 0 and record["book_loans_lent"] > 0


def _paths(seed=3, n=400):
    """Synthetic paths: grade B loses only in bad paths, grade A a little in every one."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    a = 10 + rng.random(n)
    b = np.where(z < -1.5, 100 * (-z), 0.0)
    loss_by_grade = np.column_stack([a, b])
    arrays = {"loss": loss_by_grade.sum(axis=1), "loss_by_grade": loss_by_grade,
              "loss_by_term": loss_by_grade[:, ::-1], "loss_by_vintage": loss_by_grade}
    return arrays, rng.uniform(0.5, 1.5, n)


def test_tail_contributions_add_up_to_the_expected_shortfall():
    arrays, w = _paths()
    labels = {"grade": ["A", "B"], "term": ["12 months", "36 months"], "vintage": ["v1", "v2"]}
    rows = tail_contributions(arrays, w, labels, [0.95, 0.99], np.random.default_rng(1))
    for level in (0.95, 0.99):
        shortfall = analysis.expected_shortfall(arrays["loss"], w, level)
        for split in labels:
            mine = [r for r in rows if r["confidence"] == level and r["split"] == split]
            assert sum(r["es_contribution_cny"] for r in mine) == pytest.approx(shortfall)
            assert sum(r["share_of_es"] for r in mine) == pytest.approx(1.0)
            assert sum(r["share_of_mean"] for r in mine) == pytest.approx(1.0)
        grade_b = next(r for r in rows if r["confidence"] == level and r["segment"] == "B")
        assert grade_b["share_of_es"] > 0.8 > 0.6 > grade_b["share_of_mean"]  # the tail's grade
        assert 0 < grade_b["share_of_es_se"] < 0.1


def test_amounts_are_rounded_to_what_their_error_allows():
    assert estimate_text(300_351_463.44, 21_609_326.99) == "300 ± 22 M CNY"
    assert estimate_text(4_560_328.0, 120_000.0) == "4.56 ± 0.12 M CNY"
    assert estimate_text(456_032.8, 12_000.0) == "45.6 ± 1.2 万 CNY"
    assert estimate_text(123_456_789.0) == "123 M CNY"  # three digits without an error


def _results(**changes):
    """A study's results as the warnings read them: 400 paths, nothing to warn about."""
    results = {
        "paths": 400, "effective_sample_size": 250.0, "layer": "reserve_fund",
        "confidence": [0.99],
        "requirements": [{"confidence": 0.99, "initial_reserve_cny": 50e6,
                          "initial_reserve_se": 2e6, "initial_reserve_low": 46e6,
                          "initial_reserve_high": 54e6, "initial_reserve_relative_se": 0.04,
                          "contribution_rate": 0.03, "fee_share": 0.4}],
        "statistics": {"credit_loss": [{"statistic": "q99", "estimate": 40e6, "low": 37e6,
                                        "high": 43e6}]},
        "exhaustion_probability": {"estimate": 0.02, "se": 0.007},
        "book": {"exposure_cny": 1e9},
        "tail_contributions": [{"confidence": 0.99, "tail_paths": 40.0}],
    }
    results.update(changes)
    return results


COLUMNS = {"required_reserve": np.linspace(0, 80e6, 400), "credit_loss": np.linspace(0, 60e6, 400)}


def test_a_sound_study_has_no_warnings():
    assert caveats(_results(), COLUMNS) == []


def test_warnings_say_what_the_paths_cannot_answer():
    few = caveats(_results(paths=40, effective_sample_size=12.0), COLUMNS)
    assert any("the 40 paths weigh as 12, below the 100" in w and "about 340 paths" in w
               for w in few)
    need = _results()["requirements"][0]
    loose = caveats(_results(requirements=[{**need, "initial_reserve_relative_se": 0.25}]),
                    COLUMNS)
    assert any("known only to ± 25%" in w and "about 2,500 paths" in w for w in loose)
    edge = caveats(_results(requirements=[{**need, "initial_reserve_cny": 53.9e6}]), COLUMNS)
    assert any("edge of its own 95 % interval (upper end)" in w for w in edge)
    worst = caveats(_results(requirements=[{**need, "initial_reserve_cny": 80e6,
                                            "initial_reserve_high": 90e6}]), COLUMNS)
    assert any("the worst path's value" in w for w in worst)
    fees = caveats(_results(requirements=[{**need, "fee_share": 6.63906}]), COLUMNS)
    assert any(w.startswith("infeasible: for 99 %") for w in fees)
    assert not any("664" in w for w in fees)  # said to be infeasible, never printed
    sure = caveats(_results(exhaustion_probability={"estimate": 1.0, "se": 0.0},
                            effective_sample_size=40.0), COLUMNS)
    bound = agreement_bound(40.0)
    assert bound == pytest.approx(1 - 0.05 ** (1 / 40)) and 0.07 < bound < 3 / 40
    assert any(f"above {1 - bound:.2%} (one-sided 95 %" in w for w in sure)
    thin = caveats(_results(tail_contributions=[{"confidence": 0.99, "tail_paths": 4.0}]),
                   COLUMNS)
    assert any("rests on 4 effective paths" in w for w in thin)


def test_a_board_with_no_schemes_exits_2_and_writes_nothing(tmp_path, capsys):
    board = tmp_path / "board.toml"
    board.write_text('scenario = "../scenarios/reserve_fund.toml"\npaths = 4\nschemes = []\n',
                     encoding="utf-8")
    out = tmp_path / "out"
    assert main(["board", str(board), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "schemes" in err and "Traceback" not in err
    assert not out.exists()


def test_a_reserve_study_shows_its_progress_and_the_time_left(tmp_path, capsys):
    assert main(["reserve", LIMIT, "--paths", "4", "--out", str(tmp_path / "s"),
                 "--executor", "local", "--horizon-months", "2"]) == 0
    err = capsys.readouterr().err
    assert "4/4" in err and "<00:00" in err  # tqdm: paths done and the time left


def test_the_effects_a_scenario_has_are_the_ones_switched_off():
    from sim.reserve.effects import effects_of
    from sim.scenario import load_scenario

    named = [name for name, _ in effects_of(load_scenario(RESERVE))]
    assert named[:2] == ["a downturn fixed in every path", "the economy moving month by month"]
    held = load_scenario(RESERVE, {"macro.shock_path": [], "macro.persistence": 1.0})
    assert "a downturn fixed in every path" not in [n for n, _ in effects_of(held)]


@pytest.mark.slow  # about a minute: make test-slow (CI runs it after make test)
def test_each_effect_is_measured_by_a_side_study_and_the_committee_reads_it(tmp_path, capsys):
    """Issue 43: the fixed downturn makes the mean loss; every figure has one error."""
    import json

    import pandas as pd

    out = tmp_path / "study"
    assert main(["reserve", RESERVE, "--paths", "4", "--horizon-months", "18", "--effects",
                 "--out", str(out), "--workers", "1", "--executor", "local", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    effects = pd.read_csv(out / "effects.csv")
    downturn = effects[effects.effect == "a downturn fixed in every path"]
    assert len(downturn) == 2  # one row a confidence
    assert (downturn.mean_loss_cny < downturn.study_mean_loss_cny).all()  # it raised the mean
    assert np.allclose(effects.gap_made_by_it_cny, effects.gap_cny - effects.gap_without_cny)
    quantile = {r["statistic"]: r for r in summary["statistics"]["credit_loss"]}["q99"]
    closed = {r["confidence"]: r for r in summary["closed_form"]}[0.99]
    assert summary["closed_form_loss"] == "credit loss"  # one figure, one error
    assert (closed["simulated_cny"], closed["simulated_se"]) == (quantile["estimate"],
                                                                 quantile["se"])
    assert {row["grade"] for row in summary["closed_form_inputs"]} >= {"A", "B"}
    printed = capsys.readouterr().out
    assert "PD over 18 months" in printed and "without a downturn fixed in every path" in printed
    assert any("fixes the economy in 6 months" in r for r in summary["closed_form_reasons"])
    page = tmp_path / "study.html"
    assert main(["report", str(out), "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Each effect switched off" in html and "PD over the horizon" in html
