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

from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH
from sim.money import to_fen
from sim.runs.failure import fail, take
from sim.runs.liquidity import pay_from_own_cash


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
        self._run_events(market.config.runs)

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

    def _run_events(self, runs) -> None:
        for event in runs.events:
            hit = [p for p in self.market.platforms if not event.platforms or p.name in event.platforms]
            for platform in hit:
                self.on(event.day, RUN_EVENTS.get(event.kind, trust_event), platform, event)


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


def trust_event(market, day: int, platform, event) -> None:
    """Bad press, a data breach, a regulator's notice, a police investigation: trust falls."""
    market.runs.trust.shock(platform.index, event.trust_shock)


def data_breach(market, day: int, platform, event) -> None:
    """A security breach: trust falls, money is stolen, the platform is down, repairs cost.

    The attackers reach the platform's own cash and, without custody (资金存管), every account
    fleeing operators could (:func:`sim.runs.failure.reachable_kinds`); investors' share of it is
    their loss to ``stolen``. Remediation is paid from the platform's cash (capital calls within
    their limit, else it fails, as for every cost).
    """
    trust_event(market, day, platform, event)
    kinds = (None if not platform.config.liquidity.custody
             else [AccountKind.PLATFORM_CASH])
    stolen = take(market, platform, event.stolen_share, kinds, Memo.STOLEN_IN_BREACH, "stolen")
    platform.run.stolen_fen += stolen
    platform.down_until_day = max(platform.down_until_day, day + event.downtime_days)
    cost = to_fen(event.remediation_cny)
    paid = pay_from_own_cash(market, platform, WORLD, cost, Memo.BREACH_REMEDIATION)
    if paid < cost:
        platform.unpaid_costs_fen += cost - paid
        fail(market, platform, day, "cannot pay for the breach's remediation")


def liquidity_shock(market, day: int, platform, event) -> None:
    """A share of the platform's investors need all their money today (Diamond-Dybvig)."""
    market.runs.liquidity_shock(platform, event.share, day)


def operators_flee(market, day: int, platform, event) -> None:
    """The operators leave with what they can reach (跑路)."""
    fail(market, platform, day, "operators fled", how="flee")


def wind_down_order(market, day: int, platform, event) -> None:
    """A regulator orders an orderly exit (良性退出)."""
    fail(market, platform, day, "regulator's order", how="wind_down")


RUN_EVENTS = {"liquidity_shock": liquidity_shock, "operators_flee": operators_flee,
              "data_breach": data_breach,
              "wind_down_order": wind_down_order}
