"""The market's calendar: dated events on Mesa's event list.

Mesa's ``model.time`` counts days. Day ``d`` opens at time ``d``: its dated events run then, the
scenario's stress events (priority DEFAULT) before the month's opening on days ``30 m`` (LOW). Its
business (servicing, arrears, applications, bids, closing) is Mesa's step, which runs at the end of
the day's unit of time, ``d + 1`` (HIGH: before the next day's events). A new kind of dated event is
a new function here, scheduled with :meth:`Calendar.on`.
"""

from __future__ import annotations

from collections.abc import Callable

from mesa.time import Priority, Schedule

from sim.loans import DAYS_PER_MONTH


class DatedEvent:
    """``action(market, day, *args)`` on ``day`` (Mesa keeps a weak reference to it)."""

    def __init__(self, market, day: int, action: Callable, args: tuple) -> None:
        self.market, self.day, self.action, self.args = market, day, action, args

    def __call__(self) -> None:
        """Run the action."""
        self.action(self.market, self.day, *self.args)


class Calendar:
    """Schedules the month openings and the scenario's stress events of a market.

    Parameters
    ----------
    market : P2PMarket
        The market; ``market.open_month(day)`` runs each month's opening.
    """

    def __init__(self, market) -> None:
        self.market = market
        self.horizon_days = market.horizon_days
        self.events: list[DatedEvent] = []  # alive as long as the market: Mesa holds weak references
        market.schedule_recurring(market.open_month_now, Schedule(
            interval=DAYS_PER_MONTH, start=0, end=self.horizon_days - 1), priority=Priority.LOW)
        self._stress_events(market.config.stress)

    def on(self, day: int, action: Callable, *args) -> None:
        """Run ``action(market, day, *args)`` at the opening of ``day`` (if within the run)."""
        if not 0 <= day < self.horizon_days:
            return
        event = DatedEvent(self.market, day, action, args)
        self.events.append(event)
        self.market.schedule_event(event, at=day, priority=Priority.DEFAULT)

    def _stress_events(self, stress) -> None:
        for window in stress.recession:
            self.on(DAYS_PER_MONTH * window.start_month, recession, window)
        for platform in self.market.platforms:
            if not platform.stressed:
                continue
            if stress.guarantee_fails_month is not None:
                self.on(DAYS_PER_MONTH * stress.guarantee_fails_month, guarantee_fails, platform)
            if stress.funding_freeze_month is not None:
                self.on(DAYS_PER_MONTH * stress.funding_freeze_month, funding_freeze, platform)


# ----------------------------------------------------------------------------- the events


def recession(market, day: int, window) -> None:
    """A recession starts: default hazards multiplied for its months (on top of the macro factor)."""
    market.risk_tables.recession(window.start_month, window.months, window.hazard_multiplier)


def guarantee_fails(market, day: int, platform) -> None:
    """The platform's guarantee fails: from today it pays and covers nothing more."""
    platform.guarantee.fail(day)


def funding_freeze(market, day: int, platform) -> None:
    """The platform's lending is frozen (a regulator's order, a bank run): no new listings."""
    platform.frozen = True
