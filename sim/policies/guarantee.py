"""Guarantee policies (保障): who pays investors when a borrower does not.

When a covered loan reaches ``trigger_days`` past due, the guarantee pays its note holders their
outstanding principal (and, with ``covers_interest``, the interest of the overdue instalments): this
is 代偿. It then owns that part of the loan: the borrower's later payments, penalty interest and
recovery go to the guarantee, not to the investors. It pays out of its own money (its ledger
account) and only while it has any: a payout that would overdraw it is cut to what is left, and
after that not a fen is paid; the investors bear the rest.

Protocol (the engine books all money)
-------------------------------------
``account``
    Ledger account kind the guarantee pays from and is paid into: ``"reserve_fund"``,
    ``"guarantor_capital"``, or ``None`` for an outside insurer (the ``world``).
``trigger_days``, ``covers_interest``
    When it pays, and whether it pays the overdue interest too.
``covers(principal_fen, state) -> numpy.ndarray of bool``
    Which of today's new loans it guarantees.
``contributions(principal_fen) -> (numpy.ndarray, numpy.ndarray)``
    Per new loan, fen paid by the borrower into the guarantee's account at disbursement: a
    contribution (share of principal into the reserve) and a guarantee fee (担保费).
``fee_share``
    Share of the platform's service and management fees paid into the account.
``premium_fen(state) -> int``
    Premium the platform pays this month (to an insurer).
``capacity_fen(balance_fen) -> int``
    The most it can pay today, given its account's balance.
``month_transfer_fen(balance_fen, state) -> int``
    At the month's opening: fen the platform moves from its cash into the account (positive, a
    top-up) or back (negative, a release) by the guarantee's funding rules; 0 by default.
``record_payout(paid_fen, asked_fen, day)``
    Told what it paid and what was asked; a guarantor that could not pay in full fails.
``fail(day)``
    A stress event (``[stress] guarantee_fails_month``): from ``day`` it covers and pays nothing.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sim.company.guarantee_arm import provisions_by_month
from sim.ledger import AccountKind
from sim.money import to_fen
from sim.policies.base import PlatformState, Policy, PolicyContext, PolicyError, PolicyParams
from sim.policies.registry import register, register_base

COMPANY_ARM_KEYS = frozenset({"unearned_fee_share", "compensation_reserve_rate",
                              "compensation_reserve_cap"})
"""A guarantor's keys that only the company's own arm (owner = "company") reads."""


@register_base("guarantee")
class GuaranteePolicy(Policy):
    """Base class: the common parameters and bookkeeping of a guarantee."""

    REQUIRED = ("covers", "capacity_fen")

    account: AccountKind | None = None
    fee_share = 0.0
    hidden_fen = 0  # money in its account its funding rules do not see (a sizing study's float)

    class Params(PolicyParams):
        """Scenario keys (parameters) of this policy."""

        trigger_days: int = Field(30, ge=1, le=360, description="days past due before payout")
        covers_interest: bool = False

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        if params.trigger_days > context.default_after_days:
            raise PolicyError("trigger_days", f"must be at most loans.default_after_days "
                              f"({context.default_after_days}): the loan is written off after that")
        self.trigger_days = params.trigger_days
        self.covers_interest = params.covers_interest
        self.failed_day: int | None = None
        self.paid_fen = 0
        self.unpaid_fen = 0  # asked for but not paid: borne by investors
        self.top_up_short_fen = 0  # top-ups its funding rules asked for and the platform lacked

    @property
    def layers(self) -> list[GuaranteePolicy]:
        """The layers that pay, first to pay first: itself (see :mod:`sim.policies.layers`)."""
        return [self]

    def covers(self, principal_fen: np.ndarray, state: PlatformState) -> np.ndarray:
        """Every new loan is covered while the guarantee stands."""
        return np.full(len(principal_fen), self.failed_day is None)

    def contributions(self, principal_fen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """No contribution, no fee."""
        zero = np.zeros(len(principal_fen), dtype=np.int64)
        return zero, zero.copy()

    def premium_fen(self, state: PlatformState) -> int:
        """No premium."""
        return 0

    def capacity_fen(self, balance_fen: int) -> int:
        """Everything in the account, while the guarantee stands."""
        return 0 if self.failed_day is not None else max(int(balance_fen), 0)

    def record_payout(self, paid_fen: int, asked_fen: int, day: int) -> None:
        """Keep count of what was paid and what was not."""
        self.paid_fen += paid_fen
        self.unpaid_fen += asked_fen - paid_fen

    def record_fee(self, fee_fen: int) -> None:
        """Told the guarantee fees borrowers paid into it today (default: nothing to do)."""

    def fail(self, day: int) -> None:
        """The guarantee fails (a stress event): from ``day`` it pays and covers nothing more."""
        if self.failed_day is None:
            self.failed_day = day

    def record_premium(self, paid_fen: int, asked_fen: int) -> None:
        """Told what premium the platform paid this month (default: nothing to do)."""

    def month_transfer_fen(self, balance_fen: int, state: PlatformState) -> int:
        """No funding rule: nothing moves at the month's opening."""
        return 0


