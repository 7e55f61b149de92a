"""The servicing kernel (还款): every loan due today pays, prepays, misses or cures, in parallel."""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.kernels.views import ACTIVE, NEVER_PAYS, PREPAID, REPAID, ArrearsByDay, InvestorAccounts
from sim.kernels.views import ServiceTotals as S
from sim.loans import DAYS_PER_MONTH, instalment


@numba.njit(cache=True)
def round_fen(x):
    """``x`` (fen, float) rounded half up to a whole fen."""
    return np.int64(math.floor(x + 0.5))


EXACT_FLOAT_LIMIT = 2**53  # below it, a float division floored is the exact integer quotient


@numba.njit(cache=True)
def floor_div(x, d):
    """``x // d`` for non-negative int64 ``x`` and ``d > 0``, exactly.

    Below 2**53 both operands are exact floats, the division is correctly rounded, and a quotient
    ``t = x / d`` that is not an integer is at least ``1 / d`` from the next one, more than its
    rounding error ``t * 2**-53`` because ``x < 2**53``: so ``floor`` of the float quotient is exact
    (and about twice as fast as integer division). Larger ``x`` (loans near the amount cap) take the
    integer division.
    """
    if x < EXACT_FLOAT_LIMIT:
        return np.int64(np.float64(x) / np.float64(d))
    return x // d


@numba.njit(cache=True)
def pay_notes(n0, n1, balance, principal, interest, fee_rate, platform, notes, investors):
    """Split one loan's payment among its notes ``n0 .. n1``, pro rata to note balance, to the fen.

    Cumulative rounding: with ``C_k`` the balance of notes ``n0 .. k``, note ``k`` gets
    ``floor(X C_k / B) - floor(X C_(k-1) / B)`` of an amount ``X``. The parts telescope to exactly
    ``X``, each is within one fen of the pro-rata share, and a principal part never exceeds the
    note's balance. One pass over the notes. When part of the loan is *held* (by a guarantee that
    paid out, or a fund pool), ``balance`` exceeds the notes' sum and the holder is the last, implicit
    note: it gets what the notes leave. Returns the management fee and the holder's principal and
    interest (fen); the holder pays no management fee.
    """
    note_balance, note_investor = notes.balance_fen, notes.investor  # locals: the loop reads
    cash, income = investors.cash_fen, investors.net_income_fen      # no struct (measured faster)
    cumulative = np.int64(0)
    paid_p = np.int64(0)
    paid_i = np.int64(0)
    fee_total = np.int64(0)
    for j in range(n0, n1):
        b = note_balance[j]
        cumulative += b
        upto_p = floor_div(principal * cumulative, balance)
        upto_i = floor_div(interest * cumulative, balance)
        p = upto_p - paid_p
        i = upto_i - paid_i
        paid_p = upto_p
        paid_i = upto_i
        fee = round_fen(i * fee_rate)
        fee_total += fee
        inv = note_investor[j]
        cash[inv, platform] += p + i - fee
        income[inv] += i - fee
        note_balance[j] = b - p
    return fee_total, principal - paid_p, interest - paid_i


@numba.njit(cache=True)
def _first_miss(row, day, loans, totals, new_arrears, n_new, arrears, counted):
    """Record a loan's first missed instalment today; returns the new count of ``new_arrears``.

    ``counted``: the loan is a detailed platform's, whose arrears the buckets count (a pooled
    platform's are the industry's, :mod:`sim.industry.tracker`).
    """
    loans.first_missed_day[row] = day
    new_arrears[n_new] = row
    if counted:
        arrears.count[day + arrears.offset] += 1
        arrears.balance_fen[day + arrears.offset] += loans.balance_fen[row]
    totals[loans.platform[row], S.N_MISSED] += 1
    return n_new + 1


