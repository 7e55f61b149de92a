"""One path of the reserve study: the whole market, run with a reserve that never runs dry.

The reserve's balance on day ``t`` is ``R + inflows(t) - payouts(t)`` for an initial reserve ``R``,
as long as it has not run dry; payouts do not depend on ``R`` until then. So one run with a reserve
that cannot run dry (a large float lent to it, :attr:`ReserveWatch.float_fen`, which its policies do
not see) gives, for every ``R`` at once, whether and when the reserve would have run dry: on the
first day its *net outflow* ``D(t) = payouts(t) - inflows(t)`` exceeds ``R``. The initial reserve a
path needs is ``max(0, max_t D(t))``.

``D`` is read every day right after the day's payouts (the market's ``after_payouts`` hook), the
reserve's lowest point of the day: contributions and fees of the day's new loans come in later.

The fee share ``f`` (share of the platform's service and management fees paid into the reserve)
enters the same way with ``F(t)``, the fees paid so far, in place of ``V(t)`` (the fees themselves do
not depend on how they are split).

The contribution rate ``c`` (share of each covered loan's principal paid into the reserve) enters
the inflows linearly: ``D_c(t) = D(t) + (c0 - c) V(t)``, ``V(t)`` the covered principal disbursed
so far, ``c0`` the scenario's rate. For an initial reserve ``R`` the rate a path needs is therefore
the smallest ``c >= 0`` with ``D(t) + (c0 - c) V(t) <= R`` on every day:
``max(0, max_t (D(t) + c0 V(t) - R) / V(t))`` (infinite if the reserve is short before any loan
has paid in). Assumption: borrowers and the platform do not react to ``R`` or ``c`` themselves
(the contribution comes out of the loan's principal, 从借款本金中提取).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.runner import describe_failure
from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH
from sim.model import P2PMarket
from sim.reserve.exposure import BookWatch
from sim.reserve.solver import solve_path

TURNED_AWAY_TOLERANCE = 0.005  # a guarantor may leave this share of the book uncovered and be enough
FLOAT_FEN = 10**15  # 10 trillion CNY lent to the reserve: more than any book here can lose


def layer_index(platform, account: str = AccountKind.RESERVE_FUND) -> int:
    """Position among the platform's protection layers of the one paying from ``account``."""
    return next(h for h, layer in enumerate(platform.layers) if layer.account == account)


class ReserveWatch:
    """What a path reads of the market, by its public hooks.

    A float lent to one platform's reserve fund, the reserve right after each day's payouts, the
    covered principal disbursed, and the book (:class:`BookWatch`).

    The float is the study's own: it is lent from the ``world`` (memo ``reserve_sizing_float``) and
    taken out of what the platform's policies see as their guarantee fund every month.

    Parameters
    ----------
    market : P2PMarket
        Built with ``collect=False`` (a path keeps only what the study needs).
    platform : int
        Index of the platform whose reserve fund is studied.
    """

    float_fen = FLOAT_FEN

    def __init__(self, market: P2PMarket, platform: int,
                 account: str = AccountKind.RESERVE_FUND) -> None:
        self.market = market
        self.platform = market.platforms[platform]
        self.account = account
        self.book = BookWatch(market, platform)  # the book sized, and its losses by segment
        self.layer = layer_index(self.platform, account)
        self.covered_disbursed_fen = 0
        self.turned_away_fen = 0  # principal a guarantor's leverage limit left uncovered
        self.balance_after_payouts_fen = 0
        self.fees_at_payouts_fen = 0
        market.bookkeeper.move(self.platform, WORLD, account, self.float_fen,
                               Memo.RESERVE_SIZING_FLOAT)
        self.platform.layers[self.layer].hidden_fen = self.float_fen  # its rules do not see it
        market.hooks.after_payouts.append(self._read_reserve)
        market.hooks.after_disbursement.append(self._count_covered)
        market.hooks.after_review.append(self._hide_float)

    def _read_reserve(self, day: int) -> None:
        """The reserve right after today's payouts, its lowest point of the day.

        Later in the day only money comes in (contributions and fees at disbursement), so a
        reserve that is not short at this point is not short at any point of the day.
        """
        self.balance_after_payouts_fen = self.market.bookkeeper.balance(self.platform,
                                                                        self.account)
        self.fees_at_payouts_fen = self.platform.shareable_fees_fen  # F, as it stood then

    def _count_covered(self, platform, principal_fen: np.ndarray, covered: np.ndarray) -> None:
        """The principal disbursed by the studied platform that its reserve covers (``V``)."""
        if platform is self.platform:
            mine = (covered >> self.layer) & 1 == 1
            self.covered_disbursed_fen += int(principal_fen[mine].sum())
            if self.account == AccountKind.GUARANTOR_CAPITAL:
                self.turned_away_fen += int(principal_fen[~mine].sum())

    def _hide_float(self, platform) -> None:
        """A sizing study's float is not the platform's money: its policies do not see it."""
        if platform is self.platform:
            platform.layer_states[self.layer].guarantee_fund_fen -= self.float_fen
            if self.layer == 0:
                platform.state.guarantee_fund_fen -= self.float_fen


