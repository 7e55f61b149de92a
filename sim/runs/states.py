"""A platform's state in a run (docs/runs.md): normal, 提现困难, and the three ways it ends."""

from __future__ import annotations

from enum import IntEnum


class RunState(IntEnum):
    """Where a platform stands; the value is the ``state`` column of the daily platform rows.

    NORMAL pays every withdrawal within ``delay_limit_days``. WITHDRAWAL_DIFFICULTY (提现困难): a
    request has waited longer. Then it fails one of three ways: WIND_DOWN (良性退出: no new loans,
    loans collected and paid out over time), CLOSED (清盘: loans sold, what they fetch shared, the
    rest lost) or FLED (跑路: the operators left with what they could reach, then closure).
    """

    NORMAL = 0
    WITHDRAWAL_DIFFICULTY = 1
    WIND_DOWN = 2
    CLOSED = 3
    FLED = 4

    @property
    def failed(self) -> bool:
        """True once the platform has failed (wind-down, closure or flight)."""
        return self >= RunState.WIND_DOWN

    @property
    def label(self) -> str:
        """The name users know it by."""
        return STATE_LABELS[self]


STATE_LABELS = {RunState.NORMAL: "normal", RunState.WITHDRAWAL_DIFFICULTY: "提现困难",
                RunState.WIND_DOWN: "良性退出", RunState.CLOSED: "清盘", RunState.FLED: "跑路"}
FAILURE_STATES = {"wind_down": RunState.WIND_DOWN, "closure": RunState.CLOSED,
                  "flee": RunState.FLED}


LOSS_CAUSES = ("defaults", "transfer_discount", "loans_sold", "taken", "stolen", "unpaid")


class RunRecord:
    """One platform's run: its state, how it failed, and investors' losses by cause (fen).

    Losses by cause: ``defaults`` (written-off notes, after recoveries), ``transfer_discount``
    (notes sold below par on the secondary market), ``loans_sold`` (notes sold at a closure or a
    fire sale), ``taken`` (by fleeing operators, 跑路) and ``unpaid`` (withdrawals and products still
    owed at the end of the run).
    """

    def __init__(self) -> None:
        self.state = RunState.NORMAL
        self.difficulty_since: int | None = None  # day 提现困难 began
        self.failed_day: int | None = None
        self.failure: str | None = None       # "wind_down", "closure", "flee"
        self.failure_reason: str | None = None
        self.capital_called_fen = 0
        self.first_capital_call_day: int | None = None
        self.taken_fen = 0                    # by the operators (跑路, 挪用)
        self.stolen_fen = 0                   # by attackers in a security breach
        self.self_dealt_fen = 0               # principal lent to the owners' own projects (自融)
        self.loans_sold = 0
        self.losses_fen = dict.fromkeys(LOSS_CAUSES, 0)

    def add_loss(self, cause: str, amount_fen: int) -> None:
        """Investors lost ``amount_fen`` to ``cause`` (one of :data:`LOSS_CAUSES`)."""
        self.losses_fen[cause] += int(amount_fen)