@numba.njit(cache=True)
def _cure(row, day, m, loans, terms, totals, arrears):
    """A delinquent borrower pays every overdue instalment with penalty interest (罚息).

    ``m`` is the instalment due today. Returns the principal and interest paid (fen), the penalty
    included in the interest.
    """
    plat = loans.platform[row]
    n_term = loans.term[row]
    last_due = min(m, n_term)
    pay_p = np.int64(0)
    pay_i = np.int64(0)
    penalty = 0.0
    for k in range(loans.n_paid[row] + 1, last_due + 1):
        p_k, i_k = instalment(loans.principal_fen[row], loans.annual_rate[row], n_term,
                              loans.method[row], k)
        pay_p += p_k
        pay_i += i_k
        days_over = day - (loans.orig_day[row] + DAYS_PER_MONTH * k)
        penalty += (p_k + i_k) * terms.penalty_daily_rate[plat] * days_over
    penalty_fen = round_fen(penalty)
    pay_i += penalty_fen
    totals[plat, S.PENALTY] += penalty_fen
    totals[plat, S.N_CURED] += 1
    totals[plat, S.SERVICE_FEE] += (last_due - loans.n_paid[row]) * round_fen(
        loans.principal_fen[row] * terms.service_fee_monthly[plat])
    loans.delinquent[row] = 0
    if loans.first_missed_day[row] >= 0 and not terms.pooled[plat]:
        arrears.count[loans.first_missed_day[row] + arrears.offset] -= 1
        arrears.balance_fen[loans.first_missed_day[row] + arrears.offset] -= loans.balance_fen[row]
    loans.first_missed_day[row] = -1
    loans.n_paid[row] = last_due
    return pay_p, pay_i


@numba.njit(cache=True, inline="always")
def _prepay(terms, g, seasoned, prepay_shape, age, c):
    """The monthly prepayment hazard of a grade-``g`` loan of term row ``c`` at ``age``."""
    if seasoned:
        return terms.prepay_hazard[g] * prepay_shape[age, c, g]
    return terms.prepay_hazard[g]


@numba.njit(cache=True, inline="always")
def _at_risk_stretch(base, m, seasoned, default_shape, c, g, still_curing):
    """Factor on a current loan's miss and prepay hazards for the due dates lost to cured misses.

    A miss that will cure spends due dates curing, on which the loan can neither miss anew nor
    prepay, while the fitted hazards count them at risk. Of the misses on the ``K`` due dates
    before this one (instalment ``m``; ``base`` the loan's miss hazard before its age factor),
    those ``j`` due dates back are still curing with probability ``still_curing[j - 1]``; their
    expected sum ``lost`` is the share of the risk set the current loans lack, and dividing by
    ``1 - lost`` gives back, per month at risk, the hazards as fitted
    (:class:`sim.market.risk_tables.RiskTables`).
    """
    lost = 0.0
    for j in range(1, min(still_curing.shape[0], m - 1) + 1):
        x = base
        if seasoned:
            x *= default_shape[min(m - 1 - j, default_shape.shape[0] - 1), c, g]
        lost += min(1.0, x) * still_curing[j - 1]
    if lost >= 0.5:  # hazards this high miss nearly every month anyway
        return 2.0
    return 1.0 / (1.0 - lost)


