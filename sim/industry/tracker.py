"""Monthly figures of an industry run, the way the industry trackers (网贷之家, 网贷天眼) published them.

A row per month: platforms operating, winding down and newly in trouble (问题平台) by type of problem,
by business model and by cause; lending volume, outstanding balance, investors' money, active
investors, deposits, withdrawals and net inflow; investors' losses; sentiment; what investors asked
for, by reason (ordinary withdrawals, a regulator's order, stopped reinvesting, ran); and the damage
(investors' money on the platforms that failed) put down to a cause: the background hazard, the
regulators, a named event, or a run, which is shared among the reasons by what was asked of the
platform in about the month before it froze. What a contagion channel adds is measured by
switching it off in a paired experiment (docs/industry.md). Every platform counts, the
detailed ones too; amounts are CNY.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from sim.industry.failures import CAUSES
from sim.industry.hazard import FAILURE_TYPES, OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS
from sim.kernels import ACTIVE
from sim.kernels.positions import group_sums
from sim.ledger import AccountKind
from sim.runs.contagion import REQUEST_REASONS
from sim.runs.states import STATE_LABELS, RunState
from sim.scenario.industry import month_name

CNY = 100.0  # fen per CNY
PANEL_FLOWS = ("volume", "deposits", "withdrawals", "redeposited", "entrant_money")  # per platform
PANEL = ("outstanding_cny", "investors_money_cny", "active_investors", "volume_cny",
         "net_inflow_cny", "operating")  # each platform's month (:meth:`Tracker.panel_frame`)
DAMAGE = ("background", "named", "regulators", *[c for c in REQUEST_REASONS if c != "regulators"])


class Tracker:
    """Collects a run's daily flows and failures into monthly rows."""

    def __init__(self, industry) -> None:
        self.industry = industry
        self.flows: dict[str, float] = defaultdict(float)
        self.rows: list[dict] = []
        self.by_platform: dict[str, np.ndarray] = {name: np.zeros(industry.n) for name in PANEL_FLOWS}
        self.panel: dict[str, list[np.ndarray]] = {name: [] for name in PANEL}
        self.expected_at_month_start = 0.0

    def add(self, name: str, amount_fen, per_platform_fen: np.ndarray | None = None) -> None:
        """Add a flow of today (fen) to the month's total, and per platform where given."""
        self.flows[name] += float(amount_fen)
        if per_platform_fen is not None:
            self.by_platform[name] += per_platform_fen

    def failed(self, failing: np.ndarray, money_fen: np.ndarray, run_shares: np.ndarray) -> None:
        """Count today's failures and put the money on them down to causes and reasons."""
        ind, rows = self.industry, np.flatnonzero(failing)
        for t in ind.failure_type[rows]:
            self.flows[f"new_{FAILURE_TYPES[t]}"] += 1
        for b in ind.platforms.business_model[rows]:
            self.flows[f"new_{BUSINESS_MODELS[b]}"] += 1
        for i, p in enumerate(rows):
            cause = CAUSES[ind.causes[p]]
            self.flows[f"new_by_{cause}"] += 1
            money = money_fen[p]
            if cause != "run":
                self.flows[f"damage_{cause}"] += money
                continue
            for c, reason in enumerate(REQUEST_REASONS):
                self.flows[f"damage_{reason}"] += money * run_shares[c, i]
            if run_shares[:, i].sum() == 0:  # a run with no request on record: ordinary
                self.flows["damage_ordinary"] += money

    def close_day(self, day: int) -> None:
        """At a month's last day, write its row."""
        ind = self.industry
        self.flows["sentiment"] += ind.sentiment / 30
        if (day + 1) % 30:
            return
        f, state = self.flows, ind.state
        alive = ind.alive & ind.launched
        going = (state <= RunState.WITHDRAWAL_DIFFICULTY) & ind.launched  # operating (正常运营)
        money = ind.money_fen()
        claims = ind.outstanding_fen()
        pos = ind.positions
        live = going[pos.platform] & (pos.balance_fen > 0) & pos.lending
        loans = ind.market.book.loans
        row = {"month": month_name(ind.first_month + day // 30),
               "operating": int(((state <= RunState.WITHDRAWAL_DIFFICULTY) & ind.launched).sum()),
               "in_difficulty": int(((state == RunState.WITHDRAWAL_DIFFICULTY)
                                     & ind.launched).sum()),
               "winding_down": int((state == RunState.WIND_DOWN).sum()),
               "failed_total": int((state >= RunState.CLOSED).sum()),
               "new_problem": int(sum(f[f"new_{t}"] for t in FAILURE_TYPES))}
        row |= {f"new_{t}": int(f[f"new_{t}"]) for t in FAILURE_TYPES}
        row |= {f"new_{b}": int(f[f"new_{b}"]) for b in BUSINESS_MODELS}
        row |= {f"new_by_{c}": int(f[f"new_by_{c}"]) for c in CAUSES}
        row |= {"volume_cny": f["volume"] / CNY,
                "outstanding_cny": claims[going].sum() / CNY,
                "investors_money_cny": money[going].sum() / CNY,
                "winding_down_cny": money[alive & ~going].sum() / CNY,
                "stuck_cny": money[~alive].sum() / CNY,
                "active_investors": int(np.count_nonzero(np.bincount(pos.investor[live],
                                                                     minlength=pos.investors))),
                "loans_outstanding": int(np.count_nonzero(loans.status == ACTIVE)),
                "deposits_cny": f["deposits"] / CNY, "withdrawals_cny": f["withdrawals"] / CNY,
                "net_inflow_cny": (f["deposits"] + f["redeposited"] + f["entrant_money"]
                                   - f["withdrawals"]) / CNY,
                "losses_cny": f["losses"] / CNY, "co_debt_losses_cny": f["co_debt_losses"] / CNY,
                "reserve_payouts_cny": f["reserve_payouts"] / CNY,
                "reserves_dry": int(np.count_nonzero(ind.reserve_dry)),
                "taken_cny": f["taken"] / CNY, "sentiment": f["sentiment"],
                "sentiment_end": ind.sentiment,
                "expected_background": ind.expected_background - self.expected_at_month_start,
                "stopped_reinvesting": int(f["stopped_reinvesting"]),
                "resumed_reinvesting": int(f["resumed_reinvesting"]),
                "redeposited_cny": f["redeposited"] / CNY,
                "left_industry_cny": (f["withdrawals"] - f["redeposited"]) / CNY,
                "entrants": int(f["entrants"]), "entrants_money_cny": f["entrant_money"] / CNY}
        row |= {f"asked_{c}_cny": ind.requests.month[i] / CNY
                for i, c in enumerate(REQUEST_REASONS)}
        row |= {f"damage_{c}_cny": f[f"damage_{c}"] / CNY for c in DAMAGE}
        self.rows.append(row)
        self._close_panel(live)
        ind.requests.month[:] = 0
        self.flows.clear()
        self.expected_at_month_start = ind.expected_background

    def _close_panel(self, live_positions: np.ndarray) -> None:
        """Each platform's month: its balance, money, lending investors and flows (CNY)."""
        ind, pos = self.industry, self.industry.positions
        month = {"outstanding_cny": ind.outstanding_fen() / CNY,
                 "investors_money_cny": ind.money_fen() / CNY,
                 "active_investors": group_sums(pos.group_start, live_positions.astype(np.int64)),
                 "volume_cny": self.by_platform["volume"] / CNY,
                 "net_inflow_cny": (self.by_platform["deposits"] + self.by_platform["redeposited"]
                                    + self.by_platform["entrant_money"]
                                    - self.by_platform["withdrawals"]) / CNY,
                 "operating": (ind.state <= RunState.WITHDRAWAL_DIFFICULTY) & ind.launched}
        for name, values in month.items():
            self.panel[name].append(np.asarray(values).copy())
        for values in self.by_platform.values():
            values[:] = 0

    def frame(self) -> pd.DataFrame:
        """The monthly table."""
        return pd.DataFrame(self.rows)


INDUSTRY_SERIES = {  # the monthly table's columns an experiment may keep, as industry.NAME
    "new_problem": ("new problem platforms (问题平台) a month", "count"),
    "operating": ("platforms operating", "count"),
    "in_difficulty": ("platforms in 提现困难 at the month's end", "count"),
    "volume_cny": ("new lending a month", "cny"),
    "outstanding_cny": ("outstanding balance on operating platforms", "cny"),
    "investors_money_cny": ("investors' money on operating platforms", "cny"),
    "winding_down_cny": ("investors' money on platforms winding down (良性退出)", "cny"),
    "stuck_cny": ("investors' money on failed platforms (stuck)", "cny"),
    "active_investors": ("active (lending) investors", "count"),
    "net_inflow_cny": ("net inflow a month", "cny"),
    "withdrawals_cny": ("withdrawals a month", "cny"),
    "redeposited_cny": ("flight-to-quality money a month", "cny"),
    "losses_cny": ("investors' losses a month", "cny"),
    "reserve_payouts_cny": ("reserves' payouts (代偿) a month", "cny"),
    "sentiment": ("sentiment (0 calm, 1 panic), the month's mean", "number"),
    "entrants": ("new platforms a month", "count"),
}
FATES = ("stayed healthy", "failed", "entrants")


def fate_table(industry) -> pd.DataFrame:
    """Monthly series by what became of the platforms: healthy to the end, failed, or entrants.

    "stayed healthy": never failed in the run; "failed": failed at some time (before, in or after
    the month); "entrants": launched in the run, whatever their fate. A row per month and fate:
    platforms operating, active (lending) investors summed over the platforms (an investor on two
    counts twice, as the trackers' per-platform counts do), new lending, the outstanding balance
    and net inflow (deposits, flight-to-quality money and an entrant's opening money, less
    withdrawals), CNY. The panel is every platform's, detailed ones included.
    """
    panel = {name: np.array(values) for name, values in industry.tracker.panel.items()}
    if not len(panel["operating"]):
        return pd.DataFrame()
    entrant = np.arange(industry.n) >= industry.first_entrant
    groups = {"stayed healthy": ~entrant & (industry.problem_day < 0),
              "failed": ~entrant & (industry.problem_day >= 0), "entrants": entrant}
    rows = []
    for k in range(len(panel["operating"])):
        month = month_name(industry.first_month + k)
        for fate, chosen in groups.items():
            if not chosen.any():
                continue
            rows.append({"month": month, "fate": fate,
                         "operating": int((panel["operating"][k] & chosen).sum()),
                         "investors_summed_over_platforms": float(
                             panel["active_investors"][k][chosen].sum()),
                         **{name: float(panel[name][k][chosen].sum())
                            for name in ("volume_cny", "outstanding_cny", "net_inflow_cny")}})
    return pd.DataFrame(rows)


def platform_table(industry) -> pd.DataFrame:
    """Every platform at the end: what it was, what happened to it and when (day), money in CNY."""
    ind, p = industry, industry.platforms
    accounts = ind.market.ledger.accounts
    return pd.DataFrame({
        "platform": ind.names, "detailed": ~ind.pooled, "wdzj_source_id": p.source_id,
        "business_model": np.array(BUSINESS_MODELS)[p.business_model],
        "owner": np.array(OWNER_TYPES)[p.owner], "custody": p.custody,
        "province": np.array(ind.hazard.provinces)[p.province],
        "registered": ind.registered, "state": [STATE_LABELS[RunState(s)] for s in ind.state],
        "failure_type": [FAILURE_TYPES[t] if t >= 0 else "" for t in ind.failure_type],
        "cause": [CAUSES[c] if c >= 0 else "" for c in ind.cause],
        "problem_day": ind.problem_day,
        "investors_money_cny": ind.money_fen() / CNY,
        "outstanding_cny": ind.outstanding_fen() / CNY,
        "reserve_fund_cny": accounts[AccountKind.RESERVE_FUND] / CNY,
        "positions": np.diff(ind.positions.group_start),
    })
