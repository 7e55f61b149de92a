"""The closed-form limit case: Diamond and Dybvig (1983) for a fund pool.

A pool owes its investors ``liabilities`` (products at their promised value, r1 per unit paid in),
holds ``cash`` and long loans of balance ``book`` that sell today for ``liquidation_value`` of their
balance. If a share ``f`` of its investors (the impatient, and any patient ones who join them)
redeem today, it can pay them all only if ``f * liabilities <= cash + liquidation_value * book``:
it fails beyond :func:`failure_share`. With no cash and every unit invested (``book =
liabilities / r1``) this is Diamond and Dybvig's ``f > liquidation_value / r1``.

:func:`patient_run_share` gives the second threshold of their model: the share of early redemptions
beyond which a patient investor, who would get the loans' return ``R`` at maturity on what is left,
is better off running too (the run is then self-fulfilling).
"""

from __future__ import annotations


def failure_share(cash: float, book: float, liquidation_value: float, liabilities: float) -> float:
    """The share of liabilities redeemed today beyond which the pool cannot pay (fails)."""
    if liabilities <= 0:
        raise ValueError("liabilities must be positive")
    return (cash + liquidation_value * book) / liabilities


def classic_failure_share(r1: float, liquidation_value: float) -> float:
    """Diamond-Dybvig with every unit invested and no cash: fails beyond ``liquidation_value / r1``."""
    return liquidation_value / r1


def patient_run_share(r1: float, long_return: float, liquidation_value: float) -> float:
    """Share ``f`` of early redemptions beyond which patient investors run too.

    Per unit paid in, all invested: paying ``f * r1`` today sells ``f * r1 / L`` of the loans; the
    ``1 - f`` patient investors share ``R * (1 - f * r1 / L)`` at maturity, which falls below ``r1``
    beyond ``f = (R - r1) / (R * r1 / L - r1)``.
    """
    if long_return <= r1:
        return 0.0
    return (long_return - r1) / (long_return * r1 / liquidation_value - r1)