@numba.njit(cache=True)
def _service_rows(lo, hi, offsets, day, starts, months_on_book, uniforms, loans, notes,
                  investors, terms, totals, new_arrears, arrears):
    """Service the due loans at flat positions ``lo .. hi`` of the due ranges (see below)."""
    if lo >= hi:
        return 0
    # the loop reads the loan columns as locals, not through the named tuple (measured faster)
    status = loans.status
    platform = loans.platform
    grade = loans.grade
    term = loans.term
    method = loans.method
    annual_rate = loans.annual_rate
    principal_fen = loans.principal_fen
    balance_fen = loans.balance_fen
    held_fen = loans.held_fen
    holder = loans.holder
    n_paid = loans.n_paid
    delinquent = loans.delinquent
    first_missed_day = loans.first_missed_day
    hazard_mult = loans.hazard_mult
    term_class, default_shape, prepay_shape = terms.term_class, terms.default_shape, terms.prepay_shape
    still_curing = terms.still_curing
    pooled = terms.pooled  # a pooled platform's loans count no arrears here (its payments are
    # its holder's: sim.market.servicing.pooled_payments gives them to its investors)
    seasoned = default_shape.shape[1] > 1 or default_shape.shape[0] > 1
    note_start = loans.note_start
    note_end = loans.note_end
    paid_fen = loans.paid_fen
    n_new = 0
    r = 0
    while offsets[r + 1] <= lo:
        r += 1
    position = lo
    while position < hi:
        m = months_on_book[r]
        age = min(max(0, m - 1), default_shape.shape[0] - 1)  # months on book before it (seasoning)
        stop = min(hi, offsets[r + 1])
        for at in range(position, stop):
            row = starts[r] + at - offsets[r]
            u = uniforms[at]
            if status[row] != ACTIVE:
                continue
            plat = platform[row]
            g = grade[row]
            n_term = term[row]
            totals[plat, S.N_DUE] += 1
            pay_p = np.int64(0)
            pay_i = np.int64(0)
            if delinquent[row] == 0:
                p_k, i_k = instalment(principal_fen[row], annual_rate[row], n_term,
                                      method[row], m)
                base = terms.miss_hazard[plat, g] * hazard_mult[row]
                h = base
                if seasoned:  # factors by term and months on book (grades.seasoning)
                    h *= default_shape[age, term_class[n_term], g]
                stretch = _at_risk_stretch(base, m, seasoned, default_shape, term_class[n_term], g,
                                           still_curing[plat, g])
                h = min(1.0, min(1.0, h) * stretch)
                if u < h:
                    delinquent[row] = 1
                    if p_k + i_k > 0:
                        n_new = _first_miss(row, day, loans, totals, new_arrears, n_new, arrears,
                                            not pooled[plat])
                    continue
                pay_p = p_k
                pay_i = i_k
                n_paid[row] = m
                totals[plat, S.SERVICE_FEE] += round_fen(principal_fen[row]
                                                         * terms.service_fee_monthly[plat])
                if m < n_term and u < h + stretch * _prepay(terms, g, seasoned, prepay_shape, age,
                                                             term_class[n_term]):
                    pay_p = balance_fen[row]
                    if method[row] == 3:  # bullet: accrued simple interest to date
                        pay_i = round_fen(principal_fen[row] * annual_rate[row] * m / 12.0)
                    totals[plat, S.PREPAID_PRINCIPAL] += balance_fen[row] - p_k
                    totals[plat, S.N_PREPAID] += 1
            else:
                if first_missed_day[row] < 0:
                    p_k, i_k = instalment(principal_fen[row], annual_rate[row], n_term,
                                          method[row], m)
                    if p_k + i_k > 0:
                        n_new = _first_miss(row, day, loans, totals, new_arrears, n_new, arrears,
                                            not pooled[plat])
                        continue
                if u >= terms.cure_probability[plat, g] or hazard_mult[row] >= NEVER_PAYS:
                    continue
                pay_p, pay_i = _cure(row, day, m, loans, terms, totals, arrears)
            if pay_p + pay_i > 0:
                fee, held_p, held_i = pay_notes(
                    note_start[row], note_end[row], balance_fen[row], pay_p, pay_i,
                    terms.management_fee[plat], plat, notes, investors)

                totals[plat, S.PRINCIPAL] += pay_p
                totals[plat, S.INTEREST] += pay_i
                totals[plat, S.FEE] += fee
                totals[plat, S.HELD_PRINCIPAL + 2 * holder[row]] += held_p
                totals[plat, S.HELD_INTEREST + 2 * holder[row]] += held_i
                balance_fen[row] -= pay_p
                held_fen[row] -= held_p
                paid_fen[row] += pay_p + pay_i
            if balance_fen[row] == 0:
                if n_paid[row] >= n_term:
                    status[row] = REPAID
                    totals[plat, S.N_MATURED] += 1
                else:
                    status[row] = PREPAID
        position = stop
        r += 1
    return n_new


