"""Layered protection (多层保障): an ordered list of guarantees, each paying what the one before could not.

The seed platforms' schemes were layered: a small-loan company guaranteeing 100 % of principal and
interest first, a fee-fed risk reserve behind it, sometimes credit insurance behind both. In a
scenario::

    [platforms.guarantee]
    policy = "layered"

    [[platforms.guarantee.layers]]
    policy = "guarantor"
    capital_cny = 20_000_000

    [[platforms.guarantee.layers]]
    policy = "reserve_fund"
    principal_share = 0.01

Each layer is a guarantee policy of its own (:mod:`sim.policies.guarantee`) with its own trigger,
cover, funding and failure, and its own ledger account; so a platform has at most one layer of each
kind (one reserve fund, one guarantor, one insurer), and a layer's ``trigger_days`` is at least
that of the layer ahead of it. On a loan's trigger day a layer is asked for what the layers ahead
have not paid; a layer with another behind it pays whole loans only (the first it cannot pay in
full is left, with the rest of the day's, to the next), so each claim has one holder, the layer
that paid it, to which the loan's later repayments and recovery go.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sim.policies.base import Policy, PolicyContext, PolicyError, PolicyParams
from sim.policies.guarantee import GuaranteePolicy, NoGuarantee
from sim.policies.registry import build, register

MAX_LAYERS = 3  # as sim.kernels.MAX_LAYERS: one layer per account kind (reserve, guarantor, insurer)


@register("guarantee", "layered")
class LayeredProtection(GuaranteePolicy):
    """Ordered protection layers: the first pays, the next pays what it could not, and so on.

    The scheme as a whole has paid what its layers paid, left unpaid what the last layer asked for
    and could not pay (borne by investors), and has failed once every layer has (the day the last
    one failed). A stress event (``[stress] guarantee_fails_month``) fails the first layer: the
    guarantor in the usual scheme, whose failure the layers behind it are there for.
    """

    REQUIRED = ()

    class Params(PolicyParams):
        """Scenario keys (parameters) of this policy."""

        layers: list[dict[str, Any]] = Field(
            default_factory=list, description="the layers, first to pay first (tables with policy)")

    def __init__(self, params, context: PolicyContext) -> None:
        Policy.__init__(self, params, context)
        if not params.layers:
            raise PolicyError("layers", "is empty: give 1 to 3 layers, each a table with a policy "
                              "('guarantor', 'reserve_fund', 'insurance')")
        if len(params.layers) > MAX_LAYERS:
            raise PolicyError("layers", f"has {len(params.layers)} layers; at most {MAX_LAYERS} "
                              "(one of each kind: guarantor, reserve_fund, insurance)")
        self._layers = [self._build_layer(i, spec, context)
                        for i, spec in enumerate(params.layers)]
        kinds = [layer.account or "insurer" for layer in self._layers]
        for i, kind in enumerate(kinds):
            if kind in kinds[:i]:
                raise PolicyError(f"layers.{i}.policy", f"a second layer paying from {kind!r}: a "
                                  "platform has one layer of each kind")
        for i in range(1, len(self._layers)):
            ahead, behind = self._layers[i - 1].trigger_days, self._layers[i].trigger_days
            if behind < ahead:
                raise PolicyError(f"layers.{i}.trigger_days", f"is {behind}, before the layer "
                                  f"ahead of it ({ahead}): a layer pays what the ones ahead could "
                                  f"not, so its trigger is at least theirs")
        self.trigger_days = self._layers[0].trigger_days
        self.covers_interest = any(layer.covers_interest for layer in self._layers)
        self.unpaid_fen = 0  # asked of the last layer and not paid: borne by investors
        self.top_up_short_fen = 0

    @staticmethod
    def _build_layer(i: int, spec: Any, context: PolicyContext) -> GuaranteePolicy:
        if not isinstance(spec, dict) or "policy" not in spec:
            raise PolicyError(f"layers.{i}", "must be a table with a policy (e.g. "
                              "policy = \"reserve_fund\")")
        if spec["policy"] in ("none", "layered"):
            raise PolicyError(f"layers.{i}.policy", f"{spec['policy']!r} cannot be a layer; "
                              "allowed: 'guarantor', 'reserve_fund', 'insurance' or a user's class")
        try:
            layer = build("guarantee", spec, context, context.source_dir)
        except PolicyError as error:
            raise PolicyError(f"layers.{i}.{error.key}", str(error)) from None
        if isinstance(layer, NoGuarantee):
            raise PolicyError(f"layers.{i}.policy", "a layer must pay: not 'none'")
        return layer

    @property
    def layers(self) -> list[GuaranteePolicy]:
        """The layers, first to pay first."""
        return self._layers

    @property
    def paid_fen(self) -> int:
        """What its layers have paid (fen)."""
        return sum(layer.paid_fen for layer in self._layers)

    @paid_fen.setter
    def paid_fen(self, value) -> None:  # the layers keep their own counts
        pass

    def record_payout(self, paid_fen: int, asked_fen: int, day: int) -> None:
        """Told what the scheme paid on a day and what was asked of its first layer."""
        self.unpaid_fen += asked_fen - paid_fen

    @property
    def failed_day(self) -> int | None:
        """The day the last of its layers failed (None while one stands)."""
        days = [layer.failed_day for layer in self._layers]
        return None if None in days else max(days)

    @failed_day.setter
    def failed_day(self, day) -> None:  # the base class sets it; the layers' days decide
        pass

    def fail(self, day: int) -> None:
        """A stress event fails the first layer."""
        self._layers[0].fail(day)