def _share_fen(principal_fen: np.ndarray, share: float) -> np.ndarray:
    return np.floor(principal_fen * share + 0.5).astype(np.int64)


@register("guarantee", "none")
class NoGuarantee(GuaranteePolicy):
    """Pure information intermediary (纯信息中介): investors bear every loss."""

    @property
    def layers(self):
        """None: nothing pays."""
        return []

    def covers(self, principal_fen, state):
        """Nothing is covered."""
        return np.zeros(len(principal_fen), dtype=bool)

    def capacity_fen(self, balance_fen):
        """Never pays."""
        return 0


@register("guarantee", "reserve_fund")
class ReserveFund(GuaranteePolicy):
    """Risk reserve fund (风险准备金): the platform's pot that pays investors until it is empty.

    It starts with ``initial_cny`` taken from the platform's capital, and is fed with
    ``principal_share`` of each new loan's principal (paid by the borrower at disbursement, 从借款本金
    中提取) and ``fee_share`` of the platform's service and management fees. Funding rules, applied
    at each month's opening from the platform's own cash: a top-up to ``target_coverage`` of the
    covered outstanding principal (``coverage_of = "outstanding"``) or of its part in arrears
    (``"arrears"``) and to the regulatory ``minimum_cny``; above ``cap_coverage`` of the same the
    excess goes back to the platform's cash. It pays investors' principal (and interest with
    ``covers_interest``) of covered loans ``trigger_days`` past due, in the order they fall due,
    until it is empty; its coverage ratio (fund / outstanding principal, and fund / principal in
    arrears) and its top-ups and releases are reported every day.
    """

    account = AccountKind.RESERVE_FUND

    class Params(GuaranteePolicy.Params):
        """Scenario keys (parameters) of this policy."""

        initial_cny: float = Field(0.0, ge=0.0, le=1e12)
        principal_share: float = Field(0.01, ge=0.0, le=0.2)
        fee_share: float = Field(0.0, ge=0.0, le=1.0)
        target_coverage: float | None = Field(
            None, gt=0.0, le=1.0, description="top up monthly to this share of coverage_of")
        coverage_of: Literal["outstanding", "arrears"] = Field(
            "outstanding", description="covered principal outstanding, or of it in arrears")
        minimum_cny: float = Field(0.0, ge=0.0, le=1e12, description="regulatory minimum balance")
        cap_coverage: float | None = Field(
            None, gt=0.0, le=1.0, description="excess over this share of coverage_of released")

        @model_validator(mode="after")
        def _cap_above_target(self):
            if (self.cap_coverage is not None and self.target_coverage is not None
                    and self.cap_coverage < self.target_coverage):
                raise ValueError("cap_coverage must be at least target_coverage")
            return self

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        self.initial_fen = to_fen(params.initial_cny)
        self.minimum_fen = to_fen(params.minimum_cny)
        self.fee_share = params.fee_share

    @property
    def has_funding_rules(self) -> bool:
        """Whether the fund's path depends on its own balance (top-ups, a minimum, a cap)."""
        p = self.params
        return p.target_coverage is not None or p.minimum_cny > 0 or p.cap_coverage is not None

    def contributions(self, principal_fen):
        """``principal_share`` of each loan's principal into the fund."""
        return (_share_fen(principal_fen, self.params.principal_share),
                np.zeros(len(principal_fen), dtype=np.int64))

    def month_transfer_fen(self, balance_fen, state):
        """Top up to the target coverage and the minimum; release what is over the cap."""
        if self.failed_day is not None or not self.has_funding_rules:
            return 0
        p = self.params
        covered = (state.guaranteed_arrears_fen if p.coverage_of == "arrears"
                   else state.guaranteed_outstanding_fen)
        floor = self.minimum_fen
        if p.target_coverage is not None:
            floor = max(floor, math.ceil(p.target_coverage * covered))
        if balance_fen < floor:
            return floor - balance_fen
        if p.cap_coverage is not None:
            ceiling = max(math.floor(p.cap_coverage * covered), floor)
            if balance_fen > ceiling:
                return ceiling - balance_fen
        return 0


