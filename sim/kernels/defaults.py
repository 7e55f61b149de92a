"""Kernels of loans gone bad: write-offs (坏账核销) and guarantee buy-outs (代偿)."""

from __future__ import annotations

import numba
import numpy as np

from sim.kernels.servicing import floor_div, pay_notes, round_fen
from sim.kernels.views import ACTIVE, DEFAULTED, POOLED_INVESTORS
from sim.kernels.views import BuyOutTotals as B
from sim.kernels.views import WriteOffTotals as W
from sim.loans import DAYS_PER_MONTH, instalment


@numba.njit(cache=True)
def write_off(rows, day, loans, notes, investors, recovery_rate, collection_fee, pooled, totals,
              arrears, later_investor, later_platform, later_amount):
    """Write off loans past the default threshold (坏账核销) and pay the recovery.

    The recovery is the defaulted balance times the recovery rate of the loan's platform and grade,
    rounded to the fen; the platform keeps its collection fee (催收费) and the rest is split among the
    note holders and the loan's holder (the protection layer that paid out, or a fund pool: its
    columns by ``loans.holder``, see ``by_holder``) pro rata, exactly
    to the fen (cumulative rounding, as in ``pay_notes``). Each note's unrecovered balance is the
    investor's loss. ``totals`` is (n_platforms, WriteOffTotals.N).

    A recovery that comes later (``grades.recovery_lag_months``) is not paid here: each note's part
    is written to ``later_investor``, ``later_platform`` and ``later_amount`` (as long as the notes
    of ``rows``; empty when recoveries are paid at once), for
    :class:`sim.market.recoveries.PendingRecoveries`. The loss is counted now, net of the recovery
    to come. A loan of a ``pooled`` platform has no notes and is held whole by its platform's
    investors (holder 0): its write-off and recovery are the holder's here, and its arrears are not
    counted in ``arrears`` (the buckets are the detailed platforms'). Returns the number of parts
    written.
    """
    later = later_investor.shape[0] > 0
    n_later = 0
    for r in range(rows.shape[0]):
        row = rows[r]
        if loans.status[row] != ACTIVE:
            continue
        plat = loans.platform[row]
        b = loans.balance_fen[row]
        recovered = round_fen(b * recovery_rate[plat, loans.grade[row]])
        fee = round_fen(recovered * collection_fee[plat])
        to_holders = recovered - fee
        cumulative = np.int64(0)
        paid = np.int64(0)
        for j in range(loans.note_start[row], loans.note_end[row]):
            nb = notes.balance_fen[j]
            cumulative += nb
            upto = floor_div(to_holders * cumulative, b)
            part = upto - paid
            paid = upto
            inv = notes.investor[j]
            if later:
                later_investor[n_later] = inv
                later_platform[n_later] = plat
                later_amount[n_later] = part
                n_later += 1
            else:
                investors.cash_fen[inv, plat] += part
            investors.net_income_fen[inv] += part - nb
            investors.principal_lost_fen[inv] += nb - part
            notes.balance_fen[j] = 0
        held = loans.held_fen[row]
        totals[plat, W.PRINCIPAL] += b - held
        totals[plat, W.RECOVERED] += paid
        totals[plat, W.HELD_PRINCIPAL + 2 * loans.holder[row]] += held
        totals[plat, W.HELD_RECOVERED + 2 * loans.holder[row]] += to_holders - paid
        if not pooled[plat]:  # a detailed platform's arrears, which the buckets count
            arrears.count[loans.first_missed_day[row] + arrears.offset] -= 1
            arrears.balance_fen[loans.first_missed_day[row] + arrears.offset] -= b
        totals[plat, W.COLLECTION_FEE] += fee
        totals[plat, W.COUNT] += 1
        loans.balance_fen[row] = 0
        loans.held_fen[row] = 0
        loans.status[row] = DEFAULTED
        loans.default_day[row] = day
        loans.paid_fen[row] += recovered
    return n_later


@numba.njit(cache=True)
def buy_out(rows, day, capacity, covers_interest, layer, pooled, loans, notes, investors, totals):
    """A protection layer pays investors for overdue loans (代偿) and takes over their claims.

    For each loan in ``rows`` (in order) still active and not yet bought, the investors are owed
    their outstanding principal and, with ``covers_interest``, their share of the interest of the
    overdue instalments. The layer of the loan's platform pays while ``capacity[platform]`` (fen,
    decreased here) lasts. A loan that a later layer also covers (bit ``layer + 1`` or higher of
    ``loans.covered``) is paid whole or not at all: the first such loan the layer cannot pay in
    full ends its payouts for the day and is left, whole, with the rest to the layers behind it,
    so every claim has one holder. On the last layer that covers a loan the payment may be partial
    (principal first). Each note's principal part reduces the note and becomes the holder's
    (``held``; ``loans.holder = layer``); interest parts are investors' income.

    A ``pooled`` platform's loan has no notes: its investors hold it whole, pro rata (holder
    ``POOLED_INVESTORS``, :mod:`sim.kernels.views`), and a loan has one holder, so its layer buys the
    whole loan or none of it (the first it cannot pay in full ends its day, as before a layer
    behind); the loan's holder becomes ``layer`` and the payment is the platform's investors'
    (:func:`sim.market.arrears.Arrears.pooled_payouts` shares it among their positions).

    ``totals`` (n_platforms, ``BuyOutTotals.N``) is incremented with the principal and interest
    paid, the amount asked (paid or not), what is left unpaid on loans no later layer covers, and
    the number of loans reached.
    """
    for r in range(rows.shape[0]):
        row = rows[r]
        if loans.status[row] != ACTIVE:
            continue
        plat = loans.platform[row]
        whole = pooled[plat]
        owed = np.int64(loans.balance_fen[row]) - np.int64(loans.held_fen[row])
        if whole:  # held whole: by its investors until a layer bought it
            owed = np.int64(loans.balance_fen[row]) if loans.holder[row] == POOLED_INVESTORS else 0
        if owed <= 0:
            continue
        interest = np.int64(0)
        if covers_interest:
            due = min((day - loans.orig_day[row]) // DAYS_PER_MONTH, loans.term[row])
            for k in range(loans.n_paid[row] + 1, due + 1):
                p_k, i_k = instalment(loans.principal_fen[row], loans.annual_rate[row],
                                      loans.term[row], loans.method[row], k)
                interest += i_k
            interest = floor_div(interest * owed, loans.balance_fen[row])
        asked = owed + interest
        totals[plat, B.ASKED] += asked
        pay = max(min(asked, capacity[plat]), 0)
        behind = (loans.covered[row] >> (layer + 1)) != 0
        if pay < asked and (whole or behind):  # whole loans only: its payouts end for the day
            if not behind:
                totals[plat, B.LEFT] += asked
            capacity[plat] = 0
            continue
        if not behind:
            totals[plat, B.LEFT] += asked - pay
        if pay == 0:
            continue
        pay_p = min(pay, owed)
        pay_i = pay - pay_p
        capacity[plat] -= pay
        if not whole:
            # the notes' own balances are the whole of what is split: the split is pay_notes' (no fee)
            pay_notes(loans.note_start[row], loans.note_end[row], owed, pay_p, pay_i, 0.0,
                      plat, notes, investors)
            loans.held_fen[row] += pay_p
        loans.holder[row] = layer
        totals[plat, B.PRINCIPAL] += pay_p
        totals[plat, B.INTEREST] += pay_i
        totals[plat, B.COUNT] += 1
