"""The scenario's schema: one pydantic model per TOML table, with units, bounds and cross-checks.

Every key has a default, so ``Scenario()`` is a whole market; units are in the key names (``_cny``,
``_days``, ``_monthly``) or in the field docs. Bounds (``MAX_LOAN_CNY`` ...) keep sums of fen exact.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from sim.loans import DAYS_PER_YEAR, MAX_TERM_MONTHS, parse_method
from sim.scenario.company import CompanyConfig, check_raises
from sim.scenario.credit import SeasoningConfig, check_all_in_cap, check_seasoning
from sim.scenario.industry import IndustryConfig, PlatformInIndustry, check_industry
from sim.scenario.industry_behaviour import refuse_own_flows
from sim.scenario.plan import PlanConfig, check_plan
from sim.scenario.runs import LiquidityConfig, RunsConfig, check_events
from sim.scenario.stress import StressConfig, check_stress

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]  # annual; legal caps are 24 % / 36 %
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Sigma = Annotated[float, Field(ge=0.0, le=3.0)]  # of a log-normal: 3 already spans 10^±4 around the median
Elasticity = Annotated[float, Field(ge=0.0, le=100.0)]
Month = Annotated[int, Field(ge=0, le=1200)]  # a month of the run (100 years at most)
Growth = Annotated[float, Field(ge=-1.0, le=100.0)]  # a year's growth, -1 (all gone) to 100x
Factor = Annotated[float, Field(ge=-10.0, le=10.0)]  # a standard normal macro factor
NAME_PATTERN = r"^[\w\-]+$"
NAME_RULE = "letters (Chinese too), decimal digits 0-9, _ and -"
MAX_NAME_BYTES = 200  # a run's name and "-seed" and 19 digits fit the file system's 255 bytes

# Physical bounds (docs/scenarios.md): every amount is finite and below these, so that sums of
# fen stay exact in int64 and in float64 (2^53 fen is 90 trillion CNY).
MAX_LOAN_CNY = 5_000_000.0          # the regulatory cap of one loan to a company
MAX_PERSON_CNY = 100_000_000.0      # one borrower's income or one investor's deposit, median
MAX_PLATFORM_CNY = 100_000_000_000.0  # a platform's capital or monthly costs (100 bn CNY)
MAX_APPLICATIONS_PER_DAY = 1_000_000.0


class ScenarioError(ValueError):
    """A scenario that cannot be run; ``str(error)`` is the message to show the user."""


class _Section(BaseModel):
    # strict: an integer key takes only an integer (true is not 1); finite: no NaN or infinity
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)


class RunConfig(_Section):
    """How long to run and with which seed."""

    name: str = Field("market", pattern=NAME_PATTERN, max_length=100,
                      description=f"names the results folder: {NAME_RULE}")
    horizon_days: int = Field(1080, ge=1, le=36000, description="days simulated (360 a year)")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seed of the run's SeedSequence")

    @field_validator("name")
    @classmethod
    def _fits_a_folder_name(cls, name: str) -> str:
        return fits_a_folder_name(name)


def fits_a_folder_name(name: str) -> str:
    """A name that names a results folder: refused past :data:`MAX_NAME_BYTES` of UTF-8."""
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ValueError(f"{size} bytes in UTF-8; at most {MAX_NAME_BYTES} (about "
                         f"{MAX_NAME_BYTES // 3} Chinese characters): it names the results "
                         f"folder, which the file system limits to 255 bytes")
    return name


class MacroConfig(_Section):
    """The systematic factor Z that moves every borrower's default hazard together.

    Monthly AR(1): ``Z[m] = persistence * Z[m-1] + sqrt(1 - persistence**2) * eps[m]``, ``Z[0] ~ N(0, 1)``
    (or ``initial_factor``). The conditional hazard of grade g is the one-factor Gaussian (Vasicek)
    link ``Phi((Phi^-1(h_g) - sqrt(rho) Z) / sqrt(1 - rho))``; a negative Z is a downturn.
    """

    asset_correlation: float = Field(0.05, ge=0.0, lt=1.0, description="rho")
    persistence: Probability = Field(0.9, description="phi; 1 holds Z for the whole run")
    initial_factor: Factor | None = Field(None, description="Z[0]; drawn when absent")
    shock_path: list[tuple[Month, Factor]] = Field(
        default_factory=list, description="[[month, Z], ...] overriding the factor in those months")

    @field_validator("shock_path", mode="before")
    @classmethod
    def _pairs_of_numbers(cls, path):
        if not isinstance(path, list | tuple):
            raise ValueError("must be a list of [month, Z] pairs")
        for item in path:
            if (not isinstance(item, list | tuple) or len(item) != 2
                    or not isinstance(item[0], int) or isinstance(item[0], bool)
                    or not isinstance(item[1], int | float) or isinstance(item[1], bool)):
                raise ValueError(f"must be a list of [month, Z] pairs, a whole month and a number "
                                 f"(got {item!r})")
        return [tuple(item) for item in path]


class GradesConfig(_Section):
    """Credit grades A-G: mix, price, default, prepayment and recovery (LendingClub 2007-2010)."""

    names: list[str] = ["A", "B", "C", "D", "E", "F", "G"]
    application_share: list[Probability] = [0.2128, 0.2799, 0.2305, 0.1547, 0.0795, 0.0278, 0.0148]
    annual_rate: list[Rate] = [0.0765, 0.1094, 0.1316, 0.1486, 0.163, 0.1787, 0.1946]
    default_hazard_monthly: list[Probability] = [0.00194, 0.00438, 0.0058, 0.00745, 0.00831,
                                                 0.01171, 0.01235]
    prepay_hazard_monthly: list[Probability] = [0.01884, 0.01661, 0.01559, 0.01422, 0.01352,
                                                0.01426, 0.012]
    recovery_rate: list[Probability] = [0.1086, 0.0667, 0.0881, 0.0849, 0.0899, 0.1144, 0.1384]
    cure_probability: Probability = Field(
        0.3, lt=1.0, description="chance a delinquent borrower pays all arrears on a due date")
    recovery_lag_months: int = Field(
        0, ge=0, le=60, description="months from write-off to the recovery (催收回款); 0: at once")
    seasoning: SeasoningConfig | None = Field(
        None, description="hazard factors by term and months on book (sim/scenario/credit.py)")

    @model_validator(mode="after")
    def _same_length(self):
        n = len(self.names)
        if not 1 <= n <= 26 or len(set(self.names)) != n:
            raise ValueError("names must be 1 to 26 distinct grade names")
        for key in ["application_share", "annual_rate", "default_hazard_monthly",
                    "prepay_hazard_monthly", "recovery_rate"]:
            if len(getattr(self, key)) != n:
                raise ValueError(f"{key} must have one value per grade ({n}: {self.names})")
        if abs(sum(self.application_share) - 1.0) > 1e-6:
            raise ValueError("application_share must add up to 1")
        if self.seasoning is not None:
            check_seasoning(self.seasoning, self.names, self.default_hazard_monthly,
                            self.prepay_hazard_monthly)
        return self


class BorrowersConfig(_Section):
    """Loan demand: applications arriving each day and the applicants' attributes."""

    applications_per_day: float = Field(30.0, ge=0.0, le=MAX_APPLICATIONS_PER_DAY,
                                        description="market-wide, at day 0")
    growth_per_year: Growth | Annotated[list[Growth], Field(min_length=1)] = Field(
        0.15, description="growth of applications a year; a list gives it by year (the last repeats)")
    amount_median_cny: float = Field(58100.0, gt=0.0, le=MAX_LOAN_CNY)
    amount_sigma: Sigma = Field(0.723, description="sigma of log amount")
    amount_min_cny: float = Field(1000.0, ge=0.01, le=MAX_LOAN_CNY)
    amount_max_cny: float = Field(200000.0, ge=0.01, le=MAX_LOAN_CNY,
                                  description="at most 5 M CNY, the regulatory cap for a company")
    terms_months: list[Annotated[int, Field(ge=1, le=MAX_TERM_MONTHS)]] = [36, 60]
    term_share: list[Probability] = [0.8376, 0.1624]
    methods: list[str] = ["annuity"]
    method_share: list[Probability] = [1.0]
    income_median_cny: float = Field(386000.0, gt=0.0, le=MAX_PERSON_CNY)
    income_sigma: Sigma = 0.591
    dti_mean: float = Field(12.88, ge=0.0, le=1000.0,
                            description="debt-to-income before the loan, percent")
    dti_sd: float = Field(6.71, ge=0.0, le=1000.0)
    hazard_dispersion: Sigma = Field(
        0.5, description="sigma of the log-normal within-grade hazard multiplier (mean 1)")
    rate_tolerance_mean: float = Field(
        0.02, ge=-1.0, le=1.0, description="annual rate above the grade rate a borrower accepts")
    rate_tolerance_sd: float = Field(0.02, ge=0.0, le=1.0)
    rate_elasticity: Elasticity = Field(0.09, description="applications fall by this share per "
                                        "point of all-in premium (docs/policies.md: its source)")
    usual_upfront_fee: Probability = Field(0.03, description="upfront fee borrowers expect (借款服务费)")
    usual_monthly_fee: Probability = Field(0.0, description="monthly fee they expect, of principal")
    score_informativeness: Probability = Field(
        0.5, description="correlation of the score with the within-grade default risk")
    company_share: Probability = Field(0.0, description="share of applicants that are companies")
    debt_elsewhere_share: Probability = Field(
        0.0, description="share of applicants already owing on other platforms")
    debt_elsewhere_median_cny: float = Field(50_000.0, ge=0.0, le=MAX_PERSON_CNY)

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, methods):
        for name in methods:
            parse_method(name)
        return methods

    @model_validator(mode="after")
    def _consistent(self):
        if len(self.terms_months) != len(self.term_share) or not self.terms_months:
            raise ValueError("terms_months and term_share must have the same, non-zero length")
        if len(self.methods) != len(self.method_share) or not self.methods:
            raise ValueError("methods and method_share must have the same, non-zero length")
        for key in ["term_share", "method_share"]:
            if abs(sum(getattr(self, key)) - 1.0) > 1e-6:
                raise ValueError(f"{key} must add up to 1")
        if self.amount_min_cny > self.amount_max_cny:
            raise ValueError("amount_min_cny must not exceed amount_max_cny")
        return self

    def demand_factor(self, day: int) -> float:
        """Applications on ``day`` per application on day 0: the year's growth compounded daily."""
        growth = self.growth_per_year
        if not isinstance(growth, list):
            return (1.0 + growth) ** (day / DAYS_PER_YEAR)
        year, factor = int(day // DAYS_PER_YEAR), 1.0
        for past in range(year):
            factor *= 1.0 + growth[min(past, len(growth) - 1)]
        this_year = growth[min(year, len(growth) - 1)]
        return factor * (1.0 + this_year) ** ((day - year * DAYS_PER_YEAR) / DAYS_PER_YEAR)


class InvestorsConfig(_Section):
    """Investors (出借人): money, appetite and auto-invest (自动投标) behaviour."""

    count: int = Field(20000, ge=1, le=10_000_000)
    initial_cash_median_cny: float = Field(20000.0, ge=0.0, le=MAX_PERSON_CNY)
    initial_cash_sigma: Sigma = 1.0
    monthly_deposit_median_cny: float = Field(500.0, ge=0.0, le=MAX_PERSON_CNY)
    withdraw_share_monthly: Probability = Field(0.05, description="share of idle cash withdrawn")
    bid_fraction: Probability = Field(0.05, gt=0.0, description="bid size / initial cash")
    min_bid_cny: float = Field(50.0, ge=0.01, le=MAX_LOAN_CNY)
    target_rate_min: Rate = Field(0.06, description="lowest annual rate an investor accepts")
    target_rate_max: Rate = 0.12
    max_grade_share: list[Probability] = Field(
        default_factory=lambda: [0.05, 0.15, 0.25, 0.25, 0.15, 0.1, 0.05],
        description="share of investors whose riskiest accepted grade is each grade")
    multi_home_share: Probability = Field(0.2, description="share holding cash on 2 platforms")
    max_scan_per_listing: int = Field(2000, ge=1, le=1_000_000,
                                      description="investors asked per listing per day")
    rate_elasticity: Elasticity = Field(
        0.0, description="deposits rise by this share per point of a platform's rate premium")
    churn_base: Probability = Field(0.0, description="monthly share of investors who leave anyway")
    churn_sensitivity: float = Field(
        0.0, ge=0.0, le=100.0, description="extra monthly churn per unit of return shortfall")
    target_return: float = Field(0.08, ge=-1.0, le=1.0, description="annual return expected")
    trust_sensitivity: Probability = Field(
        0.0, description="extra monthly churn at zero reputation (losses cost trust)")
    reputation_sensitivity: float = Field(
        10.0, ge=0.0, le=1000.0, description="reputation lost per unit of annual loss rate")

    @model_validator(mode="after")
    def _consistent(self):
        if self.target_rate_min > self.target_rate_max:
            raise ValueError("target_rate_min must not exceed target_rate_max")
        if abs(sum(self.max_grade_share) - 1.0) > 1e-6:
            raise ValueError("max_grade_share must add up to 1")
        return self


DEFAULT_POLICY = {"pricing": "grid", "risk": "scorecard", "guarantee": "none", "marketing": "none"}


class FundPoolConfig(_Section):
    """The fund-pool model (资金池 / 期限错配): investors buy short products, the pool lends long.

    Used when a platform's ``funding = "fund_pool"``: investors' cash buys pool products of
    ``product_term_months`` at a promised ``product_rate`` (保本保息), the pool funds every listing at
    once from its cash and collects the loans' repayments, and matured products are paid from the
    pool's cash, new money included. When the pool's cash falls short, redemptions are paid pro rata
    and the rest is overdue (兑付逾期).
    """

    product_term_months: int = Field(3, ge=1, le=MAX_TERM_MONTHS)
    product_rate: Rate = Field(0.10, description="promised annual return")
    rollover_share: Probability = Field(0.8, description="matured products rolled over (续投)")
    early_exit_share: Probability = Field(
        0.0, description="monthly share of positions sold back early (债权转让), paying transfer_fee")


class PlatformConfig(_Section):
    """One platform (平台): its policies, fees, funding window, capital and costs.

    The four policy families are tables of their own (``[platforms.pricing]``, ``[platforms.risk]``,
    ``[platforms.guarantee]``, ``[platforms.marketing]``), each with ``policy = "name"`` and that
    policy's parameters (docs/policies.md); they are checked when the scenario is loaded.
    """

    name: str = Field("platform", pattern=NAME_PATTERN, max_length=40,
                      description=f"{NAME_RULE}; names its ledger accounts")
    market_share: Probability = Field(1.0, description="share of loan applications it receives")
    investor_share: Probability = Field(1.0, description="share of investors whose home it is")
    capital_cny: float = Field(10_000_000.0, ge=0.0, le=MAX_PLATFORM_CNY)
    operating_cost_monthly_cny: float = Field(300_000.0, ge=0.0, le=MAX_PLATFORM_CNY)
    funding_window_days: int = Field(5, ge=1, le=60, description="days a listing stays open")
    funding: Literal["auto_invest", "fund_pool"] = "auto_invest"
    fund_pool: FundPoolConfig = FundPoolConfig()
    liquidity: LiquidityConfig = LiquidityConfig()
    company: CompanyConfig = CompanyConfig()
    service_fee: Probability = Field(0.03, description="borrower fee, share of principal")
    service_fee_timing: Literal["upfront", "monthly"] = Field(
        "upfront", description="upfront at disbursement, or service_fee of principal each month")
    management_fee: Probability = Field(0.1, description="investor fee, share of interest")
    withdrawal_fee: Probability = Field(0.0, description="share of each withdrawal (提现费)")
    transfer_fee: Probability = Field(0.0, description="share of a claim sold early (转让费)")
    penalty_daily_rate: float = Field(0.0005, ge=0.0, le=0.01, description="罚息 per day overdue")
    collection_fee: Probability = Field(0.2, description="share of recoveries kept for 催收")
    industry: PlatformInIndustry | None = Field(
        None, description="inside an industry: where it stands (owner, province, launch ...)")
    pricing: dict[str, Any] = Field(default_factory=lambda: {"policy": "grid"})
    risk: dict[str, Any] = Field(default_factory=lambda: {"policy": "scorecard"})
    guarantee: dict[str, Any] = Field(default_factory=lambda: {"policy": "none"})
    marketing: dict[str, Any] = Field(default_factory=lambda: {"policy": "none"})

    @model_validator(mode="after")
    def _policy_names(self):
        for family, default in DEFAULT_POLICY.items():
            spec = getattr(self, family)
            spec.setdefault("policy", default)
            if not isinstance(spec["policy"], str):
                raise ValueError(f"{family}.policy must be a name (got {spec['policy']!r})")
        return self


class LoansConfig(_Section):
    """Arrears rules for every loan in the market."""

    default_after_days: int = Field(90, ge=30, le=360, description="written off past this dpd")
    all_in_cap: float = Field(0.36, gt=0.0, le=1.0, description="cap on a loan's all-in annual "
                              "cost (综合资金成本); 0.24: the courts' protected band")

    @field_validator("default_after_days")
    @classmethod
    def _whole_months(cls, days):
        if days % 30:
            raise ValueError("default_after_days must be a multiple of 30 (30, 60, 90, ...)")
        return days


class InitialBookConfig(_Section):
    """Loans already outstanding on day 0, of every age, spread over the platforms by market share."""

    loans: int = Field(0, ge=0, le=50_000_000)
    notes_per_loan: int = Field(20, ge=1, le=1000)


class Scenario(_Section):
    """A whole scenario. Build one from a file with :func:`load_scenario`."""

    run: RunConfig = RunConfig()
    macro: MacroConfig = MacroConfig()
    grades: GradesConfig = GradesConfig()
    borrowers: BorrowersConfig = BorrowersConfig()
    investors: InvestorsConfig = InvestorsConfig()
    platforms: list[PlatformConfig] = Field(default_factory=lambda: [PlatformConfig()],
                                            max_length=1000)
    loans: LoansConfig = LoansConfig()
    initial_book: InitialBookConfig = InitialBookConfig()
    stress: StressConfig = StressConfig()
    runs: RunsConfig = RunsConfig()
    plan: PlanConfig = PlanConfig()
    industry: IndustryConfig | None = Field(
        None, description="an industry of platforms drawn from the WDZJ data around the market's")
    _source_dir: str | None = PrivateAttr(None)

    @property
    def source_dir(self) -> str | None:
        """Folder of the scenario file, where user policies' modules are also looked for."""
        return self._source_dir

    @source_dir.setter
    def source_dir(self, folder: str | None) -> None:
        self._source_dir = folder

    @model_validator(mode="before")
    @classmethod
    def _industry_has_no_default_platform(cls, data):
        """An industry's detailed platforms are only those it names (the market's default is one)."""
        if isinstance(data, dict) and data.get("industry") is not None:
            refuse_own_flows(data.get("investors"), InvestorsConfig.model_fields)
            if "platforms" not in data:
                return {**data, "platforms": []}
        return data

    @model_validator(mode="after")
    def _cross_checks(self):
        names = [p.name for p in self.platforms]
        if not names and self.industry is None:
            raise ValueError("platforms: a market needs at least one platform")
        if len(set(names)) != len(names):
            raise ValueError(f"platform names must be distinct, got {names}")
        if self.industry is not None:
            check_industry(self.industry, self.run.horizon_days, self.platforms, self.runs,
                           self.loans.default_after_days)
        for key in ["market_share", "investor_share"] if names else []:
            total = sum(getattr(p, key) for p in self.platforms)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"platforms' {key} must add up to 1, got {total:g}")
        check_stress(self.stress, self.run.horizon_days, names)
        check_events(self.runs, self.run.horizon_days, names)
        for i, platform in enumerate(self.platforms):
            check_raises(platform.company, self.run.horizon_days, i)
        check_plan(self.plan, self.run.horizon_days, self.platforms)
        check_all_in_cap(self.loans.all_in_cap, self.grades.annual_rate)
        if len(self.investors.max_grade_share) != len(self.grades.names):
            raise ValueError("investors.max_grade_share must have one value per grade")
        return self
