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
BYTES_PER_INDUSTRY_INVESTOR = 1500  # peak memory an industry investor: 2.2 GB at 1.5 x 10^6, 5.1 GB at
#                                     5 x 10^6 (benchmarks/industry_run.py, docs/performance.md)
SECONDS_PER_INDUSTRY_INVESTOR_DAY = 6e-8  # 10^6 investors x 1,080 days in about a minute


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
    investors = max(inv.count * (1 + days / 360),  # churn and a little marketing: an allowance
                    inv.count + sum(marketing_investors(p.marketing, inv.count, days)
                                    for p in scenario.platforms))
    memory = HEADROOM * (loans * BYTES_PER_LOAN + notes * BYTES_PER_NOTE
                         + applications * BYTES_PER_APPLICATION
                         + investors * len(scenario.platforms) * BYTES_PER_INVESTOR_PLATFORM)
    term = sum(t * s for t, s in zip(b.terms_months, b.term_share, strict=True))
    note_months = notes * min(term, days / 30)
    hours = (note_months / NOTE_MONTHS_PER_SECOND + days * SECONDS_PER_DAY_OVERHEAD) / 3600
    if scenario.industry is not None:  # the pooled platforms' investors, positions and loans
        people = scenario.industry.investors
        memory += people * BYTES_PER_INDUSTRY_INVESTOR
        hours += people * days * SECONDS_PER_INDUSTRY_INVESTOR_DAY / 3600
        investors += people
    return Footprint(applications, loans, notes, investors, memory, hours)


def marketing_investors(marketing: dict, investors: int, days: int) -> float:
    """Investors a platform's marketing (``[platforms.marketing]``) could bring over ``days``.

    An upper bound: every channel spends its whole budget every month and word of mouth at full
    reputation compounds on everyone it brought. 0 for a policy without channels.
    """
    if not isinstance(marketing, dict) or marketing.get("policy") != "channels":
        return 0.0
    from sim.policies.marketing import ChannelMarketing  # the policy's own arithmetic

    try:
        params = ChannelMarketing.Params.model_validate(
            {k: v for k, v in marketing.items() if k != "policy"})
    except ValueError:
        return 0.0  # refused with its own message when the policies are checked
    paid = sum(ChannelMarketing.channel_outcome(c, c.budget_monthly_cny * 100.0).expected_users
               for c in params.channels if c.side == "investors")
    months = days / 30
    growth = 1.0 + params.word_of_mouth
    if months * math.log(growth) > 700:
        return math.inf
    if params.word_of_mouth > 0:  # N(m+1) = N(m) (1 + w) + paid, summed in closed form
        grown = investors * growth ** months + paid * (growth ** months - 1) / params.word_of_mouth
    else:
        grown = investors + paid * months
    return grown - investors


def check_study(scenario, runs: int, workers: int, what: str) -> None:
    """Refuse a study of ``runs`` whole runs that would take longer than :data:`MAX_HOURS`.

    ``what`` names the option or the design that asks for them; ``workers`` run side by side.

    Raises
    ------
    ValueError
        Naming what asked, the estimate and the limit.
    """
    each = estimate(scenario).hours
    hours = each * runs / max(workers, 1)
    if hours > MAX_HOURS:
        raise ValueError(
            f"{what}: {runs:,} runs would take about {_hours(hours)} on {max(workers, 1)} "
            f"worker(s) (each run about {_hours(each)}; at most {MAX_HOURS:g} hours are "
            f"allowed). Ask for fewer runs, or more workers")


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
               "run.horizon_days, investors.count, platforms.marketing (channels' budgets, "
               "word_of_mouth)" + (", industry.investors" if scenario.industry else ""))
    if size.memory_bytes > limit:
        raise ValueError(
            f"{label}: this scenario would hold about {size.loans:,.0f} loans with "
            f"{size.notes:,.0f} notes and {_count(size.investors)} investors "
            f"({_gib(size.memory_bytes)} of memory), more than this "
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


def _count(n: float) -> str:
    return f"{n:,.0f}" if n < 1e15 else "unboundedly many"


def _hours(hours: float) -> str:
    if not math.isfinite(hours):
        return "forever"
    if hours < 1 / 60:
        return f"{hours * 3600:.{1 if hours * 3600 < 10 else 0}f} seconds"
    return f"{hours * 60:,.0f} minutes" if hours < 1 else f"{hours:,.0f} hours"


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if math.isfinite(n) else "unbounded memory"
