"""The systematic factor estimated from vintages (calibration/vintage_factor.py, docs/calibration.md)."""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "calibration"))
import vintage_factor  # noqa: E402

from sim.scenario import load_scenario  # noqa: E402

TAPE = vintage_factor.DEFAULT_PATH
SEASONED = ROOT / "scenarios" / "baseline_seasoned.toml"


def tape_head(path: Path, rows: int, drop: str | None = None) -> Path:
    """The first ``rows`` loans of the LendingClub tape, without the column ``drop``."""
    import pandas as pd

    tape = pd.read_csv(TAPE, nrows=rows)
    if drop:
        tape = tape.drop(columns=[drop])
    tape.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("make, says", [
    (lambda d: tape_head(d / "tape.csv", 50, drop="last_pymnt_d"), "lacks the columns last_pymnt_d"),
    (lambda d: tape_head(d / "tape.csv", 600), "calendar months have 10 or more expected defaults"),
    (lambda d: (d / "tape.csv").write_bytes(gzip.compress(b"\x00\xff" * 40)) or d / "tape.csv",
     "cannot read it as a CSV loan tape"),
])
def test_a_tape_it_cannot_use_is_refused_with_exit_2_and_nothing_written(tmp_path, capsys, make, says):
    """Missing columns, too few vintages, not a CSV: a message naming the file, exit 2, no write."""
    tape = make(tmp_path)
    scenario = tmp_path / "seasoned.toml"
    shutil.copy(SEASONED, scenario)
    before = scenario.read_bytes()
    assert vintage_factor.main([str(tape), "--scenario", str(scenario), "--draws", "5"]) == 2
    err = capsys.readouterr().err
    assert says in err and str(tape) in err and "Traceback" not in err
    assert scenario.read_bytes() == before


def test_the_kalman_filter_gives_the_gaussian_likelihood_of_a_short_history():
    """Two months of an AR(1) plus noise: the filter's log-likelihood is the bivariate normal's."""
    from scipy.stats import multivariate_normal

    mu, rho, phi = 0.01, 0.04, 0.8
    months, y, noise = np.array([5, 6]), np.array([0.1, -0.2]), np.array([0.05, 0.07])
    covariance = rho * np.array([[1.0, phi], [phi, 1.0]]) + np.diag(noise ** 2)
    expected = multivariate_normal(mean=[mu, mu], cov=covariance).logpdf(y)
    assert vintage_factor.kalman(np.array([mu, rho, phi]), months, y, noise) == pytest.approx(
        expected, rel=1e-12)


@pytest.mark.slow
def test_the_estimates_reproduce_and_are_the_seasoned_baselines():
    """The same tape gives the same estimates to the bit; the seasoned baseline carries them."""
    loans = vintage_factor.read_loans(TAPE)
    first = vintage_factor.estimate(loans, draws=10)
    second = vintage_factor.estimate(loans, draws=10)
    for key in ("mu", "rho", "phi", "rho_se", "phi_se", "loglik"):
        assert first[key] == second[key], key
    macro = load_scenario(SEASONED).macro
    assert macro.asset_correlation == round(first["rho"], 4)
    assert macro.persistence == round(first["phi"], 3)


@pytest.mark.slow
def test_the_engine_on_the_estimated_factor_gives_it_back():
    """Twelve years of the seasoned baseline's own loans under its factor: estimates within 2 SE.

    The estimates (asset correlation and persistence of scenarios/baseline_seasoned.toml) drive
    the engine's macro factor; the loans it makes are cut into vintages as the tape is and the
    factor estimated again. The factor's smoothed path must also follow the one the engine drew.
    """
    macro = load_scenario(SEASONED).macro
    loans, seasoning = vintage_factor.simulated_loans(macro.asset_correlation, macro.persistence,
                                                      seed=2, years=12, applications_per_day=40.0)
    result = vintage_factor.estimate(loans, seasoning, draws=100)
    assert abs(result["rho"] - macro.asset_correlation) < 2 * result["rho_se"], result["rho"]
    assert abs(result["phi"] - macro.persistence) < 2 * result["phi_se"], result["phi"]
    path = result["path"]
    drawn = loans.attrs["factor"][path.month.to_numpy()]
    assert np.corrcoef(drawn, path.z)[0, 1] > 0.8
