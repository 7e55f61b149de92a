"""Repayment schedules against the closed forms, to the fen."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.loans import RepaymentMethod, parse_method, schedule

CASES = [(10000.0, 0.12, 12), (58100.0, 0.1316, 36), (200000.0, 0.1946, 60), (1000.0, 0.0765, 1),
         (12345.67, 0.24, 7), (5000.0, 0.0, 6)]


def closed_form_annuity(p, annual, n):
    """Exact (float, CNY) principal and interest parts of each instalment of an annuity."""
    r = annual / 12
    if r == 0:
        return np.full(n, p / n), np.zeros(n)
    payment = p * r * (1 + r) ** n / ((1 + r) ** n - 1)
    k = np.arange(1, n + 1)
    balance_before = p * ((1 + r) ** n - (1 + r) ** (k - 1)) / ((1 + r) ** n - 1)
    interest = balance_before * r
    return payment - interest, interest


@pytest.mark.parametrize("p, annual, n", CASES)
def test_annuity_matches_closed_form_to_the_fen(p, annual, n):
    frame = schedule(p, annual, n, "annuity")
    principal, interest = closed_form_annuity(p, annual, n)
    assert frame.principal_fen.sum() == round(p * 100)
    assert_allclose(frame.principal, principal, atol=0.01 + 1e-9)
    assert_allclose(frame.interest, interest, atol=0.005 + 1e-9)
    if annual > 0:
        payment = p * (annual / 12) * (1 + annual / 12) ** n / ((1 + annual / 12) ** n - 1)
        assert_allclose(frame.payment, payment, atol=0.015)
    assert frame.balance_fen.iloc[-1] == 0


@pytest.mark.parametrize("p, annual, n", CASES)
def test_equal_principal_matches_closed_form(p, annual, n):
    frame = schedule(p, annual, n, "equal_principal")
    k = np.arange(1, n + 1)
    assert frame.principal_fen.sum() == round(p * 100)
    assert_allclose(frame.principal, p / n, atol=0.01 + 1e-9)
    assert_allclose(frame.interest, p * (n - k + 1) / n * annual / 12, atol=0.005 + 1e-9)


@pytest.mark.parametrize("p, annual, n", CASES)
def test_interest_only_and_bullet(p, annual, n):
    interest_only = schedule(p, annual, n, "interest_only")
    assert interest_only.principal_fen.tolist() == [0] * (n - 1) + [round(p * 100)]
    assert_allclose(interest_only.interest, p * annual / 12, atol=0.005 + 1e-9)
    bullet = schedule(p, annual, n, "bullet")
    assert bullet.payment_fen.iloc[:-1].sum() == 0
    assert bullet.principal_fen.iloc[-1] == round(p * 100)
    assert_allclose(bullet.interest.iloc[-1], p * annual * n / 12, atol=0.005 + 1e-9)


def test_known_textbook_instalment():
    # 10,000 CNY over 12 months at 12 % a year: the instalment every bank quotes is 888.49 CNY
    assert schedule(10000, 0.12, 12).payment.iloc[0] == pytest.approx(888.49, abs=1e-9)


def test_methods_by_english_and_chinese_name():
    assert parse_method("等额本息") is RepaymentMethod.ANNUITY
    assert parse_method("Bullet") is RepaymentMethod.BULLET
    with pytest.raises(ValueError, match="allowed"):
        parse_method("balloon")


@pytest.mark.parametrize("bad", [dict(term_months=0), dict(term_months=61), dict(principal=-1),
                                 dict(annual_rate=-0.1)])
def test_bad_schedule_input_is_refused(bad):
    args = dict(principal=1000.0, annual_rate=0.1, term_months=12) | bad
    with pytest.raises(ValueError):
        schedule(**args)


def test_an_annuity_at_a_rate_too_small_to_move_its_growth_is_equal_principal():
    """A rate of 1e-277 (a mutated rate cap) leaves (1 + r)^n at 1: no division by zero."""
    from sim.loans import balance_after, instalment

    tiny = 1.8e-277
    parts = [instalment(1_200_000, tiny, 12, 0, k) for k in range(1, 13)]
    assert [int(p) for p, _ in parts] == [100_000] * 12 and all(int(i) == 0 for _, i in parts)
    assert balance_after(1_200_000, tiny, 12, 0, 6) == 600_000
