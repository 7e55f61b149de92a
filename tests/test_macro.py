"""The macro factor and the Vasicek link against their closed forms."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose
from scipy import integrate
from scipy.stats import norm

from sim import P2PMarket
from sim.macro import conditional_hazard, factor_path
from sim.scenario import MacroConfig


def test_conditional_hazard_averages_to_the_unconditional_one():
    hazard = np.array([0.002, 0.01, 0.05])
    for rho in (0.05, 0.2, 0.5):
        mean = [integrate.quad(lambda z, h=h: conditional_hazard([h], rho, np.array([z]))[0, 0]
                               * norm.pdf(z), -12, 12)[0] for h in hazard]
        assert_allclose(mean, hazard, rtol=1e-7)


def test_downturn_raises_every_grade_and_rho_zero_is_neutral():
    hazard = np.array([0.002, 0.01])
    bad, good = conditional_hazard(hazard, 0.1, np.array([-2.0, 2.0]))
    assert (bad > hazard).all() and (good < hazard).all()
    assert_allclose(conditional_hazard(hazard, 0.0, np.array([-3.0]))[0], hazard)


def test_factor_is_stationary_ar1_and_phi_one_holds_it():
    rng = np.random.default_rng(0)
    z = factor_path(MacroConfig(persistence=0.8), 200_000, rng)
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.02
    assert abs(np.corrcoef(z[1:], z[:-1])[0, 1] - 0.8) < 0.01
    held = factor_path(MacroConfig(persistence=1.0), 50, rng)
    assert np.all(held == held[0])
    shocked = factor_path(MacroConfig(persistence=1.0, shock_path=[(10, -2.5)]), 20, rng)
    assert shocked[10] == -2.5 and shocked[19] == -2.5 and shocked[9] != -2.5


def test_simulated_defaults_match_the_conditional_hazard():
    """With Z held fixed, the share of current loans that miss equals the Vasicek hazard."""
    z0, rho, h = -1.5, 0.2, 0.02
    model = P2PMarket(rng=5, audit="off", run__horizon_days=31,
                      macro__persistence=1.0, macro__initial_factor=z0,
                      macro__asset_correlation=rho, grades__default_hazard_monthly=[h] * 7,
                      grades__cure_probability=0.0, borrowers__hazard_dispersion=0.0,
                      borrowers__applications_per_day=0.0, initial_book__loans=60000,
                      initial_book__notes_per_loan=1, investors__count=100)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    expected = norm.cdf((norm.ppf(h) - np.sqrt(rho) * z0) / np.sqrt(1 - rho))
    serviced = frame.loans_due.sum()
    missed = frame.missed_payments.sum()
    se = np.sqrt(expected * (1 - expected) / serviced)
    assert abs(missed / serviced - expected) < 4 * se
