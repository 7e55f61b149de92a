"""An industry's ordinary money flows and its one rule of lateness, for every platform alike.

Inside an industry every platform, pooled or in full detail, follows ``[industry.behaviour]``:

* **new money** (新增出借): a holding still lending adds ``deposit_daily`` of its balance a day,
  less as sentiment sours on the weaker platforms (× ``1 - sentiment × vulnerability``), on an
  operating platform the regulators have not told to shrink (三降) (:func:`deposit_rates`);
* **ordinary withdrawals** (提现): a holding asks back ``withdrawal_daily`` of its money not yet
  asked for, a day, on an operating platform (:func:`withdrawal_rates`);
* what is asked waits until there is cash to pay it (待回款提现): its own cash first, then the
  loans' repayments as they come; on a pooled platform the positions hold the platform's cash pro
  rata, so the queue is paid from it, the oldest request first;
* **lateness** (:func:`late`): a platform is late (提现困难) while what it promised on demand and
  could not pay exceeds ``difficulty_share`` of its investors' money; ``fail_after_days`` of it
  and it fails, by the one state machine (:class:`sim.runs.states.RunStates`).

A pooled position keeps its balance as one number (:mod:`sim.industry.withdrawals`); a detailed
platform's investor keeps cash and notes (:func:`detailed_flows`): two records of one holding.
Outside an industry a detailed platform follows its ``[investors]`` and ``[platforms.liquidity]``.
"""

from __future__ import annotations

import numpy as np

from sim.ledger import AccountKind

CASH, CLAIMS = AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_CLAIMS


def deposit_rates(industry) -> np.ndarray:
    """Per platform, a lending holding's new money a day, share of its balance."""
    rate = industry.config.behaviour.deposit_daily * np.maximum(
        1.0 - industry.sentiment * industry.vulnerability, 0.0)
    return np.where(industry.operating & ~industry.shrinking, rate, 0.0)


def withdrawal_rates(industry) -> np.ndarray:
    """Per platform, the share of its money not yet asked for that a holding asks back a day."""
    return np.where(industry.operating, industry.config.behaviour.withdrawal_daily, 0.0)


def late(industry, unpaid_fen: np.ndarray) -> np.ndarray:
    """Bool per platform: what it promised on demand and could not pay is over the line.

    ``unpaid_fen × liquidity_promise > difficulty_share × its investors' money`` (a pure
    intermediary promises a fifth of what is asked on demand, a fund pool all of it).
    """
    share = industry.config.behaviour.difficulty_share
    return unpaid_fen * industry.liquidity_promise > share * industry.money_fen()


def notes_held_fen(market) -> np.ndarray:
    """Each investor's notes on each detailed platform (investors, platforms), fen."""
    inv, book = market.investors, market.book
    loans, notes = book.loans, book.notes
    held = np.zeros(inv.cash_fen.shape, dtype=np.int64)
    k = len(loans)
    if not len(notes) or not k:
        return held
    counts = (loans.note_end[:k] - loans.note_start[:k]).astype(np.int64)
    platform = np.repeat(loans.platform[:k].astype(np.int64), counts)
    first = int(loans.note_start[0])
    rows = slice(first, first + len(platform))
    index = notes.investor[rows].astype(np.int64) * held.shape[1] + platform
    held += np.bincount(index, notes.balance_fen[rows].astype(np.int64),
                        minlength=held.size).astype(np.int64).reshape(held.shape)
    return held


def detailed_flows(market, notes_fen: np.ndarray) -> None:
    """The detailed platforms' ordinary flows in an industry: new money and requests.

    Each investor still bidding on an operating platform adds ``floor(rate × (cash + notes))`` to
    their cash, the rate scaled by their response to the platform's rates (its
    ``supply_multiplier``: 1 at the market's rates, as every pooled platform pays); each asks
    back ``floor(withdrawal rate × money not yet asked for)`` (``InvestorPopulation.asked_fen``),
    paid from their own cash first, as it comes (:func:`cover_asked`). ``notes_fen`` is
    :func:`notes_held_fen` of today.
    """
    industry, inv = market.industry, market.investors
    n = industry.detailed
    if n == 0:
        return
    supply = np.array([platform.supply_multiplier for platform in market.platforms])
    deposit = deposit_rates(industry)[:n] * supply  # its investors' response to its rates
    withdrawal = withdrawal_rates(industry)[:n]
    holding = inv.cash_fen + notes_fen
    lending = inv.bidding & inv.active[:, None]
    if deposit.any():
        new = np.where(lending, np.floor(holding * deposit[None, :]), 0).astype(np.int64)
        market.treasury.deposit(new)
        holding += new
    if withdrawal.any():
        free = np.maximum(holding - inv.asked_fen, 0)
        inv.asked_fen += np.floor(free * withdrawal[None, :]).astype(np.int64)


def ask_everything(market, platform, rows: np.ndarray, notes_fen: np.ndarray) -> None:
    """Investors ``rows`` ask back all their money on ``platform`` (cash and ``notes_fen``)."""
    inv, p = market.investors, platform.index
    notes = notes_fen[rows, p]
    inv.asked_fen[rows, p] = np.maximum(inv.asked_fen[rows, p], inv.cash_fen[rows, p] + notes)


def cover_asked(market, platform, day: int, notes_fen: np.ndarray) -> None:
    """What ``platform``'s investors asked for and their cash now covers joins the queue.

    What they asked for beyond what they still hold (cash and ``notes_fen``: their notes were
    written off or sold below par) is no longer asked.
    """
    inv, p = market.investors, platform.index
    rows = np.flatnonzero(inv.asked_fen[:, p])
    if not len(rows):
        return
    holding = inv.cash_fen[rows, p] + notes_fen[rows, p]
    inv.asked_fen[rows, p] = np.minimum(inv.asked_fen[rows, p], holding)
    covered = np.minimum(inv.asked_fen[rows, p], inv.cash_fen[rows, p])
    inv.asked_fen[rows, p] -= covered
    market.runs.queue.request_amounts(platform, rows, covered, day)


def unpaid_fen(market, platform) -> int:
    """What ``platform``'s investors asked for and were not paid: waiting for cash, or queued."""
    return (int(market.investors.asked_fen[:, platform.index].sum())
            + market.runs.queue.total_fen(platform))
