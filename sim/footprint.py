"""A scenario's footprint before it runs: loans, notes, investors, memory and time, and a refusal past them.

An opening book of 50 million loans, or applications growing 100 times a year for ten years, is a
valid scenario on paper and a machine brought to its knees in practice. :func:`estimate` gives the
sizes an upper-bound reckoning expects (every application funded; notes from the mean loan and bid
sizes), :func:`check` refuses a scenario whose memory would pass what this machine has or whose
run would take longer than :data:`MAX_HOURS`, naming the keys that drive the size.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

BYTES_PER_LOAN = 100        # the loan book's columns (sim/book.py), one row
BYTES_PER_NOTE = 8          # investor (int32) and balance (int32)
BYTES_PER_APPLICATION = 120  # the listing table's columns and the day's applicant draws
BYTES_PER_INVESTOR_PLATFORM = 40  # cash, products, maturity ... per investor and platform
HEADROOM = 3.0              # arrays grow by doubling, and a day's work makes temporary copies
MEMORY_SHARE = 0.8          # of the machine's memory a run may plan to use
NOTE_MONTHS_PER_SECOND = 2e7  # the servicing kernel on one core (docs/performance.md)
SECONDS_PER_DAY_OVERHEAD = 0.005  # a day's fixed cost in Python
MAX_HOURS = 48.0            # past this a run is refused as absurdly long
NOTES_CALIBRATION = 3.0     # notes per loan / (mean loan / median bid): 229 / 75 on the baseline


@dataclass(frozen=True)
class Footprint:
    """Sizes a scenario is expected to reach (upper bounds)."""

    applications: float
    loans: float
    notes: float
    investors: float
    memory_bytes: float
    hours: float


def estimate(scenario) -> Footprint:
    """The sizes ``scenario`` would reach over its horizon (every application funded)."""
    days = scenario.run.horizon_days
    b, inv = scenario.borrowers, scenario.investors
    if isinstance(b.growth_per_year, list):  # growth by year: add the days up
        growth = sum(b.demand_factor(day) for day in range(days))
    else:
        growth = _growth_integral(b.growth_per_year, days)
    applications = b.applications_per_day * growth
    opening = scenario.initial_book.loans
    loans = applications + opening
    loan_mean = min(max(b.amount_median_cny * math.exp(b.amount_sigma ** 2 / 2), b.amount_min_cny),
                    b.amount_max_cny)
    bid_median = max(inv.min_bid_cny, inv.bid_fraction * inv.initial_cash_median_cny)
    notes_per_loan = max(1.0, min(NOTES_CALIBRATION * loan_mean / bid_median,
                                  inv.max_scan_per_listing * 60))
    notes = applications * notes_per_loan + opening * scenario.initial_book.notes_per_loan
    investors = inv.count * (1 + days / 360)  # marketing brings more; a generous allowance
    memory = HEADROOM * (loans * BYTES_PER_LOAN + notes * BYTES_PER_NOTE
                         + applications * BYTES_PER_APPLICATION
                         + investors * len(scenario.platforms) * BYTES_PER_INVESTOR_PLATFORM)
    term = sum(t * s for t, s in zip(b.terms_months, b.term_share, strict=True))
    note_months = notes * min(term, days / 30)
    hours = (note_months / NOTE_MONTHS_PER_SECOND + days * SECONDS_PER_DAY_OVERHEAD) / 3600
    return Footprint(applications, loans, notes, investors, memory, hours)


def check(scenario, label: str) -> None:
    """Refuse a scenario too big for this machine or too long to run.

    Raises
    ------
    ValueError
        Naming the sizes, the limit and the keys that drive them.
    """
    size = estimate(scenario)
    limit = MEMORY_SHARE * machine_memory_bytes()
    drivers = ("initial_book.loans, borrowers.applications_per_day, borrowers.growth_per_year, "
               "run.horizon_days, investors.count")
    if size.memory_bytes > limit:
        raise ValueError(
            f"{label}: this scenario would hold about {size.loans:,.0f} loans with "
            f"{size.notes:,.0f} notes ({_gib(size.memory_bytes)} of memory), more than this "
            f"machine can give a run ({_gib(limit)}). Make it smaller: {drivers}")
    if size.hours > MAX_HOURS:
        raise ValueError(
            f"{label}: this scenario would take about {size.hours:,.0f} hours to run "
            f"({size.loans:,.0f} loans with {size.notes:,.0f} notes over "
            f"{scenario.run.horizon_days} days; at most {MAX_HOURS:g} hours are allowed). Make it "
            f"smaller: {drivers}")


def machine_memory_bytes() -> float:
    """The physical memory of the machine, bytes (64 GiB if it cannot be read)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 64.0 * 2**30


def _growth_integral(growth_per_year: float, days: int) -> float:
    """Days-weighted demand: the integral of (1 + g)^(t / 360) over t in [0, days]."""
    if growth_per_year <= -1.0:
        return 0.0
    rate = math.log1p(growth_per_year) / 360
    if abs(rate) < 1e-12:
        return float(days)
    exponent = rate * days
    if exponent > 700:
        return math.inf
    return math.expm1(exponent) / rate


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if math.isfinite(n) else "unbounded memory"
