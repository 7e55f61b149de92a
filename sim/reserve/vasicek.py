"""The one-factor Gaussian (Vasicek) loss distribution of the limit-case book, in closed form.

The limit case (``scenarios/vasicek_limit.toml``): ``N`` loans of one grade and one amount ``P``,
interest-only (a default loses the whole principal), the macro factor ``Z ~ N(0, 1)`` held for the
whole horizon, no cures, prepayments, recoveries or new loans. Given ``Z`` the monthly hazard is
Vasicek's ``h(Z) = Phi((Phi^-1(h) - sqrt(rho) Z) / sqrt(1 - rho))``, and a loan with ``n`` due dates
in the window defaults with probability ``1 - (1 - h(Z))^n``. The opening book's ages are uniform,
so given ``Z`` the number of defaults is binomial with the average of that probability over ``n``:

    P(L <= k P) = integral of BinomialCDF(k; N, p(z)) phi(z) dz.

With ``N`` large this tends to Vasicek's large-pool quantile ``q_a(L) = N P p(Phi^-1(1 - a))``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import binom, norm

DAYS_PER_MONTH = 30


def due_count_shares(term_months: int, last_due_day: int) -> dict[int, float]:
    """Share of opening-book loans with ``n`` due dates on days ``0 .. last_due_day``.

    The opening book's ages are uniform on ``1 .. 30 term - 1`` days; a loan aged ``a`` has paid
    ``(a - 1) // 30`` instalments and owes the others on days ``30 k - a``.
    """
    ages = np.arange(1, DAYS_PER_MONTH * term_months)
    counts: dict[int, int] = {}
    for age in ages:
        paid = (age - 1) // DAYS_PER_MONTH
        due = DAYS_PER_MONTH * np.arange(paid + 1, term_months + 1) - age
        n = int(((due >= 0) & (due <= last_due_day)).sum())
        counts[n] = counts.get(n, 0) + 1
    return {n: c / len(ages) for n, c in sorted(counts.items())}


def conditional_default_probability(z: np.ndarray, hazard: float, rho: float,
                                    shares: dict[int, float]) -> np.ndarray:
    """Probability that a loan of the book defaults in the window, given the factor ``z``."""
    h = ndtr((ndtri(hazard) - np.sqrt(rho) * z) / np.sqrt(1.0 - rho))
    return sum(share * (1.0 - (1.0 - h) ** n) for n, share in shares.items())


def loss_quantile(level: float, hazard: float, rho: float, loans: int, loan_cny: float,
                  shares: dict[int, float]) -> float:
    """The ``level`` quantile of the book's loss (CNY), finite pool: binomial given ``Z``."""
    z = np.linspace(-9.0, 9.0, 6001)
    density = norm.pdf(z)
    p = conditional_default_probability(z, hazard, rho, shares)
    counts = np.arange(loans + 1)
    lo, hi = 0, loans
    while lo < hi:  # smallest k with P(defaults <= k) >= level
        k = (lo + hi) // 2
        cdf = np.trapezoid(binom.cdf(counts[k], loans, p) * density, z)
        if cdf >= level:
            hi = k
        else:
            lo = k + 1
    return lo * loan_cny


def large_pool_quantile(level: float, hazard: float, rho: float, loans: int, loan_cny: float,
                        shares: dict[int, float]) -> float:
    """Vasicek's large-pool quantile: the conditional loss at the factor's ``1 - level`` quantile."""
    z = ndtri(1.0 - level)
    return float(loans * loan_cny * conditional_default_probability(np.array([z]), hazard, rho,
                                                                    shares)[0])
