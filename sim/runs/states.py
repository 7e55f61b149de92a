"""Every platform's state (docs/runs.md): normal, 提现困难, and the three ways it ends.

One state machine for every platform of a market, in full detail or pooled
(:class:`RunStates`): the states are one vector, and the one rule moves them. What differs by
resolution is only how a platform tells the machine it is late with its investors' withdrawals:
a detailed platform by the oldest request in its queue (``delay_limit_days``), a pooled one by
what it promised on demand and could not pay (``difficulty_share`` of its investors' money).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


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


class RunStates:
    """The state of every platform of a market, and the one machine that moves it.

    Vectors by platform index (a market's detailed platforms first, then an industry's pooled
    ones): ``state`` (:class:`RunState` values), ``difficulty_since`` (the day 提现困难 began, -1)
    and ``failed_day`` (the day it failed by any exit, -1). Only this class writes them
    (``tests/test_style.py``).
    """

    def __init__(self, n: int) -> None:
        self.state = np.full(n, RunState.NORMAL, dtype=np.int8)
        self.difficulty_since = np.full(n, -1, dtype=np.int32)
        self.failed_day = np.full(n, -1, dtype=np.int32)

    def operating(self) -> np.ndarray:
        """Bool per platform: not failed (normal or in 提现困难)."""
        return self.state < RunState.WIND_DOWN

    def update(self, platforms: np.ndarray, late: np.ndarray, day: int,
               fail_after_days: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """The day's move of ``platforms`` (indices), ``late[i]`` whether each is late today.

        Normal and late: 提现困难 from today. In 提现困难 and no longer late: normal again. In
        提现困难 for ``fail_after_days`` days: failing (the caller says how, :meth:`fail`).
        Failed platforms do not move. Returns the platforms that entered 提现困难 today and those
        failing today (indices).
        """
        platforms = np.asarray(platforms, dtype=np.int64)
        late = np.asarray(late, dtype=bool)
        state = self.state[platforms]
        entered = platforms[(state == RunState.NORMAL) & late]
        trouble = state == RunState.WITHDRAWAL_DIFFICULTY
        recovered = platforms[trouble & ~late]
        waited = day - self.difficulty_since[platforms]
        failing = platforms[trouble & late & (waited >= fail_after_days)]
        self.state[entered] = RunState.WITHDRAWAL_DIFFICULTY
        self.difficulty_since[entered] = day
        self.state[recovered] = RunState.NORMAL
        self.difficulty_since[recovered] = -1
        return entered, failing

    def fail(self, platforms, state: RunState | np.ndarray, day: int) -> None:
        """``platforms`` (indices or a mask) fail today into ``state`` (one, or one each)."""
        self.state[platforms] = state
        self.failed_day[platforms] = day


class RunRecord:
    """One platform's run: its state, how it failed, and investors' losses by cause (fen).

    Its state and the days are its row of the market's :class:`RunStates`.

    Losses by cause: ``defaults`` (written-off notes, after recoveries), ``transfer_discount``
    (notes sold below par on the secondary market), ``loans_sold`` (notes sold at a closure or a
    fire sale), ``taken`` (by fleeing operators, 跑路) and ``unpaid`` (withdrawals and products still
    owed at the end of the run).
    """

    def __init__(self, states: RunStates, index: int) -> None:
        self.states, self.index = states, index
        self.failure: str | None = None       # "wind_down", "closure", "flee"
        self.failure_reason: str | None = None
        self.capital_called_fen = 0
        self.first_capital_call_day: int | None = None
        self.taken_fen = 0                    # by the operators (跑路, 挪用)
        self.stolen_fen = 0                   # by attackers in a security breach
        self.self_dealt_fen = 0               # principal lent to the owners' own projects (自融)
        self.loans_sold = 0
        self.losses_fen = dict.fromkeys(LOSS_CAUSES, 0)

    @property
    def state(self) -> RunState:
        """Where the platform stands (its row of the market's states)."""
        return RunState(int(self.states.state[self.index]))

    @property
    def difficulty_since(self) -> int | None:
        """The day 提现困难 began, None when not in it."""
        since = int(self.states.difficulty_since[self.index])
        return None if since < 0 else since

    @property
    def failed_day(self) -> int | None:
        """The day the platform failed, None while it has not."""
        day = int(self.states.failed_day[self.index])
        return None if day < 0 else day

    def add_loss(self, cause: str, amount_fen: int) -> None:
        """Investors lost ``amount_fen`` to ``cause`` (one of :data:`LOSS_CAUSES`)."""
        self.losses_fen[cause] += int(amount_fen)
