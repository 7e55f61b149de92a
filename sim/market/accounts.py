"""The bookkeeper: how the market's parts book money in the ledger, platform by platform.

Accounts are a platform's accounts of one :class:`~sim.ledger.AccountKind` (the journal names them
``investor_cash:alpha``). Every posting carries a :class:`~sim.ledger.Memo`, so the statements, the
month's flows and the tests find postings by name, not by a string typed twice; a marketing
channel's spend and a department's salaries name their channel or department as the memo's detail.
"""

from __future__ import annotations

import numpy as np

from sim.ledger import HELD_KINDS, WORLD, AccountKind, Ledger, Memo

__all__ = ["HELD_KINDS", "AccountKind", "Bookkeeper", "Memo"]


class Bookkeeper:
    """Posts the parts' money in the ledger, by platform and account kind.

    Parameters
    ----------
    ledger : Ledger
        The market's ledger.
    platforms : list of Platform
        The market's platforms of full detail, in index order (the first of the ledger's).
    """

    def __init__(self, ledger: Ledger, platforms: list) -> None:
        self.ledger = ledger
        self.platforms = platforms

    def balance(self, platform, kind: AccountKind) -> int:
        """Balance of one platform's account, fen."""
        return self.ledger.balance(kind, platform.index)

    def outstanding(self, platform) -> int:
        """A platform's outstanding principal (fen), whoever holds it.

        Investors' notes, and a protection layer's or a fund pool's held claims (a pool's book is
        all held).
        """
        return self.balance(platform, AccountKind.INVESTOR_CLAIMS) + sum(
            self.balance(platform, kind) for kind in HELD_KINDS)

    def total(self, kind: AccountKind) -> int:
        """Sum over the detailed platforms of one account kind, fen.

        An industry's pooled platforms are the industry's figures (:mod:`sim.industry.tracker`).
        """
        return sum(self.ledger.accounts[kind][: len(self.platforms)].tolist())

    def move(self, platform, source: AccountKind, target: AccountKind, amount_fen: int,
             memo: Memo, detail: str = "") -> None:
        """Move money between two accounts of ``platform`` (either may be ``world``)."""
        self.ledger.transfer(platform.index, source, target, amount_fen, memo, detail)

    def move_each(self, source: AccountKind, target: AccountKind, amounts_fen: np.ndarray,
                  memo: Memo) -> None:
        """One posting per platform, ``amounts_fen[p]`` between its ``source`` and ``target``.

        ``amounts_fen`` may cover only the first platforms (those of full detail).
        """
        amounts = np.asarray(amounts_fen, dtype=np.int64)
        if len(amounts) < self.ledger.platforms:
            amounts = np.concatenate([amounts, np.zeros(self.ledger.platforms - len(amounts),
                                                        dtype=np.int64)])
        self.ledger.post(source, target, amounts, memo)

    def fee(self, platform, fee_fen: int, memo: Memo) -> None:
        """A fee paid to the platform; each protection layer's ``fee_share`` goes to its fund."""
        platform.shareable_fees_fen += fee_fen
        kept = fee_fen
        for layer in platform.layers:
            if layer.fee_share and layer.account:
                to_fund = int(fee_fen * layer.fee_share)
                self.move(platform, WORLD, layer.account, to_fund, memo.into_fund(layer.account))
                kept -= to_fund
        self.move(platform, WORLD, AccountKind.PLATFORM_CASH, kept, memo)
