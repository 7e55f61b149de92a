"""What goes into a platform's guarantee: borrowers' payments, and the platform's own by its rules.

Borrowers pay when a covered loan is disbursed; the platform moves money into it (or takes it back)
by its funding rules at each month's opening. A platform's protection is a list of layers
(``platform.layers``: one guarantee policy, or the layers of a ``layered`` one); each books into
its own account.

The guarantee's payouts (代偿) are in :mod:`sim.market.arrears`; its decisions are the platform's
guarantee policy's (:mod:`sim.policies.guarantee`).
"""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD, AccountKind, Memo


def covered_bits(platform, principal_fen: np.ndarray) -> np.ndarray:
    """Which of the platform's protection layers cover each new loan: bit ``h`` for layer ``h``."""
    bits = np.zeros(len(principal_fen), dtype=np.int8)
    for h, layer in enumerate(platform.layers):
        covers = np.asarray(layer.covers(principal_fen, platform.layer_states[h]), dtype=bool)
        bits |= (covers.astype(np.int8) << h).astype(np.int8)
    return bits


def collect_contributions(market, platform, principal_fen: np.ndarray,
                          covered: np.ndarray) -> None:
    """Borrowers' payments into each layer covering a new loan: reserve share, guarantee fee.

    ``covered`` holds each loan's layer bits (:func:`covered_bits`). Tells the market's
    ``after_disbursement`` hooks what was disbursed and which loans each layer covers.
    """
    market.hooks.disbursed(platform, principal_fen, covered)
    books = market.bookkeeper
    for h, layer in enumerate(platform.layers):
        mine = (covered >> h) & 1 == 1
        covered_fen = int(principal_fen[mine].sum())
        platform.layer_states[h].guaranteed_outstanding_fen += covered_fen
        if h == 0:
            platform.state.guaranteed_outstanding_fen += covered_fen
        if layer.account is None or not mine.any():
            continue
        contribution, fee = layer.contributions(principal_fen[mine])
        books.move(platform, WORLD, layer.account, int(contribution.sum()),
                   Memo.RESERVE_CONTRIBUTION)
        books.move(platform, WORLD, layer.account, int(fee.sum()), Memo.GUARANTEE_FEE)
        layer.record_fee(int(fee.sum()))
        market.today.guarantee_income_fen += int(contribution.sum() + fee.sum())


def apply_funding_rules(market, platform) -> None:
    """Each layer's funding rules at the month's opening (after the month's costs), in order.

    A top-up is paid from the platform's own cash, as far as it goes (no capital call: the rule
    waits for next month); what it could not pay is counted in the layer's ``top_up_short_fen``. A
    release moves the excess back to the platform's cash.
    """
    books = market.bookkeeper
    for h, layer in enumerate(platform.layers):
        if layer.account is None:
            continue
        seen = books.balance(platform, layer.account) - layer.hidden_fen
        move = layer.month_transfer_fen(seen, platform.layer_states[h])
        if move > 0:
            paid = min(move, max(books.balance(platform, AccountKind.PLATFORM_CASH), 0))
            books.move(platform, AccountKind.PLATFORM_CASH, layer.account, paid,
                       Memo.RESERVE_TOP_UP)
            layer.top_up_short_fen += move - paid
            market.today.reserve_top_up_fen += paid
        elif move < 0:
            books.move(platform, layer.account, AccountKind.PLATFORM_CASH, -move,
                       Memo.RESERVE_RELEASE)
            market.today.reserve_release_fen += -move
