"""Loan repayment schedules for the four repayment methods of Chinese P2P platforms.

The closed forms, with principal ``P`` (fen), monthly rate ``r = annual_rate / 12`` and term ``n``
months, balance ``B(k)`` after ``k`` instalments:

* 等额本息 annuity (``annuity``): constant instalment ``A = P r (1+r)^n / ((1+r)^n - 1)``,
  ``B(k) = P ((1+r)^n - (1+r)^k) / ((1+r)^n - 1)``.
* 等额本金 equal principal (``equal_principal``): ``B(k) = P (n - k) / n``, interest on the balance.
* 先息后本 interest monthly, principal at maturity (``interest_only``): interest ``P r`` each month.
* 到期还本付息 bullet (``bullet``): principal plus simple interest ``P * annual_rate * n / 12`` at maturity.

Rounding convention (the same in :func:`schedule` and in the engine's kernels): the balance after each
instalment is the closed-form balance rounded half up to the fen, the principal part of instalment
``k`` is ``round(B(k-1)) - round(B(k))`` (so principal parts add up to ``P`` exactly), and the interest
part is the closed-form interest ``B(k-1) r`` rounded to the fen. Every line is therefore within one
fen of the closed form, and nothing drifts over the term.
"""

from __future__ import annotations

import enum
import math

import numba
import numpy as np
import pandas as pd

from sim.money import to_fen


class RepaymentMethod(enum.IntEnum):
    """Repayment methods, with the Chinese names borrowers and platforms use."""

    ANNUITY = 0  # 等额本息
    EQUAL_PRINCIPAL = 1  # 等额本金
    INTEREST_ONLY = 2  # 先息后本
    BULLET = 3  # 到期还本付息


METHOD_NAMES = {
    "annuity": RepaymentMethod.ANNUITY,
    "equal_principal": RepaymentMethod.EQUAL_PRINCIPAL,
    "interest_only": RepaymentMethod.INTEREST_ONLY,
    "bullet": RepaymentMethod.BULLET,
}
CHINESE_NAMES = {
    "等额本息": RepaymentMethod.ANNUITY,
    "等额本金": RepaymentMethod.EQUAL_PRINCIPAL,
    "先息后本": RepaymentMethod.INTEREST_ONLY,
    "到期还本付息": RepaymentMethod.BULLET,
}
MAX_TERM_MONTHS = 60
MAX_SCHEDULE_CNY = 10_000_000_000.0  # 10^12 fen: every column stays exact to the fen in float64
DAYS_PER_MONTH = 30  # the engine's calendar is 30/360: a month is 30 days, a year 360
DAYS_PER_YEAR = 360
MONTHS_PER_YEAR = 12


def parse_method(name: str) -> RepaymentMethod:
    """Return the method for an English or Chinese name; raise ``ValueError`` naming the allowed ones."""
    key = name.strip()
    if key.lower() in METHOD_NAMES:
        return METHOD_NAMES[key.lower()]
    if key in CHINESE_NAMES:
        return CHINESE_NAMES[key]
    allowed = ", ".join([*METHOD_NAMES, *CHINESE_NAMES])
    raise ValueError(f"unknown repayment method {name!r}; allowed: {allowed}")


@numba.njit(cache=True)
def _round_fen(x):
    """Round a non-negative fen amount (float) half up to an integer."""
    return np.int64(math.floor(x + 0.5))


@numba.njit(cache=True)
def _balance_exact(principal, monthly_rate, term, method, k):
    """Closed-form outstanding principal (fen, float) after ``k`` scheduled instalments."""
    if k >= term:
        return 0.0
    if method == 0:  # annuity
        growth_n = (1.0 + monthly_rate) ** term
        if growth_n == 1.0:  # no interest, or too little to move (1 + r)^n: equal principal
            return principal * (term - k) / term
        growth_k = (1.0 + monthly_rate) ** k
        return principal * (growth_n - growth_k) / (growth_n - 1.0)
    if method == 1:  # equal principal
        return principal * (term - k) / term
    return float(principal)  # interest-only and bullet: principal is repaid at maturity


