"""The pooled platforms' own tables of ``[industry]``: behaviour with no news, and their reserve.

``[industry.behaviour]``     the pooled platforms' investors and liquidity rules, with no news
``[industry.reserve_fund]``  a reserve-fund platform's reserve (风险准备金): the keys of a detailed
                             platform's ``reserve_fund`` layer that a pooled platform uses, with
                             the same meaning (:mod:`sim.policies.guarantee`)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
DailyRate = Annotated[float, Field(ge=0.0, le=0.5)]
DETAILED_ONLY = {
    "transfers": "债权转让 (selling notes) needs notes per loan",
    "liquidity": "liquidity rules (gates, lock-ups, transfers, custody) are a detailed platform's",
    "trust": "trust per investor and platform is kept only for detailed platforms",
    "runs": "runs with trust per investor are a detailed platform's",
    "notes": "notes per loan are kept only for detailed platforms",
}
"""Keys a pooled platform cannot have, and why: they belong to a platform of full detail."""
RENAMED = {"pull_share": "trust_lost (the trust, 0-1, the investors it reaches lose)",
           "withdrawal_multiplier": "wear_multiplier (how fast it wears trust away)",
           "reserve_share_of_fees": "[industry.reserve_fund] fee_share (the same key as a "
                                    "detailed platform's reserve_fund layer)"}
"""Keys renamed when the channels came to act on trust and the reserve joined the one
protection path (issue 41)."""


class Section(BaseModel):
    """A table of ``[industry]``: strict, and a key that moved or is a detailed platform's is named."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _detailed_only(cls, data):
        if isinstance(data, dict):
            for key, why in DETAILED_ONLY.items():
                if key in data and key not in cls.model_fields:
                    raise ValueError(f"{key}: {why}; give it to one of the scenario's [[platforms]] "
                                     f"(a platform in full detail), not to the pooled industry")
            for key in set(RENAMED) & set(data) - set(cls.model_fields):
                raise ValueError(f"{key}: renamed {RENAMED[key]}")
        return data


MOVED_TO_RUNS = {"stop_sensitivity": "stop_reinvest_margin (how far above the run threshold "
                                    "investors stop reinvesting)",
                 "return_ratio": "thresholds (investors come back once their trust is above "
                                 "withdraw_below + stop_reinvest_margin again)"}
"""Keys of ``[industry.behaviour]`` that the one decision rule of ``[runs]`` replaced (issue 41)."""


class IndustryBehaviour(Section):
    """The industry's investors and liquidity rules, every platform's, with no news at all.

    Whether an investor stops reinvesting or runs is decided, for pooled and detailed platforms
    alike, by their trust and the one decision rule of ``[runs]`` (:mod:`sim.runs.pooled`).
    """

    @model_validator(mode="before")
    @classmethod
    def _moved_to_runs(cls, data):
        moved = keys_given(data, MOVED_TO_RUNS)
        if moved:
            raise ValueError(
                f"{', '.join(moved)}: no longer a key; a pooled platform's investors stop "
                f"reinvesting and run by their trust and the one decision rule, as a detailed "
                f"platform's do; set [runs] enabled = true and its {MOVED_TO_RUNS[moved[0]]}")
        return data

    withdrawal_daily: DailyRate = Field(0.002, description="share of a holding asked back a day, "
                                        "on every platform of the industry")
    deposit_daily: DailyRate = Field(0.0022, description="new money a day, share of a lending "
                                     "holding, on every platform of the industry")
    cash_buffer: Probability = Field(0.08, description="share of investors' money kept as cash")
    management_fee: Probability = Field(
        0.2, description="利息管理费: the platform's share of the interest borrowers pay")
    difficulty_share: Probability = Field(
        0.05, description="a platform of the industry is late (in 提现困难) while what it promised "
        "on demand and could not pay exceeds this share of its investors' money")
    fail_after_days: int = Field(10, ge=1, le=360, description="days in 提现困难 before a platform "
                                 "of the industry fails (outside one: [platforms.liquidity]'s)")
    flee_share: Probability = Field(
        0.5, description="跑路: share of what the operators can reach that they take, as "
        "[platforms.liquidity] flee_share (without custody: the investors' cash too)")
    operating_cost_monthly: Probability = Field(0.0008, description="costs a month, share of the "
                                                "outstanding book")
    flight_share: Probability = Field(0.0, description="flight to quality: share of the money "
                                      "paid out that is deposited again with trusted platforms")
    quality_preference: float = Field(
        1.0, ge=0.0, le=10.0, description="how strongly flight money prefers trusted platforms: "
        "weight = money × vulnerability ** -this")


class IndustryReserveFund(Section):
    """A pooled reserve-fund platform's reserve (风险准备金), paid out by the detailed layer's rule.

    At ``trigger_days`` past due the reserve pays the loan's investors its principal (and, with
    ``covers_interest``, the overdue interest) and takes the loan over (代偿), while it has money
    and the platform operates; a loan has one holder, so it buys whole loans. Fed by
    ``principal_share`` of each new loan (paid by the borrower) and ``fee_share`` of the
    management fee; it opens with ``opening_coverage`` of the platform's opening book, put in
    by its owners within the registered capital (a detailed reserve's ``initial_cny``).
    """

    trigger_days: int = Field(30, ge=1, le=360, description="days past due before payout (代偿), "
                              "at most loans.default_after_days")
    covers_interest: bool = Field(False, description="pay the overdue instalments' interest too")
    principal_share: float = Field(0.0, ge=0.0, le=0.2, description="of each new loan's "
                                   "principal, paid by the borrower into the reserve")
    fee_share: Probability = Field(0.5, description="of the management fee, into the reserve")
    opening_coverage: Probability = Field(0.0, description="the reserve on day 0, share of the "
                                          "platform's opening book (from its owners)")


OWN_FLOWS = ("monthly_deposit_median_cny", "withdraw_share_monthly")


def refuse_own_flows(investors, fields) -> None:
    """Inside an industry, ``[investors]`` may not give a detailed platform flows of its own.

    Every platform's investors deposit and withdraw by ``[industry.behaviour]`` (one rule for
    pooled and detailed platforms, :mod:`sim.runs.flows`). A key at its default (``fields``, the
    ``[investors]`` model's) is let through: a scenario validated again from its own dump
    carries every default.
    """
    given = [key for key in keys_given(investors, OWN_FLOWS)
             if investors[key] != fields[key].default]
    if given:
        raise ValueError(f"investors.{given[0]}: inside an industry every platform's investors "
                         f"deposit and withdraw by [industry.behaviour] deposit_daily and "
                         f"withdrawal_daily, pooled and detailed alike; remove it")


def keys_given(data, keys) -> list[str]:
    """Which of ``keys`` a section's raw ``data`` (a dict, or anything else: none) gives, sorted."""
    return sorted(set(data) & set(keys)) if isinstance(data, dict) else []
