"""The platform (平台) and the guarantor (担保公司): the few, rich agents of the market.

A platform is a ``mesa.Agent`` with its four policies (pricing, risk, guarantee, marketing, see
:mod:`sim.policies`). It decides (who is approved, at what rate and for how much, how long a
listing stays open, what fees it charges, what it spends on marketing); the model applies those
decisions to the populations and the loan book and books the money in the ledger accounts the
platform owns (``platform_cash:<name>``, ``investor_cash:<name>`` ...).

A third-party guarantor is an agent of its own, with its capital in ``guarantor_capital:<platform>``.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.all_in_cost import all_in_apr
from sim.company.record import CompanyRecord
from sim.ledger import WORLD, AccountKind
from sim.money import to_fen
from sim.policies import PlatformState, build
from sim.policies.checks import bind
from sim.runs.states import RunRecord, RunState
from sim.scenario import PlatformConfig, Scenario, policy_context


class Platform(mesa.Agent):
    """One P2P platform.

    Parameters
    ----------
    model : P2PMarket
        The market.
    index : int
        Position among the market's platforms (the ``platform`` column of loans and listings).
    config : PlatformConfig
        Its scenario section.
    scenario : Scenario
        The whole scenario (for the grades its policies are built with).
    """

    def __init__(self, model, index: int, config: PlatformConfig, scenario: Scenario) -> None:
        super().__init__(model)
        self.index = index
        self.name = config.name
        self.config = config
        context = policy_context(scenario, config)
        self.market_rate = context.grade_rate
        where = scenario.source_dir
        self.pricing = build("pricing", config.pricing, context, where)
        self.risk = build("risk", config.risk, context, where)
        self.guarantee = build("guarantee", config.guarantee, context, where)
        self.marketing = build("marketing", config.marketing, context, where)
        for policy in (self.pricing, self.risk, self.guarantee, self.marketing):
            bind(policy, self.name, lambda: model.ledger.day)  # a user's policy names them in its faults
        self.state = PlatformState()
        self.layers = self.guarantee.layers  # the protection layers that pay, first to pay first
        self.layer_states = [PlatformState() for _ in self.layers]  # each layer's fund and cover
        self.funding_window_days = config.funding_window_days
        self.is_fund_pool = config.funding == "fund_pool"
        self.operating_cost_monthly_fen = to_fen(config.operating_cost_monthly_cny)
        self.unpaid_costs_fen = 0  # operating costs it could not pay for lack of cash
        self.demand_multiplier = 1.0      # borrowers' response to its all-in cost
        self.premium_sum, self.premium_count = 0.0, 0  # all-in premium of this month's offers
        self.over_cap = np.zeros(0, dtype=bool)
        self.supply_multiplier = 1.0      # investors' response to its rates
        self.marketing_applications_per_day = 0.0  # borrowers brought by marketing, this month
        self.collection_cost_per_case_fen = 0      # set from the risk policy's collection terms
        self.investor_income_fen = 0   # investors' income on this platform (net of fees, losses)
        self.claim_days_fen = 0        # investors' claims summed over days (for their return)
        self.defaulted_fen_month = 0   # principal written off this month
        self.defaulted_fen_history: list[int] = []  # by month
        self.defaulted_fen_total = 0   # principal written off since day 0 (坏账本金), fen
        self.recovered_fen_total = 0   # recoveries on it (before the collection fee), fen
        self.shareable_fees_fen = 0    # service and management fees since day 0 (fee_share's base)
        self.pool_reserved_fen = 0     # fund pool: cash promised to today's listings
        self.pool_overdue_fen = 0      # fund pool: matured products it could not pay (兑付逾期)
        self.new_investors_month = 0
        self.churned_investors_month = 0
        self.marketing_spend_month_fen = 0
        self.marketing_spend_total_fen = 0
        stress = scenario.stress
        self.stressed = not stress.platforms or self.name in stress.platforms
        self.frozen = False  # True once a funding freeze (a stress event) stops its new lending
        self.down_until_day = 0  # a breach took it down: no applications before this day
        self.run = RunRecord(model.run_states, self.index)  # its state (the market's), losses by cause
        self.company = CompanyRecord()  # its books' figures outside the ledger (sim.company)
        guarantor = [layer for layer in self.layers if layer.account == "guarantor_capital"]
        self.guarantor = Guarantor(model, self, guarantor[0]) if guarantor else None

    def __repr__(self) -> str:
        policies = ", ".join(f"{family} {getattr(self.config, family)['policy']}"
                             for family in ("pricing", "risk", "guarantee", "marketing"))
        cash = self.model.ledger.balance(AccountKind.PLATFORM_CASH, self.index) / 100
        return (f"Platform({self.name!r}: {policies}; funding {self.config.funding}; "
                f"cash {cash:,.2f} CNY)")

    def account(self, kind: AccountKind) -> str:
        """The name of this platform's account of ``kind`` in the journal (``platform_cash:alpha``)."""
        return f"{AccountKind(kind)}:{self.name}"

    def holder_account(self, holder: int) -> AccountKind:
        """Account kind that collects on the part of loans held by ``holder`` (``loans.holder``).

        The fund pool's cash, or protection layer ``holder``'s fund (its reserve, its capital), or
        ``world`` for an outside insurer.
        """
        if self.is_fund_pool:
            return AccountKind.POOL_CASH
        if holder < len(self.layers):
            return self.layers[holder].account or WORLD
        return WORLD

    def held_account(self, holder: int) -> AccountKind:
        """Account kind of the claims ``holder`` (``loans.holder``) took over: its 代偿债权.

        The reserve fund's and the fund pool's are the company's (``held_claims``); a guarantor's
        and an insurer's are theirs.
        """
        account = self.holder_account(holder)
        if account == AccountKind.GUARANTOR_CAPITAL:
            return AccountKind.GUARANTOR_CLAIMS
        if account == WORLD:
            return AccountKind.INSURER_CLAIMS
        return AccountKind.HELD_CLAIMS

    def in_trouble(self) -> bool:
        """A platform in trouble: lending frozen, guarantee failed or short, or fund pool overdue."""
        guarantee = self.guarantee
        return (self.frozen or guarantee.failed_day is not None or guarantee.unpaid_fen > 0
                or self.pool_overdue_fen > 0 or self.run.state != RunState.NORMAL)

    def investors_pool_liability_fen(self) -> int:
        """Fund pool: what it owes investors for their products, promised interest included."""
        return int(self.model.investors.product_fen[:, self.index].sum())

    def review(self, applicants: dict[str, np.ndarray]):
        """Credit review (信用评估 / 风控审核) and pricing of applicants.

        Returns
        -------
        (numpy.ndarray of bool, numpy.ndarray of float, numpy.ndarray of int64)
            Whether each applicant is listed (approved, and accepts the rate), the offered annual
            rate, and the principal granted (fen).
        """
        rate = self.pricing.price(applicants, self.state)
        approved, amount = self.risk.review(applicants, rate, self.state)
        approved = np.asarray(approved).astype(bool)  # a user's policy may answer 1 and 0
        offered = approved & ~np.isnan(rate)
        premium = self.all_in_premium(applicants, np.nan_to_num(rate))
        self.premium_sum += float(premium[offered].sum())
        self.premium_count += int(offered.sum())
        accepts = (premium <= applicants["rate_tolerance"]) & ~self.over_cap
        return offered & accepts, np.nan_to_num(rate), np.asarray(amount, dtype=np.int64)

    def all_in_premium(self, applicants: dict[str, np.ndarray], rate: np.ndarray) -> np.ndarray:
        """Each applicant's all-in cost (综合资金成本) over what the market would cost them.

        The all-in annual cost of the offer (:func:`sim.all_in_cost.all_in_apr`: interest and
        every fee the borrower pays) less that of the grade's market rate with the fees borrowers
        are used to (``borrowers.usual_upfront_fee``, ``usual_monthly_fee``); a borrower accepts
        while it is within their rate tolerance. Sets ``over_cap``: the offers above the legal all-in cap
        (``loans.all_in_cap``), which are never listed.
        """
        term, method = applicants["term"], applicants["method"]
        upfront, monthly = self.borrower_fee_shares()
        cost = all_in_apr(rate, term, method, upfront, monthly)
        borrowers = self.model.config.borrowers
        kinds, kind_of = np.unique(np.stack([applicants["grade"], term, method]), axis=1,
                                   return_inverse=True)  # few (grade, term, method): price each once
        usual = all_in_apr(self.market_rate[kinds[0]], kinds[1], kinds[2],
                           borrowers.usual_upfront_fee, borrowers.usual_monthly_fee)[kind_of.ravel()]
        self.over_cap = cost > self.model.config.loans.all_in_cap
        return cost - usual

    def borrower_fee_shares(self) -> tuple[float, float]:
        """Shares of principal a borrower pays beside interest: upfront, and each month.

        Upfront: the service fee when charged at disbursement, and each protection layer's
        contribution or fee (a reserve's ``principal_share``, a guarantor's ``guarantee_fee``),
        assuming the loan is covered. Monthly: the service fee when charged monthly.
        """
        upfront = self.config.service_fee if self.config.service_fee_timing == "upfront" else 0.0
        unit = np.array([10**10], dtype=np.int64)  # 100 M CNY: the shares to 1e-10
        for layer in self.layers:
            into_fund, fee = layer.contributions(unit)
            upfront += float(into_fund[0] + fee[0]) / unit[0]
        return upfront, self.service_fee_monthly

    def service_fee_fen(self, principal_fen: np.ndarray) -> np.ndarray:
        """Upfront borrower service fee (借款服务费) per loan, fen (zero if charged monthly)."""
        if self.config.service_fee_timing != "upfront":
            return np.zeros(len(principal_fen), dtype=np.int64)
        return np.floor(principal_fen * self.config.service_fee + 0.5).astype(np.int64)

    @property
    def service_fee_monthly(self) -> float:
        """Monthly service fee, share of original principal (0 if charged upfront)."""
        return self.config.service_fee if self.config.service_fee_timing == "monthly" else 0.0


class Guarantor(mesa.Agent):
    """A third-party guarantor (担保公司 / 小额贷款公司) backing one platform's loans.

    Its capital is the platform's ``guarantor_capital`` account; its decisions (which loans it
    covers within its leverage limit, how much it can pay, when it has failed) are those of the
    platform's ``guarantor`` guarantee policy.
    """

    def __init__(self, model, platform: Platform, policy) -> None:
        super().__init__(model)
        self.platform = platform
        self.policy = policy
        self.name = self.policy.params.name

    @property
    def failed(self) -> bool:
        """True once a payout found its capital gone."""
        return self.policy.failed_day is not None

    @property
    def capital_cny(self) -> float:
        """Capital left, CNY."""
        return self.model.ledger.balance(AccountKind.GUARANTOR_CAPITAL, self.platform.index) / 100
