"""Kernel of the all-in cost (:mod:`sim.all_in_cost`): each loan's monthly internal rate of return."""

from __future__ import annotations

import numba
import numpy as np

from sim.loans import RepaymentMethod

NEWTON_STEPS = 40     # an upper bound: Newton from 0 converges in about six steps
CONVERGED = 1e-12     # a step this small leaves an error of order 1e-24 (monthly rate)
BISECTION_STEPS = 60  # negative rates bracketed to 1e-18 of their range
ANNUITY, EQUAL_PRINCIPAL, INTEREST_ONLY = (int(m) for m in (  # any other method: a bullet
    RepaymentMethod.ANNUITY, RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.INTEREST_ONLY))


@numba.njit(cache=True)
def _payment(method, monthly_rate, n, k, annuity):
    """The payment of month ``k`` (1..n) per yuan lent, by the closed forms of :mod:`sim.loans`."""
    if method == ANNUITY:
        return annuity
    if method == EQUAL_PRINCIPAL:
        return 1.0 / n + monthly_rate * (n - k + 1) / n
    if method == INTEREST_ONLY:
        return monthly_rate + (1.0 if k == n else 0.0)
    return 1.0 + monthly_rate * n if k == n else 0.0


@numba.njit(cache=True)
def _value(flows, n, rate):
    """Present value of ``flows[:n]`` at the monthly ``rate`` and its derivative in the rate."""
    value, slope, discount = 0.0, 0.0, 1.0
    for k in range(n):
        discount /= 1.0 + rate
        value += flows[k] * discount
        slope -= (k + 1) * flows[k] * discount
    return value, slope / (1.0 + rate)


@numba.njit(cache=True)
def monthly_irr(annual_rate, term, method, upfront, monthly):
    """Monthly internal rate of return of each loan per yuan lent (see :func:`sim.all_in_cost.all_in_apr`).

    The borrower receives ``1 - upfront`` and pays the schedule plus ``monthly`` each month. The
    present value falls and is convex in the rate, so Newton's method from 0 (where the payments
    exceed what was received) rises to the root without overshooting; a loan that repays no more
    than it received (a negative rate) is bisected over -99 % .. 0 instead.
    """
    size = annual_rate.shape[0]
    out = np.zeros(size)
    flows = np.zeros(max(1, term.max()))
    for i in range(size):
        n, r = term[i], annual_rate[i] / 12.0
        growth = (1 + r) ** n
        annuity = r * growth / (growth - 1) if growth > 1 else 1.0 / n  # a rate below rounding: 0
        total = 0.0
        for k in range(1, n + 1):
            flows[k - 1] = _payment(method[i], r, n, k, annuity) + monthly[i]
            total += flows[k - 1]
        received = 1.0 - upfront[i]
        rate = 0.0
        if total >= received:  # a rate of 0 or more: Newton from 0
            for _ in range(NEWTON_STEPS):
                value, slope = _value(flows, n, rate)
                step = -(value - received) / slope if value > received else 0.0
                rate += step
                if step < CONVERGED:
                    break
        else:
            low, high = -0.99, 0.0
            for _ in range(BISECTION_STEPS):
                rate = (low + high) / 2
                if _value(flows, n, rate)[0] > received:  # discounting too little: higher
                    low = rate
                else:
                    high = rate
            rate = (low + high) / 2
        out[i] = rate
    return out
