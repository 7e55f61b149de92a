"""What a run reports: one row per platform and day (the ``runs`` table) and its end (summary).

The table is kept only when ``[runs] enabled``; amounts in CNY, waits in days, trust 0-1.
"""

from __future__ import annotations

from sim.ledger import AccountKind
from sim.runs.states import LOSS_CAUSES

RUNS_COLUMNS = ["day", "platform", "state", "state_label", "requested_cny", "paid_cny",
                "queued_cny", "oldest_wait_days", "transfer_offered_cny", "transfer_sold_cny",
                "transfer_price", "platform_cash_cny", "pool_cash_cny", "investor_cash_cny",
                "trust_mean", "trust_p10", "trust_p50", "trust_p90", "investors_running",
                "capital_called_cny", "taken_cny", "stolen_cny"] + [
                    f"loss_{cause}_cny" for cause in LOSS_CAUSES]
"""Columns of the ``runs`` table."""


def runs_rows(market, day: int) -> list[dict]:
    """Today's row of every platform."""
    runs, books = market.runs, market.bookkeeper
    rows = []
    trust = runs.trust.distribution()
    for platform in market.platforms:
        p, record = platform.index, platform.run
        row = {
            "day": day, "platform": platform.name, "state": int(record.state),
            "state_label": record.state.label,
            "requested_cny": runs.queue.requested_fen[p] / 100,
            "paid_cny": runs.queue.paid_fen[p] / 100,
            "queued_cny": runs.queue.total_fen(platform) / 100,
            "oldest_wait_days": runs.queue.oldest_wait_days(platform, day),
            "transfer_offered_cny": runs.secondary.offered_fen[p] / 100,
            "transfer_sold_cny": runs.secondary.par_fen[p] / 100,
            "transfer_price": float(runs.secondary.price[p]),
            "platform_cash_cny": books.balance(platform, AccountKind.PLATFORM_CASH) / 100,
            "pool_cash_cny": books.balance(platform, AccountKind.POOL_CASH) / 100,
            "investor_cash_cny": books.balance(platform, AccountKind.INVESTOR_CASH) / 100,
            "trust_mean": trust[p, 0], "trust_p10": trust[p, 1], "trust_p50": trust[p, 2],
            "trust_p90": trust[p, 3],
            "investors_running": int(runs.trust.running[:, p].sum()),
            "capital_called_cny": record.capital_called_fen / 100,
            "taken_cny": record.taken_fen / 100,
            "stolen_cny": record.stolen_fen / 100,
        }
        row.update({f"loss_{cause}_cny": record.losses_fen[cause] / 100 for cause in LOSS_CAUSES})
        rows.append(row)
    return rows


def runs_summary(platform) -> dict:
    """A platform's run at the end: its state, how and when it failed, losses by cause (CNY)."""
    record = platform.run
    return {"state": record.state.label, "failed_day": record.failed_day,
            "failure": record.failure, "failure_reason": record.failure_reason,
            "capital_called_cny": record.capital_called_fen / 100,
            "taken_by_operators_cny": record.taken_fen / 100,
            "stolen_in_breach_cny": record.stolen_fen / 100,
            "self_dealt_cny": record.self_dealt_fen / 100,
            "loans_sold": record.loans_sold,
            "investor_losses_cny": {cause: amount / 100
                                    for cause, amount in record.losses_fen.items()}}
