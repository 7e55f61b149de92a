"""The market: a Mesa model in which borrowers, investors and platforms meet, day by day.

One step of :class:`P2PMarket` is one day (the calendar is 30/360: a month is 30 days). A day runs:

1. on the first day of a month (:mod:`sim.month`): the macro factor moves, each platform reads its
   state and its policies adapt, investors deposit and withdraw (提现), platforms pay their costs,
   marketing brings investors and borrowers and churn takes investors away, fund pools redeem;
2. servicing (还款): loans due today pay, prepay, miss an instalment or cure their arrears, and each
   payment is split among the loan's note holders (and its holder, see below) to the fen;
3. arrears (逾期): days past due advance, loans are counted in buckets M1 (1-30), M2 (31-60),
   M3 (61-90), those past ``default_after_days`` are written off with their recovery, and the
   guarantees pay for covered loans reaching their trigger (代偿);
4. applications: borrowers arrive, the platform's pricing and risk policies price and review them,
   approved ones are listed (发标);
5. funding: investors auto-invest in open listings (自动投标), fund pools fill their own;
6. closing: full listings are disbursed (满标 -> 放款), listings whose window has passed fail (流标)
   and their bids go back to the investors.

Every movement of money is booked in :attr:`P2PMarket.ledger`; the audit after each step checks the
books balance to the fen and agree with the investors' and loans' own balances.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mesa
import numba
import numpy as np

from sim import kernels
from sim.agents import BorrowerPopulation, InvestorPopulation, Platform
from sim.book import MAX_DUE_MONTHS, LoanBook
from sim.columns import Columns
from sim.kernels import ACTIVE
from sim.ledger import WORLD, Ledger, LedgerError
from sim.loans import DAYS_PER_MONTH, MAX_TERM_MONTHS, balances_after
from sim.macro import conditional_hazard, factor_path
from sim.money import to_fen
from sim.month import run_fund_pool, run_marketing, update_states
from sim.policies.guarantee import NoGuarantee
from sim.reporters import MARKETING_COLUMNS, MODEL_REPORTERS, PLATFORM_COLUMNS, DayCounters
from sim.scenario import Scenario, load_scenario

STREAMS = ("macro", "borrowers", "investors", "funding", "servicing", "opening_book", "marketing")
OPEN, FUNDED, FAILED = 0, 1, 2
AUDIT_LEVELS = ("off", "step", "full")
PARALLEL_MIN_ROWS = 20_000  # fewer due loans than this in a day are serviced on one thread

APPLICANT_COLUMNS = ("grade", "score", "amount_fen", "term", "method", "income_fen", "dti",
                     "rate_tolerance", "kind", "debt_elsewhere_fen")
LISTING_SCHEMA = {
    "platform": np.int16, "borrower": np.int64, "grade": np.int8, "method": np.int8,
    "term": np.int16, "annual_rate": np.float64, "amount": np.int64, "funded": np.int64,
    "opened_day": np.int32, "deadline_day": np.int32, "status": np.int8,
    "hazard_mult": np.float64, "loan": np.int64, "closed_day": np.int32,
}


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
    **overrides
        Scenario keys by path with ``__`` for ``.``, e.g. ``macro__asset_correlation=0.1``,
        ``platforms__0__service_fee=0.02``, ``run__horizon_days=360``.
    """

    def __init__(self, scenario: str | Path | dict | Scenario | None = None, *,
                 rng: int | None = None, audit: str = "step", threads: int | None = None,
                 macro_shocks: np.ndarray | None = None, **overrides: Any) -> None:
        config = load_scenario(scenario, overrides)
        seed = config.run.seed if rng is None else int(rng)
        super().__init__(rng=seed)
        if audit not in AUDIT_LEVELS:
            raise ValueError(f"audit must be one of {AUDIT_LEVELS}, got {audit!r}")
        self.config = config
        self.seed = seed
        self.audit_level = audit
        self.threads = numba.config.NUMBA_NUM_THREADS if threads is None else int(threads)
        if not 1 <= self.threads <= numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"threads must be 1..{numba.config.NUMBA_NUM_THREADS}, got {threads}")
        numba.set_num_threads(self.threads)  # numba's parallel regions use no more (process-wide)
        self.horizon_days = config.run.horizon_days
        self.day = 0
        streams = np.random.SeedSequence(seed).spawn(len(STREAMS))
        self.rngs = {name: np.random.default_rng(s) for name, s in zip(STREAMS, streams)}
        self.macro_shocks = macro_shocks
        self.sizing_float_fen = 0  # lent to a reserve by a sizing study (sim.reserve); not its own

        self.ledger = Ledger()
        self.platforms = [Platform(self, i, p, config) for i, p in enumerate(config.platforms)]
        for platform in self.platforms:
            for account in platform.accounts.values():
                self.ledger.open(account)
        self._setup_risk_tables()
        self.borrowers = BorrowerPopulation(config.borrowers, config.grades, self.rngs["borrowers"])
        self.investors = InvestorPopulation(config.investors,
                                            [p.investor_share for p in config.platforms],
                                            list(config.grades.names), self.rngs["investors"])
        self.investors.platform_names = [p.name for p in self.platforms]
        self.book = LoanBook(-DAYS_PER_MONTH * MAX_TERM_MONTHS, self.horizon_days,
                             list(config.grades.names))
        self.listings = Columns(LISTING_SCHEMA, capacity=4096)
        self.open_listings = np.zeros(0, dtype=np.int64)
        self.bids = {"listing": np.zeros(0, np.int64), "investor": np.zeros(0, np.int64),
                     "amount": np.zeros(0, np.int64)}
        n_days = len(self.book.block_start)
        self.arrears_count = np.zeros(n_days, dtype=np.int64)    # by day of first missed payment
        self.arrears_balance = np.zeros(n_days, dtype=np.int64)  # fen, same index
        self._missed_on: dict[int, np.ndarray] = {}              # rows that first missed on a day
        self._investor_order = np.arange(len(self.investors))
        self._order_pointer = 0
        self.min_bid_fen = to_fen(config.investors.min_bid_cny)

        self.today = DayCounters()
        self.totals = {"loans_outstanding": 0, "investor_income_fen": 0, "claim_days_fen": 0,
                       "loan_months": 0}
        self._pool_platform = np.array([p.is_fund_pool for p in self.platforms])
        self._open_books()
        self.datacollector = mesa.DataCollector(model_reporters=MODEL_REPORTERS,
                                                tables={"platforms": PLATFORM_COLUMNS,
                                                        "marketing": MARKETING_COLUMNS})
        self.audit(full=audit == "full")

    # ------------------------------------------------------------------ set-up

    def _setup_risk_tables(self) -> None:
        """Monthly macro factor, and per month and grade the miss hazard implied by the default one.

        A borrower who misses an instalment defaults unless they cure on one of the
        ``default_after_days / 30`` later due dates, so the miss hazard is the (macro-conditional)
        default hazard divided by ``(1 - cure_probability) ** (default_after_days / 30)``.
        """
        cfg = self.config
        months = self.horizon_days // DAYS_PER_MONTH + 2
        self.macro_factor = factor_path(cfg.macro, months, self.rngs["macro"], self.macro_shocks)
        default_hazard = conditional_hazard(cfg.grades.default_hazard_monthly,
                                            cfg.macro.asset_correlation, self.macro_factor)
        for window in cfg.stress.recession:  # a recession on top of the factor (stress scenarios)
            rows = slice(window.start_month, window.start_month + window.months)
            default_hazard[rows] = np.minimum(1.0, default_hazard[rows] * window.hazard_multiplier)
        cure = cfg.grades.cure_probability
        self.cure_draws = cfg.loans.default_after_days // DAYS_PER_MONTH
        self.miss_hazard = np.minimum(1.0, default_hazard / (1.0 - cure) ** self.cure_draws)
        self.strike_multiplier = np.ones(len(self.platforms))  # 逃废债 on platforms in trouble
        self.prepay_hazard = np.asarray(cfg.grades.prepay_hazard_monthly, dtype=np.float64)
        # collection (催收) by each platform's risk policy: recovery and cure by platform and grade
        n_grades = len(cfg.grades.names)
        self.cure_probability = np.empty((len(self.platforms), n_grades))
        self.recovery_rate = np.empty((len(self.platforms), n_grades))
        for p, platform in enumerate(self.platforms):
            recovery, cure_p = np.asarray(cfg.grades.recovery_rate, np.float64), np.full(n_grades, cure)
            cost = 0
            if callable(getattr(platform.risk, "collection", None)):  # optional in the protocol
                recovery, cure_p, cost = platform.risk.collection(recovery, cure_p)
            self.recovery_rate[p], self.cure_probability[p] = recovery, cure_p
            platform.collection_cost_per_case_fen = int(cost)
        self.penalty_daily_rate = np.array([p.config.penalty_daily_rate for p in self.platforms])
        self.management_fee = np.array([p.config.management_fee for p in self.platforms])
        self.collection_fee = np.array([p.config.collection_fee for p in self.platforms])
        self.service_fee_monthly = np.array([p.service_fee_monthly for p in self.platforms])

    def _open_books(self) -> None:
        """Opening balances: platforms' capital, investors' first deposits, the opening loan book."""
        for platform in self.platforms:
            self.ledger.transfer(WORLD, platform.account("platform_cash"),
                                 to_fen(platform.config.capital_cny), "capital_injection")
            guarantee = platform.guarantee
            if guarantee.account == "reserve_fund":
                cash = self.ledger.balance(platform.account("platform_cash"))
                self.ledger.transfer(platform.account("platform_cash"),
                                     platform.account("reserve_fund"),
                                     min(cash, guarantee.initial_fen), "reserve_initial")
            elif guarantee.account == "guarantor_capital":
                self.ledger.transfer(WORLD, platform.account("guarantor_capital"),
                                     guarantee.capital_fen, "guarantor_capital_injection")
        self._deposit(self.investors.initial_cash_fen)
        if self.config.initial_book.loans:
            self._build_opening_book()

    def _build_opening_book(self) -> None:
        """Loans outstanding on day 0, of uniformly spread ages, owned through notes by investors."""
        cfg, rng = self.config, self.rngs["opening_book"]
        n, per_loan = cfg.initial_book.loans, cfg.initial_book.notes_per_loan
        share = np.array([p.market_share for p in cfg.platforms])
        platform = rng.choice(len(share), size=n, p=share / share.sum()).astype(np.int16)
        profiles = BorrowerPopulation(cfg.borrowers, cfg.grades, rng).draw_profiles(n)
        term = profiles["term"].astype(np.int64)
        days_ago = rng.integers(1, DAYS_PER_MONTH * term)  # 1 .. 30 term - 1
        order = np.argsort(-days_ago, kind="stable")
        rate = np.empty(n)
        covered = np.zeros(n, dtype=np.int8)
        for p, plat in enumerate(self.platforms):
            mine = platform == p
            offered = plat.pricing.price({k: v[mine] for k, v in profiles.items()}, plat.state)
            rate[mine] = np.where(np.isnan(offered), plat.market_rate[profiles["grade"][mine]],
                                  offered)
            covered[mine] = not isinstance(plat.guarantee, NoGuarantee)
        n_paid = (days_ago - 1) // DAYS_PER_MONTH
        balance = balances_after(profiles["amount_fen"], rate, profiles["term"],
                                 profiles["method"], n_paid)
        loans = {
            "borrower": np.full(n, -1), "platform": platform, "grade": profiles["grade"],
            "method": profiles["method"], "term": profiles["term"], "annual_rate": rate,
            "principal": profiles["amount_fen"], "balance": balance, "orig_day": -days_ago,
            "n_paid": n_paid, "status": ACTIVE, "delinquent": 0, "first_missed_day": -1,
            "default_day": -1, "hazard_mult": profiles["hazard_mult"], "held": 0,
            "covered": covered,
        }
        loans = {k: (v[order] if np.ndim(v) else v) for k, v in loans.items()}
        counts = np.full(n, per_loan, dtype=np.int64)
        note_balance = np.repeat(loans["balance"] // per_loan, per_loan)
        note_balance[::per_loan] += loans["balance"] % per_loan
        note_investor = np.empty(n * per_loan, dtype=np.int64)
        for p in range(len(self.platforms)):
            members = np.flatnonzero(self.investors.weight[:, p] > 0)
            if len(members) == 0:
                members = np.arange(len(self.investors))
            mine = np.repeat(loans["platform"] == p, per_loan)
            note_investor[mine] = rng.choice(members, size=int(mine.sum()))
        self.book.append(loans, counts, note_investor, note_balance)
        for p, platform in enumerate(self.platforms):
            opening = int(loans["balance"][loans["platform"] == p].sum())
            self.ledger.transfer(WORLD, platform.account("investor_claims"), opening,
                                 "opening_book")
        self.totals["loans_outstanding"] += n

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        """Advance the market by one day."""
        day = self.day
        self.ledger.day = day
        self.book.today = day
        self.today = DayCounters()
        if day % DAYS_PER_MONTH == 0:
            self._start_month(day)
        self._service(day)
        self._arrears(day)
        self._applications(day)
        self._fund(day)
        self._close_listings(day)
        self._accrue_totals()
        if self.audit_level != "off":
            self.audit(full=self.audit_level == "full")
        self.datacollector.collect(self)
        if (day + 1) % DAYS_PER_MONTH == 0 or day + 1 == self.horizon_days:
            self._snapshot_platforms(day)
        self.day += 1
        if self.day >= self.horizon_days:
            self.running = False

    def run(self, days: int | None = None, progress=None) -> None:
        """Run ``days`` more days (default: to the horizon), calling ``progress(n)`` every 30 days."""
        end = self.horizon_days if days is None else min(self.horizon_days, self.day + days)
        while self.day < end:
            self.step()
            if progress is not None and (self.day % DAYS_PER_MONTH == 0 or self.day == end):
                progress(self.day)

    @property
    def month(self) -> int:
        """Current month of the run (day // 30)."""
        return self.day // DAYS_PER_MONTH

    def _start_month(self, day: int) -> None:
        """The month's turn: platforms review last month and adapt, then money moves.

        Order: platform states and policies' monthly updates; investors' deposits (scaled by their
        response to the platform's rates) and withdrawals (less the withdrawal fee); operating,
        collection and insurance costs; marketing (new investors and borrowers, churn); the fund
        pools' redemptions and subscriptions; a fresh random order of investors for auto-invest.
        """
        investors = self.investors
        month = day // DAYS_PER_MONTH
        self._apply_stress(day)
        update_states(self, day)
        for platform in self.platforms:
            for policy in (platform.pricing, platform.risk, platform.guarantee):
                adapt = getattr(policy, "end_of_month", None)
                if adapt is not None:
                    adapt(platform.state)
            premium = platform.state.rate_premium * 100.0  # percentage points
            platform.demand_multiplier = math.exp(-self.config.borrowers.rate_elasticity * premium)
            platform.supply_multiplier = math.exp(self.config.investors.rate_elasticity * premium)
        if day > 0:
            self._deposit(investors.monthly_deposit_fen,
                          np.array([p.supply_multiplier for p in self.platforms]))
        withdrawals = investors.withdrawals()
        investors.cash -= withdrawals
        for p, platform in enumerate(self.platforms):
            amount = int(withdrawals[:, p].sum())
            fee = int(np.floor(withdrawals[:, p] * platform.config.withdrawal_fee).sum())
            self.ledger.transfer(platform.account("investor_cash"), WORLD, amount - fee, "withdrawal")
            self.ledger.transfer(platform.account("investor_cash"), platform.account("platform_cash"),
                                 fee, "withdrawal_fee")
            self.today.withdrawal_fee_fen += fee
            self._pay_costs(platform)
            run_marketing(self, platform, month)
            if platform.is_fund_pool:
                run_fund_pool(self, platform, month)
        self._investor_order = self.rngs["funding"].permutation(len(investors))

    def _apply_stress(self, day: int) -> None:
        """The scenario's stress events of this month: a guarantee fails, borrowers go on strike.

        A funding freeze is applied where listings are made (:meth:`_applications`).
        """
        stress = self.config.stress
        for p, platform in enumerate(self.platforms):
            if not platform.stressed:
                continue
            if stress.guarantee_fails_month is not None and day == (
                    DAYS_PER_MONTH * stress.guarantee_fails_month):
                platform.guarantee.fail(day)
            if platform.in_trouble(day):
                self.strike_multiplier[p] = stress.strike_hazard_multiplier

    def _pay_costs(self, platform: Platform) -> None:
        """Operating costs, collection costs of loans in arrears, and the insurance premium."""
        state = platform.state
        costs = [("operating_cost", platform.operating_cost_monthly_fen),
                 ("collection_cost", platform.collection_cost_per_case_fen * state.loans_in_arrears)]
        for memo, cost in costs:
            cash = self.ledger.balance(platform.account("platform_cash"))
            paid = min(cash, cost)
            platform.unpaid_costs_fen += cost - paid
            self.ledger.transfer(platform.account("platform_cash"), WORLD, paid, memo)
        premium = int(platform.guarantee.premium_fen(state))
        if premium:
            paid = min(self.ledger.balance(platform.account("platform_cash")), premium)
            self.ledger.transfer(platform.account("platform_cash"), WORLD, paid, "insurance_premium")
            platform.guarantee.record_premium(paid, premium)

    def _deposit(self, amount_fen: np.ndarray, multiplier: np.ndarray | None = None) -> None:
        parts = self.investors.split_by_platform(amount_fen)
        if multiplier is not None:
            parts = np.floor(parts * multiplier[None, :]).astype(np.int64)
        self.investors.cash += parts
        for p, platform in enumerate(self.platforms):
            self.ledger.transfer(WORLD, platform.account("investor_cash"), int(parts[:, p].sum()),
                                 "deposit")

    def _service(self, day: int) -> None:
        book = self.book
        starts, ends, months = book.due_ranges(day, MAX_DUE_MONTHS)
        n_rows = int((ends - starts).sum())
        if n_rows == 0:
            return
        uniforms = self.rngs["servicing"].random(n_rows)
        totals = np.zeros((len(self.platforms), kernels.N_SERVICE), dtype=np.int64)
        new_arrears = np.empty(n_rows, dtype=np.int64)
        loans, notes, investors = book.loans, book.notes, self.investors
        month = min(day // DAYS_PER_MONTH, len(self.miss_hazard) - 1)
        miss_hazard = self.miss_hazard[month][None, :] * self.strike_multiplier[:, None]
        n_new = kernels.service_due_loans(
            day, starts, ends, months, uniforms,
            loans.status, loans.balance, loans.principal, loans.annual_rate, loans.term,
            loans.method, loans.orig_day, loans.n_paid, loans.delinquent, loans.first_missed_day,
            loans.grade, loans.platform, loans.hazard_mult, loans.held,
            loans.note_start, loans.note_end, notes.investor, notes.balance,
            investors.cash, investors.net_income_fen,
            miss_hazard, self.prepay_hazard, self.cure_probability,
            self.penalty_daily_rate, self.management_fee, self.service_fee_monthly, totals,
            new_arrears,
            self.arrears_count, self.arrears_balance, -book.first_day,
            self.threads if n_rows >= PARALLEL_MIN_ROWS else 1)
        if n_new:
            self._missed_on[day] = new_arrears[:n_new].copy()
        for p, platform in enumerate(self.platforms):
            t = totals[p]
            held_p, held_i = int(t[kernels.S_HELD_PRINCIPAL]), int(t[kernels.S_HELD_INTEREST])
            interest_net = int(t[kernels.S_INTEREST] - t[kernels.S_FEE]) - held_i
            self.ledger.transfer(platform.account("investor_claims"),
                                 platform.account("investor_cash"),
                                 int(t[kernels.S_PRINCIPAL]) - held_p, "repayment_principal")
            self.ledger.transfer(WORLD, platform.account("investor_cash"), interest_net,
                                 "repayment_interest")
            self.ledger.transfer(platform.account("held_claims"), platform.holder_account, held_p,
                                 "held_repayment_principal")
            self.ledger.transfer(WORLD, platform.holder_account, held_i, "held_repayment_interest")
            self._book_fee(platform, int(t[kernels.S_FEE]), "management_fee")
            self._book_fee(platform, int(t[kernels.S_SERVICE_FEE]), "service_fee")
            self.today.service_fee_fen += int(t[kernels.S_SERVICE_FEE])
            self.totals["investor_income_fen"] += interest_net
            platform.investor_income_fen += interest_net
        summed = totals.sum(axis=0)
        today = self.today
        today.principal_repaid_fen += int(summed[kernels.S_PRINCIPAL])
        today.interest_fen += int(summed[kernels.S_INTEREST])
        today.penalty_fen += int(summed[kernels.S_PENALTY])
        today.management_fee_fen += int(summed[kernels.S_FEE])
        today.prepayments += int(summed[kernels.S_N_PREPAID])
        today.missed += int(summed[kernels.S_N_MISSED])
        today.cured += int(summed[kernels.S_N_CURED])
        today.loan_months += int(summed[kernels.S_N_DUE])
        closed = int(summed[kernels.S_N_PREPAID] + summed[kernels.S_N_MATURED])
        self.totals["loans_outstanding"] -= closed
        self.totals["loan_months"] += int(summed[kernels.S_N_DUE])

    def _book_fee(self, platform: Platform, fee_fen: int, memo: str) -> None:
        """A fee paid to the platform; the guarantee's ``fee_share`` of it goes to its fund."""
        to_fund = 0
        if platform.guarantee.fee_share and platform.guarantee.account:
            to_fund = int(fee_fen * platform.guarantee.fee_share)
            self.ledger.transfer(WORLD, platform.account(platform.guarantee.account), to_fund,
                                 f"{memo}_to_{platform.guarantee.account}")
        self.ledger.transfer(WORLD, platform.account("platform_cash"), fee_fen - to_fund, memo)

    def _arrears(self, day: int) -> None:
        """Write off loans past the threshold, pay guarantees, count arrears by days past due.

        Loans in arrears are counted by the day of their first missed payment (kept up to date by
        the kernels), so the buckets are sums over 30-day windows of that count, the loans due for
        write-off today are those that first missed exactly ``default_after_days + 1`` days ago, and
        those a guarantee pays for today first missed exactly its ``trigger_days`` ago.
        """
        loans = self.book.loans
        threshold = self.config.loans.default_after_days
        missed = self._missed_on.pop(day - threshold - 1, None)
        if missed is not None:
            still = missed[(loans.status[missed] == ACTIVE)
                           & (loans.first_missed_day[missed] == day - threshold - 1)]
            if len(still):
                self._write_off(day, still)
        for platform in self.platforms:  # after the write-offs: today's recoveries can pay too
            self._guarantee_payouts(day, platform)
        today, offset = self.today, -self.book.first_day
        for name, newest, oldest in (("m1", 1, 30), ("m2", 31, 60), ("m3", 61, 90),
                                     ("m3_plus", 91, threshold)):
            lo, hi = max(day - oldest + offset, 0), max(day - newest + offset + 1, 0)
            setattr(today, f"arrears_{name}", int(self.arrears_count[lo:hi].sum()))
            setattr(today, f"arrears_{name}_fen", int(self.arrears_balance[lo:hi].sum()))

    def _guarantee_payouts(self, day: int, platform: Platform) -> None:
        """代偿: the platform's guarantee pays for its covered loans reaching the trigger today."""
        guarantee = platform.guarantee
        first_missed = day - guarantee.trigger_days
        candidates = self._missed_on.get(first_missed)
        if candidates is None or isinstance(guarantee, NoGuarantee):
            return
        loans = self.book.loans
        rows = candidates[(loans.platform[candidates] == platform.index)
                          & (loans.covered[candidates] == 1) & (loans.status[candidates] == ACTIVE)
                          & (loans.first_missed_day[candidates] == first_missed)]
        if len(rows) == 0:
            return
        source = platform.holder_account
        balance = self.ledger.balance(source) if source != WORLD else 0
        capacity = int(guarantee.capacity_fen(balance))
        totals = np.zeros(kernels.N_BUY_OUT, dtype=np.int64)
        notes = self.book.notes
        kernels.buy_out(rows, day, capacity, guarantee.covers_interest, loans.status, loans.balance,
                        loans.held, loans.principal, loans.annual_rate, loans.term, loans.method,
                        loans.orig_day, loans.n_paid, loans.platform, loans.note_start,
                        loans.note_end, notes.investor, notes.balance, self.investors.cash,
                        self.investors.net_income_fen, totals)
        principal, interest = int(totals[kernels.B_PRINCIPAL]), int(totals[kernels.B_INTEREST])
        self.ledger.transfer(source, platform.account("investor_cash"), principal + interest,
                             "guarantee_payout")
        self.ledger.transfer(platform.account("investor_claims"), platform.account("held_claims"),
                             principal, "claim_to_guarantee")
        guarantee.record_payout(principal + interest, int(totals[kernels.B_ASKED]), day)
        self.totals["investor_income_fen"] += interest
        platform.investor_income_fen += interest
        self.today.guarantee_payouts += int(totals[kernels.B_COUNT])
        self.today.guarantee_payout_fen += principal + interest
        self.today.guarantee_unpaid_fen += int(totals[kernels.B_ASKED]) - principal - interest

    def _write_off(self, day: int, rows: np.ndarray) -> None:
        loans, notes, investors = self.book.loans, self.book.notes, self.investors
        totals = np.zeros((len(self.platforms), kernels.N_WRITE_OFF), dtype=np.int64)
        kernels.write_off(rows, day, loans.status, loans.balance, loans.held, loans.grade,
                          loans.platform,
                          loans.note_start, loans.note_end, notes.investor, notes.balance,
                          investors.cash, investors.net_income_fen, investors.principal_lost_fen,
                          self.recovery_rate, self.collection_fee, loans.default_day, totals,
                          loans.first_missed_day, self.arrears_count, self.arrears_balance,
                          -self.book.first_day)
        for p, platform in enumerate(self.platforms):
            t = totals[p]
            self.ledger.transfer(platform.account("investor_claims"), WORLD,
                                 int(t[kernels.W_PRINCIPAL]), "default_write_off")
            self.ledger.transfer(WORLD, platform.account("investor_cash"),
                                 int(t[kernels.W_RECOVERED]), "recovery")
            self.ledger.transfer(WORLD, platform.account("platform_cash"),
                                 int(t[kernels.W_COLLECTION_FEE]), "collection_fee")
            self.ledger.transfer(platform.account("held_claims"), WORLD,
                                 int(t[kernels.W_HELD_PRINCIPAL]), "held_write_off")
            self.ledger.transfer(WORLD, platform.holder_account, int(t[kernels.W_HELD_RECOVERED]),
                                 "held_recovery")
            income = int(t[kernels.W_RECOVERED] - t[kernels.W_PRINCIPAL])
            self.totals["investor_income_fen"] += income
            platform.investor_income_fen += income
            platform.defaulted_fen_month += int(t[kernels.W_PRINCIPAL] + t[kernels.W_HELD_PRINCIPAL])
            platform.defaulted_fen_total += int(t[kernels.W_PRINCIPAL] + t[kernels.W_HELD_PRINCIPAL])
            platform.recovered_fen_total += int(t[kernels.W_RECOVERED] + t[kernels.W_HELD_RECOVERED])
        summed = totals.sum(axis=0)
        self.today.defaults += int(summed[kernels.W_COUNT])
        self.today.default_principal_fen += int(summed[kernels.W_PRINCIPAL]
                                                + summed[kernels.W_HELD_PRINCIPAL])
        self.today.investor_loss_fen += int(summed[kernels.W_PRINCIPAL] - summed[kernels.W_RECOVERED])
        self.today.recoveries_fen += int(summed[kernels.W_RECOVERED] + summed[kernels.W_HELD_RECOVERED])
        self.today.collection_fee_fen += int(summed[kernels.W_COLLECTION_FEE])
        self.totals["loans_outstanding"] -= int(summed[kernels.W_COUNT])

    def _applications(self, day: int) -> None:
        cfg = self.config.borrowers
        market = cfg.applications_per_day * (1.0 + cfg.growth_per_year) ** (day / 360.0)
        for platform in self.platforms:
            if platform.frozen(day):
                continue
            expected = (market * platform.config.market_share * platform.demand_multiplier
                        + platform.marketing_applications_per_day)
            rows = self.borrowers.arrive(day, platform.index, expected)
            if rows.stop == rows.start:
                continue
            table = self.borrowers.table
            applicants = {k: getattr(table, k)[rows] for k in APPLICANT_COLUMNS}
            listed, rate, amount = platform.review(applicants)
            table.approved[rows] = listed
            self.today.applications += rows.stop - rows.start
            chosen = np.flatnonzero(listed)
            if len(chosen) == 0:
                continue
            new = self.listings.append(
                platform=platform.index, borrower=rows.start + chosen,
                grade=applicants["grade"][chosen], method=applicants["method"][chosen],
                term=applicants["term"][chosen], annual_rate=rate[chosen],
                amount=amount[chosen], funded=0, opened_day=day,
                deadline_day=day + platform.funding_window_days - 1, status=OPEN,
                hazard_mult=table.hazard_mult[rows][chosen], loan=-1, closed_day=-1)
            table.listing[rows.start + chosen] = np.arange(new.start, new.stop)
            self.open_listings = np.concatenate([self.open_listings, np.arange(new.start, new.stop)])
            self.today.new_listings += new.stop - new.start

    def _fund(self, day: int) -> None:
        rows = self.open_listings
        if len(rows) == 0:
            return
        lst = self.listings
        pooled = self._pool_platform[lst.platform[rows]]
        if pooled.any():
            self._fund_from_pools(rows[pooled])
            rows = rows[~pooled]
            if len(rows) == 0:
                return
        need = lst.amount[rows] - lst.funded[rows]
        investors = self.investors
        capacity = int(need.sum() // self.min_bid_fen) + len(rows) + 1
        out_listing = np.empty(capacity, dtype=np.int64)
        out_investor = np.empty(capacity, dtype=np.int64)
        out_amount = np.empty(capacity, dtype=np.int64)
        n_bids, self._order_pointer = kernels.fund_listings(
            rows, need, lst.grade, lst.annual_rate, lst.platform, self._investor_order,
            self._order_pointer, investors.cash, investors.bid_size_fen, investors.max_grade,
            investors.min_rate, self.min_bid_fen, self.config.investors.max_scan_per_listing,
            out_listing, out_investor, out_amount)
        if n_bids == 0:
            return
        bid_rows = rows[out_listing[:n_bids]]
        amounts = out_amount[:n_bids]
        lst.funded[rows] = lst.amount[rows] - need
        for p, platform in enumerate(self.platforms):
            self.ledger.transfer(platform.account("investor_cash"),
                                 platform.account("investor_committed"),
                                 int(amounts[lst.platform[bid_rows] == p].sum()), "bid")
        self.bids = {"listing": np.concatenate([self.bids["listing"], bid_rows]),
                     "investor": np.concatenate([self.bids["investor"], out_investor[:n_bids]]),
                     "amount": np.concatenate([self.bids["amount"], amounts])}

    def _fund_from_pools(self, rows: np.ndarray) -> None:
        """A fund pool lends first (先借后转): it fills its listings at once while its cash lasts.

        A pool with redemptions overdue stops lending and keeps its cash for them.
        """
        lst = self.listings
        for platform in self.platforms:
            if not platform.is_fund_pool or platform.pool_overdue_fen > 0:
                continue
            mine = rows[lst.platform[rows] == platform.index]
            need = lst.amount[mine] - lst.funded[mine]
            cash = self.ledger.balance(platform.account("pool_cash")) - platform.pool_reserved_fen
            fill = np.cumsum(need) <= cash
            lst.funded[mine[fill]] = lst.amount[mine[fill]]
            platform.pool_reserved_fen += int(need[fill].sum())

    def _close_listings(self, day: int) -> None:
        rows = self.open_listings
        if len(rows) == 0:
            return
        lst = self.listings
        full = lst.funded[rows] == lst.amount[rows]
        expired = ~full & (lst.deadline_day[rows] <= day)
        if not (full.any() or expired.any()):
            return
        # every bid is on an open listing: look its state up in a table over the open rows' span
        first = rows[0]
        state_by_row = np.zeros(rows[-1] - first + 1, dtype=np.int8)
        state_by_row[rows[full] - first] = FUNDED
        state_by_row[rows[expired] - first] = FAILED
        state = state_by_row[self.bids["listing"] - first]
        if full.any():
            self._disburse(day, rows[full], state == FUNDED)
        if expired.any():
            self._release(rows[expired], state == FAILED)
        keep = state == OPEN
        self.bids = {k: v[keep] for k, v in self.bids.items()}
        self.open_listings = rows[~(full | expired)]

    def _disburse(self, day: int, listings: np.ndarray, bid_mask: np.ndarray) -> None:
        """满标放款: full listings become loans; their bids become the loans' notes."""
        lst = self.listings
        order = np.argsort(self.bids["listing"][bid_mask], kind="stable")
        bid_listing = self.bids["listing"][bid_mask][order]
        first = listings[0]
        note_counts = np.bincount(bid_listing - first, minlength=listings[-1] - first + 1)[
            listings - first]
        n = len(listings)
        principal = lst.amount[listings]
        platform = lst.platform[listings]
        pooled = self._pool_platform[platform]
        covered = np.zeros(n, dtype=np.int8)
        for p, plat in enumerate(self.platforms):
            mine = platform == p
            if mine.any():
                covered[mine] = plat.guarantee.covers(principal[mine], plat.state)
        loans = {
            "borrower": lst.borrower[listings], "platform": platform,
            "grade": lst.grade[listings], "method": lst.method[listings],
            "term": lst.term[listings], "annual_rate": lst.annual_rate[listings],
            "principal": principal, "balance": principal, "orig_day": np.full(n, day),
            "n_paid": 0, "status": ACTIVE, "delinquent": 0, "first_missed_day": -1,
            "default_day": -1, "hazard_mult": lst.hazard_mult[listings],
            "held": np.where(pooled, principal, 0), "covered": covered,
        }
        new = self.book.append(loans, note_counts, self.bids["investor"][bid_mask][order],
                               self.bids["amount"][bid_mask][order])
        lst.status[listings] = FUNDED
        lst.closed_day[listings] = day
        lst.loan[listings] = np.arange(new.start, new.stop)
        for p, plat in enumerate(self.platforms):
            mine = platform == p
            if not mine.any():
                continue
            amount = int(principal[mine].sum())
            if plat.is_fund_pool:
                self.ledger.transfer(plat.account("pool_cash"), plat.account("held_claims"), amount,
                                     "pool_disbursement")
                plat.pool_reserved_fen = 0
            else:
                self.ledger.transfer(plat.account("investor_committed"),
                                     plat.account("investor_claims"), amount, "disbursement")
            fee = int(plat.service_fee_fen(principal[mine]).sum())
            self._book_fee(plat, fee, "service_fee")
            self.today.service_fee_fen += fee
            self._guarantee_contributions(plat, principal[mine], covered[mine] == 1)
        self.today.funded_listings += n
        self.today.volume_fen += int(principal.sum())
        self.totals["loans_outstanding"] += n

    def _guarantee_contributions(self, platform: Platform, principal: np.ndarray,
                                 covered: np.ndarray) -> None:
        """Borrowers' payments into the guarantee at disbursement: reserve share, guarantee fee."""
        guarantee = platform.guarantee
        platform.state.guaranteed_outstanding_fen += int(principal[covered].sum())
        if guarantee.account is None or not covered.any():
            return
        contribution, fee = guarantee.contributions(principal[covered])
        account = platform.account(guarantee.account)
        self.ledger.transfer(WORLD, account, int(contribution.sum()), "reserve_contribution")
        self.ledger.transfer(WORLD, account, int(fee.sum()), "guarantee_fee")
        self.today.guarantee_income_fen += int(contribution.sum() + fee.sum())

    def _release(self, listings: np.ndarray, bid_mask: np.ndarray) -> None:
        """流标: listings not full by their deadline fail and every bid goes back to its investor."""
        lst = self.listings
        bid_listing = self.bids["listing"][bid_mask]
        investor = self.bids["investor"][bid_mask]
        amount = self.bids["amount"][bid_mask]
        platform = lst.platform[bid_listing]
        np.add.at(self.investors.cash, (investor, platform), amount)
        for p, plat in enumerate(self.platforms):
            self.ledger.transfer(plat.account("investor_committed"), plat.account("investor_cash"),
                                 int(amount[platform == p].sum()), "failed_listing_release")
        lst.status[listings] = FAILED
        lst.closed_day[listings] = self.day
        self.today.failed_listings += len(listings)

    def _snapshot_platforms(self, day: int) -> None:
        """Month-end balances of each platform, one row each in the ``platforms`` table."""
        loans = self.book.loans
        active = np.bincount(loans.platform[loans.status == ACTIVE], minlength=len(self.platforms))
        for p, platform in enumerate(self.platforms):
            balance = self.ledger.balance
            row = {"day": day, "month": day // DAYS_PER_MONTH, "platform": platform.name,
                   "loans_outstanding": int(active[p])}
            for kind in ("investor_claims", "held_claims", "platform_cash", "investor_cash",
                         "investor_committed", "reserve_fund", "guarantor_capital", "pool_cash"):
                column = "outstanding_principal_cny" if kind == "investor_claims" else f"{kind}_cny"
                row[column] = balance(platform.account(kind)) / 100
            held = platform.investors_pool_liability_fen() if platform.is_fund_pool else 0
            row.update({
                "unpaid_costs_cny": platform.unpaid_costs_fen / 100,
                "guarantee_paid_cny": platform.guarantee.paid_fen / 100,
                "guarantee_unpaid_cny": platform.guarantee.unpaid_fen / 100,
                "guarantee_failed": platform.guarantee.failed_day is not None,
                "active_investors": platform.state.active_investors,
                "new_investors": platform.new_investors_month,
                "churned_investors": platform.churned_investors_month,
                "marketing_spend_cny": platform.marketing_spend_month_fen / 100,
                "pool_liabilities_cny": held / 100,
                "pool_overdue_cny": platform.pool_overdue_fen / 100,
            })
            self.datacollector.add_table_row("platforms", row)

    def _accrue_totals(self) -> None:
        for platform in self.platforms:
            claims = self.ledger.balance(platform.account("investor_claims"))
            if platform.is_fund_pool:  # investors' money in the pool's products
                claims += int(self.investors.product_cost_fen[:, platform.index].sum())
            platform.claim_days_fen += claims
            self.totals["claim_days_fen"] += claims

    def release(self) -> None:
        """Drop the books (loans, notes, listings, bids, populations) once a run has been read.

        Mesa's model is held in reference cycles (its scenario, event generator, agents), which
        only the cyclic garbage collector frees, and it runs rarely when a program allocates few
        but large arrays: a worker running market after market would keep them all. Releasing
        the large tables frees their memory at once; the model cannot step afterwards.
        """
        self.book = self.listings = self.borrowers = self.investors = None
        self.bids = {}
        self.open_listings = None
        self._missed_on = {}
        self.arrears_count = self.arrears_balance = None
        self.running = False

    # ------------------------------------------------------------------ reading the state

    def claims_fen(self) -> int:
        """Investors' outstanding principal on all platforms (fen), from the ledger."""
        return sum(self.ledger.balance(p.account("investor_claims")) for p in self.platforms)

    def outstanding_fen(self) -> int:
        """Outstanding principal of all active loans (fen): investors' claims and held claims."""
        return self.claims_fen() + self.account_total("held_claims")

    def account_total(self, kind: str) -> int:
        """Sum over platforms of one account kind, fen."""
        return sum(self.ledger.balance(p.account(kind)) for p in self.platforms)

    def investor_return_annual(self) -> float:
        """Investors' realised return so far, annual: income net of fees and losses / average claims."""
        claim_years = self.totals["claim_days_fen"] / 360.0
        return self.totals["investor_income_fen"] / claim_years if claim_years > 0 else 0.0

    # ------------------------------------------------------------------ audit

    def audit(self, full: bool = False) -> None:
        """Check the books; raise :class:`~sim.ledger.LedgerError` on any difference of one fen.

        Always: the ledger sums to zero and no account but ``world`` is negative, and each platform's
        ``investor_cash`` equals the investors' cash on it. With ``full``: also committed bids, loan
        balances, note balances, the arrears counts and investors' income against the ledger.
        """
        ledger = self.ledger
        ledger.check()
        cash = self.investors.cash.sum(axis=0)
        if (self.investors.cash < 0).any():
            raise LedgerError(f"an investor's cash is negative on day {self.day}")
        for p, platform in enumerate(self.platforms):
            if int(cash[p]) != ledger.balance(platform.account("investor_cash")):
                raise LedgerError(f"investors' cash on {platform.name} is {int(cash[p])} fen, the "
                                  f"ledger says {ledger.balance(platform.account('investor_cash'))}")
        if not full:
            return
        n = len(self.platforms)
        committed = np.bincount(self.listings.platform[self.bids["listing"]],
                                weights=self.bids["amount"], minlength=n)
        loans = self.book.loans
        held = np.bincount(loans.platform, weights=loans.held, minlength=n).astype(np.int64) \
            if len(loans) else np.zeros(n, dtype=np.int64)
        claims = self.book.outstanding_by_platform(n) - held
        for p, platform in enumerate(self.platforms):
            for kind, value in (("investor_committed", committed[p]), ("investor_claims", claims[p]),
                                ("held_claims", held[p])):
                if int(value) != ledger.balance(platform.account(kind)):
                    raise LedgerError(f"{kind} on {platform.name}: books say {int(value)} fen, "
                                      f"ledger {ledger.balance(platform.account(kind))}")
        if not np.array_equal(self.book.note_sums() + loans.held, loans.balance):
            raise LedgerError(f"a loan's notes and held part do not add up to its balance on day "
                              f"{self.day}")
        loans = self.book.loans
        late = (loans.status == ACTIVE) & (loans.first_missed_day >= 0)
        index = loans.first_missed_day[late] - self.book.first_day
        size = len(self.arrears_count)
        if not (np.array_equal(np.bincount(index, minlength=size), self.arrears_count)
                and np.array_equal(np.bincount(index, weights=loans.balance[late], minlength=size)
                                   .astype(np.int64), self.arrears_balance)):
            raise LedgerError(f"arrears counts by day of first miss are off on day {self.day}")
        if int(self.investors.net_income_fen.sum()) != self.totals["investor_income_fen"]:
            raise LedgerError("investors' income does not match the ledger's interest and losses")
