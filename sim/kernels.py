"""Compiled kernels for the hot loops: servicing due loans, writing off defaults, funding listings.

Each kernel is deterministic: the random numbers it needs are drawn in bulk by the caller (one uniform
per due loan) and passed in, as in QuantEcon. Kernels update the per-loan, per-note and per-investor
arrays in place and return per-platform totals that the caller books in the ledger; the audit then
checks that the two agree to the fen.

Loan status codes are in :data:`ACTIVE`, :data:`REPAID`, :data:`PREPAID`, :data:`DEFAULTED`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.loans import DAYS_PER_MONTH, instalment

ACTIVE, REPAID, PREPAID, DEFAULTED = 1, 2, 3, 4

# columns of the per-platform totals returned by service_due_loans, shape (n_platforms, N_SERVICE)
S_PRINCIPAL, S_INTEREST, S_FEE, S_PENALTY, S_PREPAID_PRINCIPAL = 0, 1, 2, 3, 4
S_N_DUE, S_N_MISSED, S_N_CURED, S_N_PREPAID, S_N_MATURED = 5, 6, 7, 8, 9
S_HELD_PRINCIPAL, S_HELD_INTEREST, S_SERVICE_FEE = 10, 11, 12  # held: the guarantee's or pool's part
N_SERVICE = 13

# columns of the per-platform totals returned by write_off, shape (n_platforms, N_WRITE_OFF)
W_PRINCIPAL, W_RECOVERED, W_COLLECTION_FEE, W_COUNT = 0, 1, 2, 3  # principal: the notes' part
W_HELD_PRINCIPAL, W_HELD_RECOVERED = 4, 5
N_WRITE_OFF = 6

# columns of the totals returned by buy_out
B_PRINCIPAL, B_INTEREST, B_ASKED, B_COUNT = 0, 1, 2, 3
N_BUY_OUT = 4


@numba.njit(cache=True)
def _round_fen(x):
    return np.int64(math.floor(x + 0.5))


EXACT_FLOAT_LIMIT = 2**53  # below it, a float division floored is the exact integer quotient


@numba.njit(cache=True)
def _floor_div(x, d):
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
def _pay_notes(n0, n1, balance, principal, interest, fee_rate, platform,
               note_investor, note_balance, investor_cash, investor_income):
    """Split one loan's payment among its notes, pro rata to note balance, exactly to the fen.

    Cumulative rounding: with ``C_k`` the balance of notes ``n0 .. k``, note ``k`` gets
    ``floor(X C_k / B) - floor(X C_(k-1) / B)`` of an amount ``X``. The parts telescope to exactly
    ``X``, each is within one fen of the pro-rata share, and a principal part never exceeds the
    note's balance. One pass over the notes. When part of the loan is *held* (by a guarantee that
    paid out, or a fund pool), ``balance`` exceeds the notes' sum and the holder is the last, implicit
    note: it gets what the notes leave. Returns the management fee and the holder's principal and
    interest (fen); the holder pays no management fee.
    """
    cumulative = np.int64(0)
    paid_p = np.int64(0)
    paid_i = np.int64(0)
    fee_total = np.int64(0)
    for j in range(n0, n1):
        b = note_balance[j]
        cumulative += b
        upto_p = _floor_div(principal * cumulative, balance)
        upto_i = _floor_div(interest * cumulative, balance)
        p = upto_p - paid_p
        i = upto_i - paid_i
        paid_p = upto_p
        paid_i = upto_i
        fee = _round_fen(i * fee_rate)
        fee_total += fee
        inv = note_investor[j]
        investor_cash[inv, platform] += p + i - fee
        investor_income[inv] += i - fee
        note_balance[j] = b - p
    return fee_total, principal - paid_p, interest - paid_i


@numba.njit(cache=True)
def _service_rows(lo, hi, offsets, day, starts, ends, months_on_book, uniforms,
                      status, balance, principal, annual_rate, term, method, orig_day, n_paid,
                      delinquent, first_missed_day, grade, platform, hazard_mult, held,
                      note_start, note_end, note_investor, note_balance,
                      investor_cash, investor_income,
                      miss_hazard, prepay_hazard, cure_probability,
                      penalty_daily_rate, management_fee, service_fee_monthly,
                      totals, new_arrears, arrears_count, arrears_balance, day_offset):
    """Service the due loans at flat positions ``lo .. hi`` of the due ranges (see below)."""
    if lo >= hi:
        return 0
    n_new = 0
    r = 0
    while offsets[r + 1] <= lo:
        r += 1
    position = lo
    while position < hi:
        m = months_on_book[r]
        stop = min(hi, offsets[r + 1])
        for at in range(position, stop):
            row = starts[r] + at - offsets[r]
            u = uniforms[at]
            if status[row] != ACTIVE:
                continue
            plat = platform[row]
            g = grade[row]
            n_term = term[row]
            totals[plat, S_N_DUE] += 1
            pay_p = np.int64(0)
            pay_i = np.int64(0)
            if delinquent[row] == 0:
                p_k, i_k = instalment(principal[row], annual_rate[row], n_term, method[row], m)
                h = min(1.0, miss_hazard[plat, g] * hazard_mult[row])
                if u < h:
                    delinquent[row] = 1
                    if p_k + i_k > 0:
                        first_missed_day[row] = day
                        new_arrears[n_new] = row
                        n_new += 1
                        arrears_count[day + day_offset] += 1
                        arrears_balance[day + day_offset] += balance[row]
                        totals[plat, S_N_MISSED] += 1
                    continue
                pay_p = p_k
                pay_i = i_k
                n_paid[row] = m
                totals[plat, S_SERVICE_FEE] += _round_fen(principal[row] * service_fee_monthly[plat])
                if m < n_term and u < h + prepay_hazard[g]:
                    pay_p = balance[row]
                    if method[row] == 3:  # bullet: accrued simple interest to date
                        pay_i = _round_fen(principal[row] * annual_rate[row] * m / 12.0)
                    totals[plat, S_PREPAID_PRINCIPAL] += balance[row] - p_k
                    totals[plat, S_N_PREPAID] += 1
            else:
                last_due = min(m, n_term)
                if first_missed_day[row] < 0:
                    p_k, i_k = instalment(principal[row], annual_rate[row], n_term, method[row], m)
                    if p_k + i_k > 0:
                        first_missed_day[row] = day
                        new_arrears[n_new] = row
                        n_new += 1
                        arrears_count[day + day_offset] += 1
                        arrears_balance[day + day_offset] += balance[row]
                        totals[plat, S_N_MISSED] += 1
                        continue
                if u >= cure_probability[plat, g]:
                    continue
                penalty = 0.0
                for k in range(n_paid[row] + 1, last_due + 1):
                    p_k, i_k = instalment(principal[row], annual_rate[row], n_term, method[row], k)
                    pay_p += p_k
                    pay_i += i_k
                    days_over = day - (orig_day[row] + DAYS_PER_MONTH * k)
                    penalty += (p_k + i_k) * penalty_daily_rate[plat] * days_over
                penalty_fen = _round_fen(penalty)
                pay_i += penalty_fen
                totals[plat, S_PENALTY] += penalty_fen
                totals[plat, S_N_CURED] += 1
                totals[plat, S_SERVICE_FEE] += (last_due - n_paid[row]) * _round_fen(
                    principal[row] * service_fee_monthly[plat])
                delinquent[row] = 0
                if first_missed_day[row] >= 0:
                    arrears_count[first_missed_day[row] + day_offset] -= 1
                    arrears_balance[first_missed_day[row] + day_offset] -= balance[row]
                first_missed_day[row] = -1
                n_paid[row] = last_due
            if pay_p + pay_i > 0:
                fee, held_p, held_i = _pay_notes(
                    note_start[row], note_end[row], balance[row], pay_p, pay_i,
                    management_fee[plat], plat, note_investor, note_balance, investor_cash,
                    investor_income)
                totals[plat, S_PRINCIPAL] += pay_p
                totals[plat, S_INTEREST] += pay_i
                totals[plat, S_FEE] += fee
                totals[plat, S_HELD_PRINCIPAL] += held_p
                totals[plat, S_HELD_INTEREST] += held_i
                balance[row] -= pay_p
                held[row] -= held_p
            if balance[row] == 0:
                if n_paid[row] >= n_term:
                    status[row] = REPAID
                    totals[plat, S_N_MATURED] += 1
                else:
                    status[row] = PREPAID
        position = stop
        r += 1
    return n_new


@numba.njit(cache=True, parallel=True)
def service_due_loans(day, starts, ends, months_on_book, uniforms,
                      status, balance, principal, annual_rate, term, method, orig_day, n_paid,
                      delinquent, first_missed_day, grade, platform, hazard_mult, held,
                      note_start, note_end, note_investor, note_balance,
                      investor_cash, investor_income,
                      miss_hazard, prepay_hazard, cure_probability,
                      penalty_daily_rate, management_fee, service_fee_monthly,
                      totals, new_arrears, arrears_count, arrears_balance, day_offset, n_chunks):
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
    miss_hazard : float64 array (platform, grade)
        This month's probability that a current borrower misses the instalment due (becomes
        delinquent), given the macro factor and the stress events.
    prepay_hazard : float64 array by grade
        Probability that a current borrower repays in full early.
    cure_probability : float64 array by grade
        Probability that a delinquent borrower pays all arrears (with penalty interest) on a due date.
    penalty_daily_rate, management_fee : float64 arrays by platform
        Penalty interest (罚息) per day on overdue instalments; investor management fee as a share of
        interest.
    totals : int64 array (n_platforms, N_SERVICE)
        Incremented with the day's per-platform totals (fen and counts).
    new_arrears : int64 array
        Receives the rows that missed a payment for the first time today.
    arrears_count, arrears_balance : int64 arrays by day (index ``day + day_offset``)
        Loans in arrears and their balance (fen) by the day of their first missed payment: a new
        miss adds to today, a cure takes the loan out of its day.

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
        return _service_rows(0, total, offsets, day, starts, ends, months_on_book, uniforms, status,
                             balance, principal, annual_rate, term, method, orig_day, n_paid,
                             delinquent, first_missed_day, grade, platform, hazard_mult, held,
                             note_start, note_end, note_investor, note_balance, investor_cash,
                             investor_income, miss_hazard, prepay_hazard, cure_probability,
                             penalty_daily_rate, management_fee, service_fee_monthly, totals,
                             new_arrears, arrears_count, arrears_balance, day_offset)
    cash = np.zeros((n_chunks,) + investor_cash.shape, dtype=np.int64)
    income = np.zeros((n_chunks, investor_income.shape[0]), dtype=np.int64)
    sums = np.zeros((n_chunks,) + totals.shape, dtype=np.int64)
    counts = np.zeros((n_chunks, arrears_count.shape[0]), dtype=np.int64)
    balances = np.zeros((n_chunks, arrears_balance.shape[0]), dtype=np.int64)
    found = np.zeros(n_chunks, dtype=np.int64)
    for c in numba.prange(n_chunks):
        lo = c * total // n_chunks
        hi = (c + 1) * total // n_chunks
        found[c] = _service_rows(lo, hi, offsets, day, starts, ends, months_on_book, uniforms,
                                 status, balance, principal, annual_rate, term, method, orig_day,
                                 n_paid, delinquent, first_missed_day, grade, platform,
                                 hazard_mult, held, note_start, note_end, note_investor,
                                 note_balance,
                                 cash[c], income[c], miss_hazard, prepay_hazard,
                                 cure_probability, penalty_daily_rate, management_fee,
                                 service_fee_monthly, sums[c],
                                 new_arrears[lo:hi], counts[c], balances[c], day_offset)
    n_new = 0
    for c in range(n_chunks):
        investor_cash += cash[c]
        investor_income += income[c]
        totals += sums[c]
        arrears_count += counts[c]
        arrears_balance += balances[c]
        lo = c * total // n_chunks
        for k in range(found[c]):
            new_arrears[n_new + k] = new_arrears[lo + k]
        n_new += found[c]
    return n_new


@numba.njit(cache=True)
def write_off(rows, day, status, balance, held, grade, platform, note_start, note_end,
              note_investor, note_balance, investor_cash, investor_income, investor_loss,
              recovery_rate, collection_fee, default_day, totals,
              first_missed_day, arrears_count, arrears_balance, day_offset):
    """Write off loans past the default threshold (坏账核销) and pay the recovery.

    The recovery is the defaulted balance times the recovery rate of the loan's platform and grade,
    rounded to the fen; the platform keeps its collection fee (催收费) and the rest is split among the
    note holders and the loan's holder (a guarantee that paid out, or a fund pool) pro rata, exactly
    to the fen (cumulative rounding, as in ``_pay_notes``). Each note's unrecovered balance is the
    investor's loss.
    """
    for r in range(rows.shape[0]):
        row = rows[r]
        if status[row] != ACTIVE:
            continue
        plat = platform[row]
        b = balance[row]
        recovered = _round_fen(b * recovery_rate[plat, grade[row]])
        fee = _round_fen(recovered * collection_fee[plat])
        to_holders = recovered - fee
        cumulative = np.int64(0)
        paid = np.int64(0)
        for j in range(note_start[row], note_end[row]):  # cumulative rounding, as in _pay_notes
            nb = note_balance[j]
            cumulative += nb
            upto = _floor_div(to_holders * cumulative, b)
            part = upto - paid
            paid = upto
            inv = note_investor[j]
            investor_cash[inv, plat] += part
            investor_income[inv] += part - nb
            investor_loss[inv] += nb - part
            note_balance[j] = 0
        totals[plat, W_PRINCIPAL] += b - held[row]
        totals[plat, W_RECOVERED] += paid
        totals[plat, W_HELD_PRINCIPAL] += held[row]
        totals[plat, W_HELD_RECOVERED] += to_holders - paid
        arrears_count[first_missed_day[row] + day_offset] -= 1
        arrears_balance[first_missed_day[row] + day_offset] -= b
        totals[plat, W_COLLECTION_FEE] += fee
        totals[plat, W_COUNT] += 1
        balance[row] = 0
        held[row] = 0
        status[row] = DEFAULTED
        default_day[row] = day


@numba.njit(cache=True)
def buy_out(rows, day, capacity, covers_interest, status, balance, held, principal, annual_rate,
            term, method, orig_day, n_paid, platform, note_start, note_end, note_investor,
            note_balance, investor_cash, investor_income, totals):
    """A guarantee pays investors for overdue loans (代偿) and takes over their claims.

    For each loan in ``rows`` (in order) still active and not yet held, the note holders are owed
    their outstanding principal and, with ``covers_interest``, their share of the interest of the
    overdue instalments. The guarantee pays while ``capacity`` (fen) lasts: the last loan it can
    reach may be paid in part (principal first), and after that nothing. Each note's principal part
    reduces the note and becomes the holder's (``held``); interest parts are investors' income.

    ``totals`` (``N_BUY_OUT``) is incremented with the principal and interest paid, the amount asked
    (paid or not) and the number of loans reached. Returns the capacity left.
    """
    for r in range(rows.shape[0]):
        row = rows[r]
        if status[row] != ACTIVE:
            continue
        notes_principal = balance[row] - held[row]
        if notes_principal <= 0:
            continue
        interest = np.int64(0)
        if covers_interest:
            due = min((day - orig_day[row]) // DAYS_PER_MONTH, term[row])
            for k in range(n_paid[row] + 1, due + 1):
                p_k, i_k = instalment(principal[row], annual_rate[row], term[row], method[row], k)
                interest += i_k
            interest = _floor_div(interest * notes_principal, balance[row])
        asked = notes_principal + interest
        totals[B_ASKED] += asked
        pay = min(asked, capacity)
        if pay <= 0:
            continue
        pay_p = min(pay, notes_principal)
        pay_i = pay - pay_p
        capacity -= pay
        # the notes' own balances are the whole of what is split: the split is _pay_notes' (no fee)
        _pay_notes(note_start[row], note_end[row], notes_principal, pay_p, pay_i, 0.0,
                   platform[row], note_investor, note_balance, investor_cash, investor_income)
        held[row] += pay_p
        totals[B_PRINCIPAL] += pay_p
        totals[B_INTEREST] += pay_i
        totals[B_COUNT] += 1
    return capacity


@numba.njit(cache=True)
def fund_listings(listings, need, grade, annual_rate, platform, investor_order, pointer,
                  investor_cash, bid_size, max_grade, min_rate, min_bid, max_scan,
                  out_listing, out_investor, out_amount):
    """Auto-invest (自动投标): investors bid on open listings in a rotating random order.

    Each listing is offered to investors in turn from ``pointer`` on; an investor bids if the grade is
    within their appetite and the rate meets their target, bidding ``min(bid_size, need, cash)``. A bid
    must be at least ``min_bid`` fen unless it completes the listing. At most ``max_scan`` investors
    are asked per listing per day. Bid cash leaves ``investor_cash`` (it is then committed).

    Returns
    -------
    (int, int)
        Number of bids written to the ``out_*`` arrays, and the pointer for the next call.
    """
    n_inv = investor_order.shape[0]
    n_bids = 0
    scan_limit = min(max_scan, n_inv)
    for li in range(listings.shape[0]):
        lrow = listings[li]
        remaining = need[li]
        g = grade[lrow]
        rate = annual_rate[lrow]
        plat = platform[lrow]
        scanned = 0
        while remaining > 0 and scanned < scan_limit:
            inv = investor_order[pointer]
            pointer += 1
            if pointer == n_inv:
                pointer = 0
            scanned += 1
            if g > max_grade[inv] or rate < min_rate[inv]:
                continue
            cash = investor_cash[inv, plat]
            bid = min(bid_size[inv], remaining, cash)
            if bid <= 0 or (bid < min_bid and bid < remaining):
                continue
            investor_cash[inv, plat] = cash - bid
            remaining -= bid
            out_listing[n_bids] = li
            out_investor[n_bids] = inv
            out_amount[n_bids] = bid
            n_bids += 1
        need[li] = remaining
    return n_bids, pointer


@numba.njit(cache=True)
def book_state(status, platform, grade, balance, held, covered, first_missed_day, n_platforms,
               n_grades):
    """One pass over the loan book for the platforms' month-start state.

    Returns
    -------
    (by_grade, in_arrears, guaranteed)
        Outstanding principal by platform and grade (fen), active loans with an unpaid instalment
        by platform, and the investors' principal of covered loans by platform (fen).
    """
    by_grade = np.zeros((n_platforms, n_grades), dtype=np.int64)
    in_arrears = np.zeros(n_platforms, dtype=np.int64)
    guaranteed = np.zeros(n_platforms, dtype=np.int64)
    for row in range(status.shape[0]):
        if status[row] != ACTIVE:
            continue
        p = platform[row]
        by_grade[p, grade[row]] += balance[row]
        if first_missed_day[row] >= 0:
            in_arrears[p] += 1
        if covered[row]:
            guaranteed[p] += balance[row] - held[row]
    return by_grade, in_arrears, guaranteed
