"""The market: a Mesa model in which borrowers, investors and platforms meet, day by day.

:class:`P2PMarket` builds the parts and runs the day in order; each part owns its state and is in
its own module of :mod:`sim.market` (docs/architecture.md has the map). Mesa's ``model.time`` counts
days (the calendar is 30/360: a month is 30 days). Day ``d`` opens at time ``d`` with its dated
events (:mod:`sim.market.events`): on days ``30 m`` the month's opening (:mod:`sim.market.month`:
platforms review their state and adapt, investors deposit and withdraw, costs, marketing, fund
pools), and the scenario's stress events. Then its business, one Mesa step:

1. servicing (还款, :mod:`sim.market.servicing`): loans due today pay, prepay, miss or cure;
2. arrears (逾期, :mod:`sim.market.arrears`): write-offs past ``default_after_days`` with their
   recovery, guarantee payouts for covered loans reaching their trigger (代偿), the M1-M3 buckets;
   then runs (:mod:`sim.runs`): trust moves, investors decide, notes change hands (债权转让),
   withdrawal queues are paid and platforms' states change;
3. applications (:mod:`sim.market.marketplace`): borrowers apply, approved ones are listed (发标);
4. bids: investors auto-invest in open listings (自动投标), fund pools fill their own;
5. closing: full listings are disbursed (满标放款), those past their window fail (流标);
6. the day's report row (:mod:`sim.market.reports`) and the audit (:mod:`sim.market.audit`).

Every movement of money is booked in :attr:`P2PMarket.ledger` through the bookkeeper
(:mod:`sim.market.accounts`); the audit after each step checks the books balance to the fen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numba
import numpy as np

from sim.agents import BorrowerPopulation, InvestorPopulation, Platform
from sim.book import LoanBook
from sim.industry import events as industry_events
from sim.industry.part import Industry
from sim.ledger import HELD_KINDS, AccountKind, Ledger
from sim.loans import DAYS_PER_MONTH, DAYS_PER_YEAR, MAX_TERM_MONTHS
from sim.market.accounts import Bookkeeper
from sim.market.arrears import Arrears
from sim.market.audit import audit
from sim.market.events import Calendar
from sim.market.hooks import Hooks
from sim.market.marketplace import Marketplace
from sim.market.month import open_month
from sim.market.opening import open_books
from sim.market.reports import Reports
from sim.market.risk_tables import RiskTables
from sim.market.servicing import Servicing
from sim.market.treasury import Treasury
from sim.reporters import DayCounters
from sim.runs.part import Runs
from sim.runs.states import RunStates
from sim.scenario import Scenario, load_scenario

STREAMS = ("macro", "borrowers", "investors", "funding", "servicing", "opening_book", "marketing",
           "runs", "industry")  # a new stream goes last: SeedSequence children keep their index
AUDIT_LEVELS = ("off", "step", "full")


class P2PMarket(mesa.Model):
    """A P2P lending market of one or more platforms.

    Parameters
    ----------
    scenario : str, Path, dict, Scenario or None
        A scenario file (TOML), its parsed content, a :class:`Scenario`, or None for the defaults.
    rng : int or None
        Seed of the run; None takes ``run.seed`` from the scenario. Every component draws from its
        own stream spawned from ``numpy.random.SeedSequence(seed)``.
    audit : {"off", "step", "full"}
        After each step check nothing, the ledger's totals and the investors' sub-ledger (cheap), or
        also every loan and note against the ledger (for tests).
    threads : int or None
        Threads for servicing the day's due loans (default: numba's, one per core); numba's
        parallel regions in this process use no more. Results do not depend on it, bit for bit;
        use 1 inside a process pool of one run per core.
    macro_shocks : numpy.ndarray or None
        The macro factor's standard-normal shocks, one per month (``horizon_days // 30 + 2``),
        instead of drawing them from the ``macro`` stream: the reserve study samples them.
    collect : bool
        Keep the daily and monthly reports (False: a study that reads what it needs by hooks).
    **overrides
        Scenario keys by path with ``__`` for ``.``, e.g. ``macro__asset_correlation=0.1``,
        ``platforms__0__service_fee=0.02``, ``run__horizon_days=360``.
    """

    def __init__(self, scenario: str | Path | dict | Scenario | None = None, *,
                 rng: int | None = None, audit: str = "step", threads: int | None = None,
                 macro_shocks: np.ndarray | None = None, collect: bool = True,
                 **overrides: Any) -> None:
        config = load_scenario(scenario, overrides)
        seed = config.run.seed if rng is None else int(rng)
        super().__init__(rng=seed)
        if audit not in AUDIT_LEVELS:
            raise ValueError(f"audit must be one of {AUDIT_LEVELS}, got {audit!r}")
        self.config, self.seed, self.audit_level = config, seed, audit
        self.threads = _servicing_threads(threads)
        self.horizon_days = config.run.horizon_days
        streams = np.random.SeedSequence(seed).spawn(len(STREAMS))
        self.seeds = dict(zip(STREAMS, streams, strict=True))
        self.rngs = {name: np.random.default_rng(s) for name, s in zip(STREAMS, streams)}
        self.hooks = Hooks()
        self.today = DayCounters(day=0)
        self.totals = {"loans_outstanding": 0, "investor_income_fen": 0, "claim_days_fen": 0,
                       "loan_months": 0}
        self._build_parts(config, macro_shocks, collect)
        open_books(self)
        self.calendar = Calendar(self)
        if self.industry is not None:
            industry_events.schedule(self.calendar, self.industry)
        self.audit(full=audit == "full")

    def _build_parts(self, config: Scenario, macro_shocks, collect: bool) -> None:
        self.industry = None if config.industry is None else Industry(config, self.seeds["industry"])
        names = self.industry.names if self.industry else [p.name for p in config.platforms]
        self.ledger = Ledger(names, journal_days=DAYS_PER_MONTH if self.industry else 1)
        self.run_states = RunStates(len(names))  # every platform's state, one machine
        self.platforms = [Platform(self, i, p, config) for i, p in enumerate(config.platforms)]
        self.bookkeeper = Bookkeeper(self.ledger, self.platforms)
        self.risk_tables = RiskTables(config, self.platforms, self.rngs["macro"], macro_shocks)
        self.borrowers = BorrowerPopulation(config.borrowers, config.grades, self.rngs["borrowers"])
        members = None
        if self.industry is not None:
            members = self.industry.members_of_detailed(config.investors.count if self.platforms
                                                        else 0)
        self.investors = InvestorPopulation(config.investors,
                                            [p.investor_share for p in config.platforms],
                                            list(config.grades.names), self.rngs["investors"],
                                            industry_id=members)
        self.investors.platform_names = [p.name for p in self.platforms]
        if self.industry is not None:
            self.investors.next_industry_id = config.industry.investors
            self.industry.attach(self)
        self.book = LoanBook(-DAYS_PER_MONTH * MAX_TERM_MONTHS, self.horizon_days,
                             list(config.grades.names))
        if self.industry is not None:
            self.book.renumbering.append(self.industry.co_debt.renumber)
        self.treasury = Treasury(self.bookkeeper, self.investors)
        self.marketplace = Marketplace(self)
        self.servicing = Servicing(self)
        self.arrears = Arrears(self)
        self.runs = Runs(self)
        self.reports = Reports(self, collect)

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        """Run one day's business (Mesa calls it at the end of the day's unit of time)."""
        day = int(self.time) - 1
        self.ledger.day = self.book.today = self.today.day = day
        self.servicing.service(day)
        self.arrears.close_day(day)
        self.hooks.payouts_done(day)
        self.runs.close_day(day)
        if self.industry is not None:
            self.industry.liquidity_day(day)
        self.marketplace.take_applications(day)
        self.marketplace.take_bids(day)
        self.marketplace.close_listings(day)
        if self.industry is not None:
            self.industry.lend(day)
            self.industry.close_day(day)
        if self.audit_level != "off":
            self.audit(full=self.audit_level == "full")
        self.reports.close_day(day)
        self.ledger.day = self.book.today = day + 1  # the next day's opening books on its date
        self.today = DayCounters(day=day + 1)
        if day + 1 >= self.horizon_days:
            self.running = False

    def open_month_now(self) -> None:
        """The month's opening, at the start of today (a scheduled event, see :mod:`sim.market.events`)."""
        open_month(self, self.day)
        if self.industry is not None:
            self.industry.open_month(self.day)

    def run(self, days: int | None = None, progress=None) -> None:
        """Run ``days`` more days (default: to the horizon), calling ``progress(n)`` every 30 days."""
        end = self.horizon_days if days is None else min(self.horizon_days, self.day + days)
        while self.day < end:
            self.step()
            if progress is not None and (self.day % DAYS_PER_MONTH == 0 or self.day == end):
                progress(self.day)

    @property
    def day(self) -> int:
        """Days run so far (Mesa's ``time``): the day that opens next, or is opening now."""
        return int(self.time)

    @property
    def month(self) -> int:
        """Current month of the run (day // 30)."""
        return self.day // DAYS_PER_MONTH

    @property
    def datacollector(self) -> mesa.DataCollector | None:
        """The day's rows and the ``platforms`` and ``marketing`` tables (None if not collected)."""
        return self.reports.datacollector

    def audit(self, full: bool = False) -> None:
        """Check the books (:func:`sim.market.audit.audit`); raise LedgerError on a fen's difference."""
        audit(self, full)

    def release(self) -> None:
        """Drop the books (loans, notes, listings, bids, populations) once a run has been read.

        Mesa's model is held in reference cycles (its scenario, event generator, agents), which
        only the cyclic garbage collector frees, and it runs rarely when a program allocates few
        but large arrays: a worker running market after market would keep them all. Releasing
        the large tables frees their memory at once; the model cannot step afterwards.
        """
        if self.book is not None:  # the parts told of renumbered rows hold the book too
            self.book.renumbering.clear()
        self.book = self.borrowers = self.investors = self.industry = None
        self.marketplace = self.arrears = self.servicing = self.runs = None
        self.running = False

    # ------------------------------------------------------------------ reading the state

    def claims_fen(self) -> int:
        """Investors' outstanding principal on all platforms (fen), from the ledger."""
        return self.bookkeeper.total(AccountKind.INVESTOR_CLAIMS)

    def outstanding_fen(self) -> int:
        """Outstanding principal of all active loans (fen): investors' claims and held claims."""
        return self.claims_fen() + sum(self.account_total(kind) for kind in HELD_KINDS)

    def account_total(self, kind: str) -> int:
        """Sum over platforms of one account kind, fen."""
        return self.bookkeeper.total(kind)

    def investor_return_annual(self) -> float:
        """Investors' realised return so far, annual: income net of fees and losses / average claims."""
        claim_years = self.totals["claim_days_fen"] / DAYS_PER_YEAR
        return self.totals["investor_income_fen"] / claim_years if claim_years > 0 else 0.0


def _servicing_threads(threads: int | None) -> int:
    """Threads for servicing, 1 .. numba's; numba's parallel regions in this process use no more."""
    available = numba.config.NUMBA_NUM_THREADS
    chosen = available if threads is None else int(threads)
    if not 1 <= chosen <= available:
        raise ValueError(f"threads must be 1..{available}, got {threads}")
    numba.set_num_threads(chosen)
    return chosen
