"""A reserve study's request, checked against its scenario: which platform, which layer, how solved.

``p2psim reserve`` sizes one protection layer of one platform: its reserve fund (风险准备金) or its
guarantor's capital (担保公司资本金), alone or as a layer of a ``layered`` scheme. :func:`check`
finds it, refuses what cannot be studied (exit 2 from the command line) and chooses the method:
one run for every size, or root-finding where the layer's path depends on its own size
(:mod:`sim.reserve.solver`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim import footprint
from sim.experiments.runner import EXECUTORS
from sim.money import to_fen
from sim.policies import build
from sim.policies.guarantee import ThirdPartyGuarantee
from sim.reserve.sampling import METHODS
from sim.reserve.solver import Unknown
from sim.scenario import Scenario, load_scenario, policy_context

LAYERS = {"reserve_fund": "reserve_fund", "guarantor": "guarantor_capital"}  # --layer: its account
SOLVERS = ("auto", "one-run", "root-finding")
REFINE = ("near-quantiles", "every-path")  # which paths root-finding solves to the end
MAX_PATHS = 1_000_000  # a study's paths, each a whole run: past this it is never finished


class ReserveError(ValueError):
    """A reserve study that cannot be run as asked; ``str(error)`` is the message for the user."""


@dataclass
class ReserveRequest:
    """What the user asked for (the command line's options)."""

    scenario: str
    out: str | None = None
    paths: int = 400
    horizon_months: int | None = None
    confidence: tuple[float, ...] = (0.99, 0.999)
    method: str = "importance"
    stratify: bool = True
    initial_reserve_cny: float | None = None
    platform: str | None = None
    seed: int | None = None
    workers: int = 2
    executor: str = "process"
    scheduler: str | None = None
    overrides: dict[str, Any] | None = None
    quiet: bool = False
    layer: str = "reserve_fund"    # the layer sized: "reserve_fund" or "guarantor"
    solve: str = "size"            # root-finding's unknown: "size", "principal_share", "fee_share"
    solver: str = "auto"           # "auto", "one-run" or "root-finding"
    refine: str = "near-quantiles"  # root-finding: "near-quantiles" or "every-path"
    label: str | None = None       # what the progress bar calls it (default: the scenario's name)
    effects: bool = False          # side studies: each effect separating it from the closed form


@dataclass
class Plan:
    """A checked request: the scenario, the platform and the numbers the paths need."""

    scenario: Scenario
    platform: int
    horizon_months: int
    confidence: list[float]
    initial_reserve_fen: int
    contribution_rate: float
    fee_share: float
    seed: int
    layer: str = "reserve_fund"
    solver: str = "one-run"
    solver_reason: str = ""
    unknown: Unknown | None = None
    refine: str = "every-path"  # root-finding: which paths are solved to the end


def check(request: ReserveRequest) -> Plan:
    """Validate the request against its scenario; raise :class:`ReserveError` (or ScenarioError)."""
    label = request.scenario
    if not request.confidence:
        raise ReserveError("--confidence: give at least one level, e.g. 0.99 0.999")
    for level in request.confidence:
        if not (isinstance(level, float | int) and 0.0 < level < 1.0):
            raise ReserveError(f"--confidence {level}: must be strictly between 0 and 1 "
                               f"(e.g. 0.99 for 99 %)")
    if not 2 <= request.paths <= MAX_PATHS:
        raise ReserveError(f"--paths {request.paths}: must be 2 to {MAX_PATHS:,} (Monte-Carlo "
                           f"errors need two paths; a study needs hundreds, each a whole run)")
    for option, value, allowed in (("--method", request.method, METHODS),
                                   ("--executor", request.executor, EXECUTORS),
                                   ("--layer", request.layer, tuple(LAYERS)),
                                   ("--solver", request.solver, SOLVERS),
                                   ("--refine", request.refine, REFINE)):
        if value not in allowed:
            raise ReserveError(f"{option} {value!r}: allowed: {', '.join(allowed)}")
    if request.workers < 1:
        raise ReserveError(f"--workers {request.workers}: must be at least 1")
    if request.seed is not None and request.seed < 0:
        raise ReserveError(f"--seed {request.seed}: must be >= 0")
    scenario = load_scenario(request.scenario, request.overrides or {})
    try:
        footprint.check_study(scenario, request.paths, request.workers, f"--paths {request.paths}")
    except ValueError as error:
        raise ReserveError(f"{label}: {error}") from None
    months = scenario.run.horizon_days // 30
    horizon = months if request.horizon_months is None else request.horizon_months
    if not 1 <= horizon <= months:
        raise ReserveError(f"--horizon-months {horizon}: must be 1 to {months}, the scenario's "
                           f"horizon ({label}: run.horizon_days = {scenario.run.horizon_days})")
    platform = _layer_platform(scenario, request.platform, request.layer, label)
    where, layer = _find_layer(scenario, platform, request.layer)
    size_key = "initial_cny" if request.layer == "reserve_fund" else "capital_cny"
    size = getattr(layer.params, size_key)
    if request.initial_reserve_cny is not None:
        size = request.initial_reserve_cny
    if not (math.isfinite(size) and size >= 0):
        raise ReserveError(f"--initial-reserve {size}: must be a non-negative amount in CNY")
    solver, reason = _solver(request, layer, f"{label}: {where}")
    unknown = None
    if solver == "root-finding":
        unknown = _unknown(request, layer, where, size_key, size, label)
    rate, fee = ((layer.params.principal_share, layer.params.fee_share)
                 if request.layer == "reserve_fund" else (0.0, 0.0))
    return Plan(scenario=scenario, platform=platform, horizon_months=horizon,
                confidence=sorted(set(float(c) for c in request.confidence)),
                initial_reserve_fen=to_fen(size), contribution_rate=float(rate),
                fee_share=float(fee),
                seed=scenario.run.seed if request.seed is None else request.seed,
                layer=request.layer, solver=solver, solver_reason=reason, unknown=unknown,
                refine=_refine(request, unknown))


def _refine(request: ReserveRequest, unknown: Unknown | None) -> str:
    """Which paths root-finding solves to the end.

    A size's quantiles need only the paths near them; a share's frontier (the probability of
    needing more than each rate) needs every path.
    """
    if unknown is None or unknown.name != "size":
        return "every-path"
    return request.refine


def _solver(request: ReserveRequest, layer, where: str) -> tuple[str, str]:
    """One run for every size, or root-finding; and why."""
    feedback = []
    if isinstance(layer, ThirdPartyGuarantee):
        feedback.append("its leverage limit makes the loans it covers depend on its capital")
    if getattr(layer, "has_funding_rules", False):
        feedback.append("its funding rules (target_coverage, minimum_cny, cap_coverage) read its "
                        "balance")
    if request.solver == "one-run" and feedback:
        raise ReserveError(f"--solver one-run: {where}: {'; '.join(feedback)}, so its path depends "
                           f"on its own size, which one run for every size assumes it does not; "
                           f"use --solver root-finding (or auto)")
    if request.solver == "root-finding" or (request.solver == "auto" and feedback):
        why = "; ".join(feedback) or "asked for (--solver root-finding)"
        return "root-finding", f"root-finding over the size with common random numbers: {why}"
    if request.solve != "size":
        raise ReserveError(f"--solve {request.solve}: one run answers for every value at once "
                           f"(size, principal share and fee share are all reported); --solve "
                           f"chooses the unknown of --solver root-finding")
    return "one-run", ("one run for every size: nothing the layer's path depends on reads its "
                       "balance before it runs dry")


def _unknown(request: ReserveRequest, layer, where: str, size_key: str, size: float,
             label: str) -> Unknown:
    """What root-finding solves for: the layer's size or one of a reserve's shares."""
    allowed = ("size", "principal_share", "fee_share") if request.layer == "reserve_fund" \
        else ("size",)
    if request.solve not in allowed:
        raise ReserveError(f"--solve {request.solve}: {label}: {where} ({request.layer}) has no "
                           f"{request.solve}; allowed with --layer {request.layer}: "
                           f"{', '.join(allowed)}")
    key = f"{where.replace('[', '.').replace(']', '')}"
    if request.solve == "size":  # a guarantor's capital to 2 %: its leverage limit's edge is
        tolerance = 0.005 if request.layer == "reserve_fund" else 0.02  # ragged (monthly checks)
        return Unknown("size", f"{key}.{size_key}", "required_reserve", float(size), 100,
                       tolerance=tolerance)
    start = float(getattr(layer.params, request.solve))
    answer = "required_rate" if request.solve == "principal_share" else "required_fee_share"
    largest = type(layer.params).model_fields[request.solve].metadata  # the scenario key's bound
    bound = next((m.le for m in largest if getattr(m, "le", None) is not None), 1.0)
    return Unknown(request.solve, f"{key}.{request.solve}", answer, start, largest=float(bound))


def _layers(scenario: Scenario, index: int) -> list:
    """The platform's protection layers, built as the market builds them."""
    platform = scenario.platforms[index]
    return build("guarantee", platform.guarantee, policy_context(scenario, platform),
                 scenario.source_dir).layers


def _find_layer(scenario: Scenario, index: int, kind: str):
    """The platform's ``kind`` layer and where it is (``platforms[0].guarantee.layers[1]``)."""
    layers = _layers(scenario, index)
    h = next(h for h, layer in enumerate(layers) if layer.account == LAYERS[kind])
    layered = scenario.platforms[index].guarantee.get("policy") == "layered"
    where = f"platforms[{index}].guarantee" + (f".layers[{h}]" if layered else "")
    return where, layers[h]


def _layer_platform(scenario: Scenario, name: str | None, kind: str, label: str) -> int:
    """Index of the platform whose ``kind`` layer (reserve fund or guarantor) is studied."""
    account = LAYERS[kind]
    having = [i for i in range(len(scenario.platforms))
              if any(layer.account == account for layer in _layers(scenario, i))]
    names = [p.name for p in scenario.platforms]
    wanted = f"[platforms.guarantee] policy = \"{kind}\" (or a layer of a \"layered\" one)"
    if name is not None:
        if name not in names:
            raise ReserveError(f"--platform {name!r}: {label} has no such platform; it has "
                               f"{', '.join(names)}")
        index = names.index(name)
        if index not in having:
            policy = scenario.platforms[index].guarantee.get("policy")
            raise ReserveError(f"--platform {name}: {label}: platforms[{index}].guarantee.policy is "
                               f"{policy!r} with no {kind} layer; --layer {kind} needs {wanted}")
        return index
    if not having:
        policies = ", ".join(f"platforms[{i}].guarantee.policy = {p.guarantee.get('policy')!r}"
                             for i, p in enumerate(scenario.platforms))
        raise ReserveError(f"{label}: no platform has a {kind} layer ({policies}); --layer {kind} "
                           f"needs a platform with {wanted}")
    if len(having) > 1:
        raise ReserveError(f"{label}: several platforms have a {kind} layer "
                           f"({', '.join(names[i] for i in having)}); choose one with "
                           f"--platform NAME")
    return having[0]
