"""Monthly figures of an industry run, the way the industry trackers (网贷之家, 网贷天眼) published them.

A row per month: platforms operating, winding down and newly in trouble (问题平台) by type of problem,
by business model and by cause; lending volume, outstanding balance, investors' money, active
investors, deposits, withdrawals and net inflow; investors' losses and recoveries; sentiment; what
each channel asked for; and the damage (investors' money on the platforms that failed) put down to a
cause: the background hazard, the regulators, a named event, or a run, which is shared among the
channels by what each asked of the platform in about the month before it froze.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from sim.industry.channels import REQUEST_CHANNELS
from sim.industry.config import month_name
from sim.industry.hazard import FAILURE_TYPES, OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS
from sim.industry.states import CAUSES, FAILED, OPERATING, STATE_NAMES, WINDING_DOWN

CNY = 100.0  # fen per CNY
DAMAGE = ("background", "named", "regulators", *[c for c in REQUEST_CHANNELS if c != "regulators"])


class Tracker:
    """Collects a run's daily flows and failures into monthly rows."""

    def __init__(self, model) -> None:
        self.model = model
        self.flows: dict[str, float] = defaultdict(float)
        self.rows: list[dict] = []

    def add(self, name: str, amount_fen) -> None:
        """Add a flow of today (fen) to the month's total."""
        self.flows[name] += float(amount_fen)

    def failed(self, failing: np.ndarray, causes: np.ndarray, money_fen: np.ndarray,
               run_shares: np.ndarray) -> None:
        """Count today's failures and put the money on them down to causes and channels."""
        m, rows = self.model, np.flatnonzero(failing)
        for t in m.failure_type[rows]:
            self.flows[f"new_{FAILURE_TYPES[t]}"] += 1
        for b in m.industry.business_model[rows]:
            self.flows[f"new_{BUSINESS_MODELS[b]}"] += 1
        for i, p in enumerate(rows):
            cause = CAUSES[causes[p]]
            self.flows[f"new_by_{cause}"] += 1
            money = money_fen[p]
            if cause != "run":
                self.flows[f"damage_{cause}"] += money
                continue
            for c, channel in enumerate(REQUEST_CHANNELS):
                self.flows[f"damage_{channel}"] += money * run_shares[c, i]
            if run_shares[:, i].sum() == 0:  # a run with no request on record: ordinary
                self.flows["damage_ordinary"] += money

    def close_day(self) -> None:
        """At a month's last day, write its row."""
        m = self.model
        self.flows["sentiment"] += m.sentiment / 30
        if (m.day + 1) % 30:
            return
        accounts, f = m.ledger.accounts, self.flows
        pos = m.positions
        live = (m.state != FAILED)[pos.platform] & (pos.balance_fen > 0)
        row = {"month": month_name(m.first_month + m.day // 30),
               "operating": int((m.state == OPERATING).sum()),
               "winding_down": int((m.state == WINDING_DOWN).sum()),
               "failed_total": int((m.state == FAILED).sum()),
               "new_problem": int(sum(f[f"new_{t}"] for t in FAILURE_TYPES))}
        row |= {f"new_{t}": int(f[f"new_{t}"]) for t in FAILURE_TYPES}
        row |= {f"new_{b}": int(f[f"new_{b}"]) for b in BUSINESS_MODELS}
        row |= {f"new_by_{c}": int(f[f"new_by_{c}"]) for c in CAUSES}
        alive = m.state != FAILED
        row |= {"volume_cny": f["volume"] / CNY,
                "outstanding_cny": accounts["investor_claims"][alive].sum() / CNY,
                "investors_money_cny": m.money_fen()[alive].sum() / CNY,
                "stuck_cny": m.money_fen()[~alive].sum() / CNY,
                "active_investors": int(np.count_nonzero(np.bincount(pos.investor[live],
                                                                     minlength=pos.investors))),
                "loans_outstanding": m.loans.active_count(),
                "deposits_cny": f["deposits"] / CNY, "withdrawals_cny": f["withdrawals"] / CNY,
                "net_inflow_cny": (f["deposits"] - f["withdrawals"]) / CNY,
                "losses_cny": f["losses"] / CNY, "co_debt_losses_cny": f["co_debt_losses"] / CNY,
                "recoveries_cny": f["recoveries"] / CNY, "sentiment": f["sentiment"],
                "sentiment_end": m.sentiment}
        row |= {f"asked_{c}_cny": m.requests.month[i] / CNY for i, c in enumerate(REQUEST_CHANNELS)}
        row |= {f"damage_{c}_cny": f[f"damage_{c}"] / CNY for c in DAMAGE}
        self.rows.append(row)
        m.requests.month[:] = 0
        self.flows.clear()

    def frame(self) -> pd.DataFrame:
        """The monthly table."""
        return pd.DataFrame(self.rows)


def platform_table(model) -> pd.DataFrame:
    """Every platform at the end: what it was, what happened to it and when (day), money in CNY."""
    m, ind = model, model.industry
    return pd.DataFrame({
        "platform": np.arange(len(ind)), "wdzj_source_id": ind.source_id,
        "business_model": np.array(BUSINESS_MODELS)[ind.business_model],
        "owner": np.array(OWNER_TYPES)[ind.owner], "custody": ind.custody,
        "registered": m.classes.registered, "state": [STATE_NAMES[s] for s in m.state],
        "failure_type": [FAILURE_TYPES[t] if t >= 0 else "" for t in m.failure_type],
        "cause": [CAUSES[c] if c >= 0 and s == FAILED else "" for c, s in zip(m.cause, m.state)],
        "failure_day": m.failure_day,
        "investors_money_cny": m.money_fen() / CNY,
        "outstanding_cny": m.ledger.accounts["investor_claims"] / CNY,
        "reserve_fund_cny": m.ledger.accounts["reserve_fund"] / CNY,
        "positions": np.diff(m.positions.group_start),
    })
