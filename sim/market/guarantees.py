"""What borrowers pay into their platform's guarantee when a covered loan is disbursed.

The guarantee's payouts (代偿) are in :mod:`sim.market.arrears`; its decisions are the platform's
guarantee policy's (:mod:`sim.policies.guarantee`).
"""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD
from sim.market.accounts import Memo


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