@numba.njit(cache=True)
def instalment(principal, annual_rate, term, method, k):
    """Principal and interest (fen) of scheduled instalment ``k`` (1-based) of a loan.

    Parameters
    ----------
    principal : int
        Original principal, fen.
    annual_rate : float
        Nominal annual interest rate (0.12 = 12 % a year); the monthly rate is ``annual_rate / 12``.
    term : int
        Term, months.
    method : int
        A :class:`RepaymentMethod` value.
    k : int
        Instalment number, 1..term. Outside that range nothing is due.

    Returns
    -------
    (int, int)
        Principal part and interest part, fen.
    """
    if k < 1 or k > term:
        return np.int64(0), np.int64(0)
    monthly_rate = annual_rate / 12.0
    if method == 3:  # bullet: one payment at maturity, simple interest
        if k < term:
            return np.int64(0), np.int64(0)
        return np.int64(principal), _round_fen(principal * annual_rate * term / 12.0)
    if method == 0 and (1.0 + monthly_rate) ** term != 1.0 and k < term:  # annuity: (1+r)^n once
        # the same expressions as _balance_exact, so consecutive instalments telescope exactly
        growth_n = (1.0 + monthly_rate) ** term
        before = principal * (growth_n - (1.0 + monthly_rate) ** (k - 1)) / (growth_n - 1.0)
        after = principal * (growth_n - (1.0 + monthly_rate) ** k) / (growth_n - 1.0)
    else:
        before = _balance_exact(principal, monthly_rate, term, method, k - 1)
        after = _balance_exact(principal, monthly_rate, term, method, k)
    principal_part = _round_fen(before) - _round_fen(after)
    interest_part = _round_fen(before * monthly_rate)
    return principal_part, interest_part


@numba.njit(cache=True)
def balance_after(principal, annual_rate, term, method, k):
    """Outstanding principal (fen) after ``k`` scheduled instalments, rounded as in :func:`instalment`."""
    if k <= 0:
        return np.int64(principal)
    return _round_fen(_balance_exact(principal, annual_rate / 12.0, term, method, k))


def schedule(principal: float, annual_rate: float, term_months: int, method: str | int = "annuity",
             ) -> pd.DataFrame:
    """Return a loan's repayment schedule (还款计划), one row per month.

    Parameters
    ----------
    principal : float
        Amount borrowed, CNY.
    annual_rate : float
        Nominal annual rate, e.g. 0.12 for 12 % a year.
    term_months : int
        Term, months (1-60).
    method : str or int
        ``annuity`` (等额本息), ``equal_principal`` (等额本金), ``interest_only`` (先息后本) or
        ``bullet`` (到期还本付息), or a :class:`RepaymentMethod`.

    Returns
    -------
    pandas.DataFrame
        Columns ``month``, ``payment``, ``principal``, ``interest``, ``balance`` in CNY (exact
        multiples of 0.01), and the same in fen as ``*_fen`` integers.
    """
    code = method if isinstance(method, (int, RepaymentMethod)) else parse_method(method)
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise ValueError(f"term_months must be 1..{MAX_TERM_MONTHS}, got {term_months}")
    if not 0.0 <= annual_rate <= 1.0:
        raise ValueError(f"annual_rate must be a fraction in [0, 1], got {annual_rate}")
    if not 0.01 <= principal <= MAX_SCHEDULE_CNY:  # NaN is refused too
        raise ValueError(f"principal must be 0.01 CNY (one fen) to {MAX_SCHEDULE_CNY:,.0f} CNY, "
                         f"got {principal}")
    principal_fen = to_fen(principal)
    rows = []
    balance = principal_fen
    for k in range(1, term_months + 1):
        p, i = instalment(principal_fen, annual_rate, term_months, int(code), k)
        balance -= int(p)
        rows.append((k, int(p) + int(i), int(p), int(i), balance))
    frame = pd.DataFrame(rows, columns=["month", "payment_fen", "principal_fen", "interest_fen",
                                        "balance_fen"])
    for column in ["payment", "principal", "interest", "balance"]:
        frame[column] = frame[f"{column}_fen"] / 100.0
    return frame[["month", "payment", "principal", "interest", "balance",
                  "payment_fen", "principal_fen", "interest_fen", "balance_fen"]]


@numba.njit(cache=True)
def instalments(principal, annual_rate, term, method, k):
    """Vectorised :func:`instalment`: total payment (fen) of instalment ``k[i]`` of each loan ``i``."""
    out = np.empty(principal.shape[0], dtype=np.int64)
    for i in range(principal.shape[0]):
        p, r = instalment(principal[i], annual_rate[i], term[i], method[i], k[i])
        out[i] = p + r
    return out


@numba.njit(cache=True)
def balances_after(principal, annual_rate, term, method, k):
    """Vectorised :func:`balance_after`: outstanding principal (fen) after ``k[i]`` instalments."""
    out = np.empty(principal.shape[0], dtype=np.int64)
    for i in range(principal.shape[0]):
        out[i] = balance_after(principal[i], annual_rate[i], term[i], method[i], k[i])
    return out