def sizing_market(task: "PathTask") -> tuple[P2PMarket, ReserveWatch]:
    """The market of one path (one thread, no audit, no reports), its reserve and book watched."""
    market = P2PMarket(task.scenario, rng=task.seed, audit="off", threads=1, collect=False,
                       macro_shocks=np.asarray(task.shocks, dtype=np.float64),
                       **{**task.overrides, "run.horizon_days": task.horizon_days})
    return market, ReserveWatch(market, task.platform, task.account)


@dataclass
class PathTask:
    """One path: the scenario, its seed, its macro shocks and what to measure."""

    path: int
    seed: int
    shocks: list[float]
    scenario: str | dict
    overrides: dict[str, Any] = field(default_factory=dict)
    platform: int = 0
    horizon_days: int = 1080
    initial_reserve_fen: int = 0
    contribution_rate: float = 0.0
    fee_share: float = 0.0
    account: str = AccountKind.RESERVE_FUND  # the layer sized: its account
    solve: Any = None  # root-finding: a sim.reserve.solver.Unknown (None: one run answers)
    search: Any = None  # root-finding: the sim.reserve.solver.Search the last round left
    steps: int | None = None  # root-finding: runs at most in this task (None: until solved)


def run_path(task: PathTask) -> dict[str, Any]:
    """Run one path and return its record: monthly series and the path's requirements.

    The record's money is in CNY. Monthly series (one value per month of the horizon):
    ``net_outflow`` ``D`` at the month's end, ``max_net_outflow`` (running maximum of ``D`` over
    the days so far), ``payouts``, ``inflows``, ``defaulted`` (principal written off) and
    ``recovered``, each within the month. With ``task.solve`` the unknown is root-found
    (:mod:`sim.reserve.solver`) and the series are those of the run at the scenario's value.
    """
    started = time.perf_counter()
    record: dict[str, Any] = {"path": task.path, "seed": task.seed}
    try:
        record.update(solve_path(task, measure) if task.solve is not None else measure(task))
        record["status"] = "ok"
    except Exception:  # noqa: BLE001 - a failed path is recorded, the others go on
        record["status"] = "failed"
        record["error"] = describe_failure()
    record["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


def measure(task: PathTask) -> dict[str, Any]:
    """One run of the path with the float: its series and its one-run answers."""
    model = None
    try:
        model, watch = sizing_market(task)
        return _follow(model, watch, task)
    finally:
        if model is not None:
            model.release()  # free its books now, not when the cyclic collector next runs


def _follow(model: P2PMarket, watch: ReserveWatch, task: PathTask) -> dict[str, Any]:
    """Step the market to the horizon, reading the reserve every day."""
    platform = model.platforms[task.platform]
    reserve = platform.layers[watch.layer]
    start_balance = model.bookkeeper.balance(platform, watch.account)
    days = task.horizon_days
    net = np.empty(days, dtype=np.int64)         # D(t), fen
    covered = np.empty(days, dtype=np.int64)     # V(t), fen
    fees = np.empty(days, dtype=np.int64)        # F(t), fen
    month_paid, month_defaulted, month_recovered = [], [], []
    funding = 0  # what the platform itself pays into its protection: top-ups, premiums
    book_need = 0  # the most capital the whole book asked of a guarantor on any day, fen
    capital = getattr(reserve, "capital_fen", 0)
    limit = getattr(getattr(reserve, "params", None), "leverage_limit", None)
    released = 0  # what the layer's cap sent back to the platform
    for day in range(days):
        covered_before = watch.covered_disbursed_fen  # V as it stood at the day's payouts
        model.step()
        today = model.today
        funding += (today.reserve_top_up_fen - today.reserve_release_fen
                    + today.insurance_premium_fen)
        released += today.reserve_release_fen
        if limit is not None:  # capital x + (seen balance - x) must carry the book / limit
            seen = watch.balance_after_payouts_fen - watch.float_fen
            book_need = max(book_need, int(platform.state.outstanding_fen / limit)
                            - (seen - capital))
        net[day] = start_balance - watch.balance_after_payouts_fen
        covered[day] = covered_before
        fees[day] = watch.fees_at_payouts_fen
        if (day + 1) % DAYS_PER_MONTH == 0 or day + 1 == days:
            month_paid.append(reserve.paid_fen)
            month_defaulted.append(platform.defaulted_fen_total)
            month_recovered.append(platform.recovered_fen_total)
    ends = np.minimum(np.arange(DAYS_PER_MONTH, days + DAYS_PER_MONTH, DAYS_PER_MONTH), days) - 1
    running_max = np.maximum.accumulate(net)
    paid = np.diff(month_paid, prepend=0)
    net_by_month = np.diff(net[ends], prepend=0)
    required = max(0.0, float(running_max[-1]) / 100)
    turned_away = watch.turned_away_fen / max(watch.covered_disbursed_fen, 1)
    if turned_away > TURNED_AWAY_TOLERANCE:  # too little capital to guarantee the whole book:
        # at least what the book asked of it, and capital in proportion to the book left out
        required = max(required, book_need / 100, capital / 100 * (1 + turned_away) + 1000.0)
    return {
        "required_reserve": required,
        "required_rate": _required_rate(net, covered, task.initial_reserve_fen,
                                        task.contribution_rate),
        "required_fee_share": _required_rate(net, fees, task.initial_reserve_fen, task.fee_share),
        "net_outflow": (net[ends] / 100).tolist(),
        "max_net_outflow": (running_max[ends] / 100).tolist(),
        "payouts": (paid / 100).tolist(),
        "inflows": ((paid - net_by_month) / 100).tolist(),
        "defaulted": (np.diff(month_defaulted, prepend=0) / 100).tolist(),
        "recovered": (np.diff(month_recovered, prepend=0) / 100).tolist(),
        "unpaid_claims": platform.guarantee.unpaid_fen / 100,
        "covered_disbursed": float(covered[-1]) / 100,
        "released": released / 100,
        "platform_funding": (funding + sum(layer.fee_share for layer in platform.layers)
                             * platform.shareable_fees_fen) / 100,
        **watch.book.record(),
    }


def _required_rate(net: np.ndarray, covered: np.ndarray, reserve_fen: int, rate: float) -> float:
    """Smallest rate >= 0 on base ``covered`` keeping ``D(t) <= reserve`` every day (inf if none).

    The base is ``V(t)`` for the contribution rate and ``F(t)`` for the fee share.
    """
    excess = net.astype(np.float64) + rate * covered - reserve_fen  # D_0(t) - R
    if (excess[covered == 0] > 0).any():
        return float("inf")
    paying = covered > 0
    if not paying.any():
        return 0.0
    return max(0.0, float(np.max(excess[paying] / covered[paying])))