@numba.njit(cache=True, parallel=True)
def service_due_loans(day, starts, ends, months_on_book, uniforms, loans, notes, investors, terms,
                      totals, new_arrears, arrears, n_chunks):
    """Service every loan with a due date today (还款日): pay, prepay, miss or cure.

    Parameters
    ----------
    day : int
        Today, days since the start of the run.
    starts, ends, months_on_book : int64 arrays
        Row ranges of the loan book that fall due today and the instalment number due in each
        (loans originated ``30 * m`` days ago owe instalment ``m``).
    uniforms : float64 array
        One U(0, 1) draw per row of the ranges, in order.
    loans, notes, investors : LoanColumns, NoteColumns, InvestorAccounts
        Updated in place.
    terms : ServicingTerms
        This month's miss hazard (with the macro factor and stress), prepay hazard, cure
        probability, penalty interest a day (罚息) and the fee rates.
    totals : int64 array (n_platforms, ServiceTotals.N)
        Incremented with the day's per-platform totals (fen and counts).
    new_arrears : int64 array
        Receives the rows that missed a payment for the first time today.
    arrears : ArrearsByDay
        A new miss adds to today, a cure takes the loan out of its day.
    n_chunks : int
        The due loans are cut into this many chunks of consecutive rows, serviced in parallel
        threads, each with its own investor, total and arrears accumulators that are added up at
        the end. Chunks share no loan or note, and sums of integers do not depend on their order,
        so the result is the same, bit for bit, for any number of chunks or threads.

    Returns
    -------
    int
        Number of rows written to ``new_arrears`` (in row order, as one thread would).
    """
    n_ranges = starts.shape[0]
    offsets = np.zeros(n_ranges + 1, dtype=np.int64)
    for r in range(n_ranges):
        offsets[r + 1] = offsets[r] + ends[r] - starts[r]
    total = offsets[n_ranges]
    if n_chunks <= 1:
        return _service_rows(0, total, offsets, day, starts, months_on_book, uniforms, loans,
                             notes, investors, terms, totals, new_arrears, arrears)
    cash = np.zeros((n_chunks,) + investors.cash_fen.shape, dtype=np.int64)
    income = np.zeros((n_chunks, investors.net_income_fen.shape[0]), dtype=np.int64)
    sums = np.zeros((n_chunks,) + totals.shape, dtype=np.int64)
    counts = np.zeros((n_chunks, arrears.count.shape[0]), dtype=np.int64)
    balances = np.zeros((n_chunks, arrears.balance_fen.shape[0]), dtype=np.int64)
    found = np.zeros(n_chunks, dtype=np.int64)
    for c in numba.prange(n_chunks):
        lo = c * total // n_chunks
        hi = (c + 1) * total // n_chunks
        mine = InvestorAccounts(cash[c], income[c], investors.principal_lost_fen)
        found[c] = _service_rows(lo, hi, offsets, day, starts, months_on_book, uniforms, loans,
                                 notes, mine, terms, sums[c], new_arrears[lo:hi],
                                 ArrearsByDay(counts[c], balances[c], arrears.offset))
    n_new = 0
    for c in range(n_chunks):
        investors.cash_fen[:] += cash[c]
        investors.net_income_fen[:] += income[c]
        totals += sums[c]
        arrears.count[:] += counts[c]
        arrears.balance_fen[:] += balances[c]
        lo = c * total // n_chunks
        for k in range(found[c]):
            new_arrears[n_new + k] = new_arrears[lo + k]
        n_new += found[c]
    return n_new
