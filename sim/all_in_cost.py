"""A borrower's all-in cost of a loan (综合资金成本): the annual rate of what they receive and repay.

A borrower is lent ``P`` and receives ``P (1 - upfront)``: the fees taken at disbursement (the
upfront service fee 借款服务费, a guarantor's fee 担保费, a reserve contribution 风险准备金 from the
principal) are kept back. They repay the schedule of their repayment method (:mod:`sim.loans`) and,
with a monthly service fee, ``monthly x P`` more each month. The all-in cost is the nominal annual
rate ``12 i`` of the monthly internal rate of return ``i`` of those cash flows: the measure China's
rules cap (the 2017 rectification's 36 % of "综合资金成本", the courts' 24 % protected band). The
investors' management fee comes out of their interest, not the borrower's pocket, and is not in it.
"""

from __future__ import annotations

import numpy as np

from sim.loans import MONTHS_PER_YEAR, RepaymentMethod

BISECTION_STEPS = 60  # the monthly rate bracketed to 1e-18 of its range: exact for any fee


def payments_per_yuan(annual_rate: np.ndarray, term: np.ndarray, method: np.ndarray,
                      monthly: np.ndarray) -> np.ndarray:
    """The borrower's payment each month per yuan lent (loans x months, zero past the term).

    Closed forms of :mod:`sim.loans` (without rounding to the fen), plus the monthly fee.
    """
    rate = np.asarray(annual_rate, np.float64)[:, None] / MONTHS_PER_YEAR
    n = np.asarray(term, np.int64)[:, None]
    method = np.asarray(method, np.int64)[:, None]
    k = np.arange(1, int(np.max(term, initial=1)) + 1)[None, :]
    live = k <= n
    growth = (1 + rate) ** n
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(rate > 0, rate * growth / (growth - 1), 1.0 / n)
    equal = 1.0 / n + rate * (n - k + 1) / n
    interest_only = rate + (k == n)
    bullet = np.where(k == n, 1 + rate * n, 0.0)
    pay = np.select([method == RepaymentMethod.ANNUITY, method == RepaymentMethod.EQUAL_PRINCIPAL,
                     method == RepaymentMethod.INTEREST_ONLY], [annuity + 0 * k, equal,
                                                                interest_only], bullet)
    return np.where(live, pay + np.asarray(monthly, np.float64)[:, None], 0.0)


def all_in_apr(annual_rate, term, method, upfront, monthly) -> np.ndarray:
    """The all-in annual cost of each loan (a fraction: 0.24 is 24 %).

    Parameters
    ----------
    annual_rate : array of float
        Nominal annual interest rate of each loan.
    term, method : array of int
        Term in months and :class:`~sim.loans.RepaymentMethod`.
    upfront : array of float
        Share of principal kept back at disbursement (fees, contributions).
    monthly : array of float
        Share of the original principal charged each month on top of the schedule.
    """
    annual_rate = np.atleast_1d(np.asarray(annual_rate, np.float64))
    size = len(annual_rate)
    term, method, upfront, monthly = (np.broadcast_to(np.asarray(x), (size,)) for x in
                                      (term, method, upfront, monthly))
    if size == 0:
        return np.zeros(0)
    flows = payments_per_yuan(annual_rate, term, method, monthly)
    received = 1.0 - upfront.astype(np.float64)
    months = np.arange(1, flows.shape[1] + 1)[None, :]
    low, high = np.full(size, -0.99), np.full(size, 1.0)  # monthly rates: -99 % .. 100 %
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        value = np.sum(flows / (1 + middle[:, None]) ** months, axis=1)
        too_low = value > received  # discounting too little: the rate is higher
        low = np.where(too_low, middle, low)
        high = np.where(too_low, high, middle)
    return (low + high) / 2 * MONTHS_PER_YEAR
