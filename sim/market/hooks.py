"""Extension points: what a study outside the engine may watch, at fixed points of the day.

A reserve-sizing study (:mod:`sim.reserve.paths`) reads the reserve right after the day's payouts
and counts the covered principal disbursed; a financial statement or a run on a platform can hook in
the same way, without subclassing the market or calling its private methods.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class Hooks:
    """Lists of functions the market calls; add yours with ``market.hooks.<point>.append(fn)``.

    Attributes
    ----------
    after_payouts : list of callable(day)
        After the day's write-offs and guarantee payouts, before any new loan pays in.
    after_disbursement : list of callable(platform, principal_fen, covered)
        For each platform with loans disbursed today: their principal (fen) and which protection
        layers cover each (int8 bits: bit ``h`` for ``platform.layers[h]``).
    after_review : list of callable(platform)
        After a platform's month-start state is read from the books, before its policies adapt.
    before_write_off : list of callable(rows)
        Loans about to be written off today (坏账核销): their rows of the book, balances still on it.
    """

    def __init__(self) -> None:
        self.after_payouts: list[Callable[[int], None]] = []
        self.after_disbursement: list[Callable[..., None]] = []
        self.after_review: list[Callable[..., None]] = []
        self.before_write_off: list[Callable[[np.ndarray], None]] = []

    def payouts_done(self, day: int) -> None:
        """Call the ``after_payouts`` hooks."""
        for hook in self.after_payouts:
            hook(day)

    def disbursed(self, platform, principal_fen: np.ndarray, covered: np.ndarray) -> None:
        """Call the ``after_disbursement`` hooks."""
        for hook in self.after_disbursement:
            hook(platform, principal_fen, covered)

    def reviewed(self, platform) -> None:
        """Call the ``after_review`` hooks."""
        for hook in self.after_review:
            hook(platform)

    def writing_off(self, rows: np.ndarray) -> None:
        """Call the ``before_write_off`` hooks."""
        for hook in self.before_write_off:
            hook(rows)