@register("guarantee", "guarantor")
class ThirdPartyGuarantee(GuaranteePolicy):
    """Third-party guarantor (担保公司 / 小贷公司, P2B): 100 % principal and interest, with limits.

    The guarantor is an agent with its own capital (``capital_cny``, its ``guarantor_capital``
    account). Borrowers pay it a guarantee fee of ``guarantee_fee`` of principal at disbursement. It
    guarantees new loans only while its guaranteed outstanding principal stays within
    ``leverage_limit`` times its capital (融资性担保 放大倍数, usually 10); loans beyond that are listed
    without its guarantee. It pays (代偿) from ``trigger_days`` past due and keeps the recovery
    rights. When a payout exceeds what it has left it pays what it has and fails: it guarantees
    nothing more, pays nothing more, and later losses fall on investors.
    """

    account = AccountKind.GUARANTOR_CAPITAL

    class Params(GuaranteePolicy.Params):
        """Scenario keys (parameters) of this policy."""

        name: str = Field("guarantor", pattern=r"^[\w\-]+$", max_length=40)
        capital_cny: float = Field(10_000_000.0, ge=0.0, le=1e12)
        guarantee_fee: float = Field(0.02, ge=0.0, le=0.2, description="share of principal")
        leverage_limit: float = Field(10.0, gt=0.0, le=100.0)
        covers_interest: bool = True
        trigger_days: int = Field(30, ge=1, le=360)
        owner: Literal["third_party", "company"] = Field(
            "third_party", description="company: the platform's group's own guarantee arm "
            "(借贷担保): its capital, fees, payouts and provisions are the company's")
        unearned_fee_share: float = Field(
            0.5, ge=0.0, le=1.0, description="company arm: share of a year's fees kept as "
            "unearned (未到期责任准备金)")
        compensation_reserve_rate: float = Field(
            0.01, ge=0.0, le=0.1, description="company arm: added each year, of guaranteed "
            "principal (担保赔偿准备金)")
        compensation_reserve_cap: float = Field(
            0.1, ge=0.0, le=1.0, description="company arm: the compensation reserve's ceiling, "
            "of guaranteed principal")

        @model_validator(mode="after")
        def _company_keys_for_the_company_arm(self):
            """The provisions' keys are the company arm's: a third party's would be ignored.

            A value other than the default is refused; the default changes nothing either way,
            so ``--set ...owner=third_party`` on the seed plan still runs.
            """
            fields = type(self).model_fields
            given = sorted(key for key in COMPANY_ARM_KEYS & self.model_fields_set
                           if getattr(self, key) != fields[key].default)
            if self.owner != "company" and given:
                raise ValueError(f"{', '.join(given)}: the provisions of the company's own "
                                 f"guarantee arm; this guarantor's owner is {self.owner!r} (set "
                                 f"owner = \"company\", or leave them out)")
            return self

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        self.capital_fen = to_fen(params.capital_cny)
        self.fees_month_fen = 0  # fees received since the month opened
        self.fees_by_month: list[int] = []
        self.balance_by_month: list[int] = []
        self.provisions_fen = 0  # company arm: its provisions as of the last year's end

    def covers(self, principal_fen, state):
        """New loans in order while guaranteed principal <= leverage_limit x net assets.

        Net assets: its capital account, less (a company's arm) its provisions at the last
        year's end (:mod:`sim.company.guarantee_arm`).
        """
        if self.failed_day is not None:
            return np.zeros(len(principal_fen), dtype=bool)
        net_assets = state.guarantee_fund_fen - self.provisions_fen
        room = self.params.leverage_limit * net_assets - state.guaranteed_outstanding_fen
        return np.cumsum(principal_fen) <= room

    def record_fee(self, fee_fen: int) -> None:
        """Borrowers paid it ``fee_fen`` of guarantee fees today."""
        self.fees_month_fen += int(fee_fen)

    def month_closed(self, balance_fen: int) -> None:
        """A month closed with ``balance_fen`` guaranteed: a company arm's provisions follow it."""
        self.fees_by_month.append(self.fees_month_fen)
        self.balance_by_month.append(int(balance_fen))
        self.fees_month_fen = 0
        if self.params.owner == "company":
            p = self.params
            unearned, compensation = provisions_by_month(
                self.fees_by_month, self.balance_by_month, p.unearned_fee_share,
                p.compensation_reserve_rate, p.compensation_reserve_cap, close_last=False)
            self.provisions_fen = int(unearned[-1] + compensation[-1])

    def contributions(self, principal_fen):
        """The guarantee fee, paid by the borrower."""
        return (np.zeros(len(principal_fen), dtype=np.int64),
                _share_fen(principal_fen, self.params.guarantee_fee))

    def record_payout(self, paid_fen, asked_fen, day):
        """A guarantor that cannot pay in full has failed (its capital is gone)."""
        super().record_payout(paid_fen, asked_fen, day)
        if asked_fen > paid_fen and self.failed_day is None:
            self.failed_day = day


