"""What goes into a platform's guarantee: borrowers' payments, and the platform's own by its rules.

Borrowers pay when a covered loan is disbursed; the platform moves money into it (or takes it back)
by its funding rules at each month's opening.

The guarantee's payouts (代偿) are in :mod:`sim.market.arrears`; its decisions are the platform's
guarantee policy's (:mod:`sim.policies.guarantee`).
"""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD
from sim.market.accounts import AccountKind, Memo


def collect_contributions(market, platform, principal_fen: np.ndarray,
                          covered: np.ndarray) -> None:
    """Borrowers' payments into the guarantee at disbursement: reserve share, guarantee fee.

    Tells the market's ``after_disbursement`` hooks what was disbursed and which loans are covered.
    """
    guarantee = platform.guarantee
    platform.state.guaranteed_outstanding_fen += int(principal_fen[covered].sum())
    market.hooks.disbursed(platform, principal_fen, covered)
    if guarantee.account is None or not covered.any():
        return
    contribution, fee = guarantee.contributions(principal_fen[covered])
    books = market.bookkeeper
    books.move(platform, WORLD, guarantee.account, int(contribution.sum()),
               Memo.RESERVE_CONTRIBUTION)
    books.move(platform, WORLD, guarantee.account, int(fee.sum()), Memo.GUARANTEE_FEE)
    market.today.guarantee_income_fen += int(contribution.sum() + fee.sum())


def apply_funding_rules(market, platform) -> None:
    """The guarantee's funding rules at the month's opening (after the month's costs).

    A top-up is paid from the platform's own cash, as far as it goes (no capital call: the rule
    waits for next month); what it could not pay is counted in ``guarantee.top_up_short_fen``. A
    release moves the excess back to the platform's cash.
    """
    guarantee, books = platform.guarantee, market.bookkeeper
    if guarantee.account is None:
        return
    move = guarantee.month_transfer_fen(books.balance(platform, guarantee.account), platform.state)
    if move > 0:
        paid = min(move, max(books.balance(platform, AccountKind.PLATFORM_CASH), 0))
        books.move(platform, AccountKind.PLATFORM_CASH, guarantee.account, paid, Memo.RESERVE_TOP_UP)
        guarantee.top_up_short_fen += move - paid
        market.today.reserve_top_up_fen += paid
    elif move < 0:
        books.move(platform, guarantee.account, AccountKind.PLATFORM_CASH, -move,
                   Memo.RESERVE_RELEASE)
        market.today.reserve_release_fen += -move