@register("guarantee", "insurance")
class CreditInsurance(GuaranteePolicy):
    """Credit insurance (履约保证保险): an insurer pays defaulted principal up to a limit.

    The platform pays a monthly premium of ``premium_rate / 12`` times the covered outstanding
    principal; if it cannot pay, the cover lapses (loans already covered stay covered up to the
    limit). The insurer pays from ``trigger_days`` past due (default: at write-off), until its total
    payouts reach ``limit_cny``; recoveries on paid claims go to the insurer.
    """

    account = None

    class Params(GuaranteePolicy.Params):
        """Scenario keys (parameters) of this policy."""

        premium_rate: float = Field(0.01, ge=0.0, le=0.5, description="annual, of covered book")
        limit_cny: float = Field(10_000_000.0, ge=0.0, le=1e12)
        trigger_days: int = Field(90, ge=1, le=360)

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        self.limit_fen = to_fen(params.limit_cny)
        self.lapsed = False

    def covers(self, principal_fen, state):
        """New loans are covered while the premium is paid (and the insurer stands)."""
        return np.full(len(principal_fen), not self.lapsed and self.failed_day is None)

    def premium_fen(self, state):
        """The month's premium on the covered book."""
        if self.lapsed:
            return 0
        return int(round(self.params.premium_rate / 12.0 * state.guaranteed_outstanding_fen))

    def record_premium(self, paid_fen, asked_fen):
        """An unpaid premium lapses the cover for new loans."""
        if paid_fen < asked_fen:
            self.lapsed = True

    def capacity_fen(self, balance_fen):
        """What is left of the limit (nothing once the insurer has failed)."""
        if self.failed_day is not None:
            return 0
        return max(self.limit_fen - self.paid_fen, 0)
