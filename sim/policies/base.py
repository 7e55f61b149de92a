"""What every policy shares: the facts it is built with, the state it reads, the registry.

Policies are built with the market's facts (:class:`PolicyContext`), read the platform's state at
the start of each month (:class:`PlatformState`), and are found by the name a scenario gives them.

A policy family (pricing, risk, guarantee, marketing) is a small protocol: a class with one or two
methods that *decide* (which rate, who is approved, how much the guarantee pays, how many users a
channel brings). Policies never move money; the engine applies the decision and books it.

A scenario names a policy in the platform's table of its family, with its parameters beside it::

    [platforms.pricing]
    policy = "risk_based"        # a built-in name, or "package.module:ClassName" for your own
    cost_of_funds = 0.08

A built-in policy declares its parameters as a pydantic model named ``Params``; the scenario's keys
are validated against it before the run (unknown keys, types and ranges), and the policy is
constructed as ``Policy(params, context)``. A user's class may declare ``Params`` too; without it,
the parameters arrive as a plain ``dict``.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

FAMILIES = ("pricing", "risk", "guarantee", "marketing")


class PolicyError(ValueError):
    """A policy that cannot be built: unknown name, import failure, wrong protocol or parameters.

    ``key`` is the parameter at fault (``"cap"``), or ``"policy"`` when the name itself is.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class PolicyParams(BaseModel):
    """Base of the built-in policies' parameter models: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)


@dataclass(frozen=True)
class PolicyContext:
    """Market facts a policy is built with (the scenario's grades; rates annual, hazards monthly).

    Attributes
    ----------
    platform : str
        Name of the platform that uses the policy.
    grade_names : list of str
        Grades, best first.
    grade_rate : numpy.ndarray
        The market's annual rate of each grade (利率), before the platform's own pricing.
    default_hazard_monthly : numpy.ndarray
        Long-run monthly default hazard of each grade.
    recovery_rate : numpy.ndarray
        Share of a defaulted balance recovered, by grade.
    cure_probability : float
        Chance a delinquent borrower pays all arrears on a due date.
    default_after_days : int
        Days past due at which a loan is written off.
    """

    platform: str
    grade_names: list[str]
    grade_rate: np.ndarray
    default_hazard_monthly: np.ndarray
    recovery_rate: np.ndarray
    cure_probability: float
    default_after_days: int


@dataclass
class PlatformState:
    """What a platform knows about itself at the start of a month, for its policies to read.

    Amounts in fen, rates annual, shares as fractions. Updated by the engine on the first day of
    every month (``month`` 0 has no history yet: counts are zero and rates are NaN).
    """

    month: int = 0
    day: int = 0
    listings_closed: int = 0            # listings funded or failed last month
    listings_funded: int = 0
    fill_rate: float = float("nan")     # funded / closed, last month
    mean_days_to_fill: float = float("nan")  # days from listing to full, funded listings
    rate_premium: float = 0.0           # mean offered rate minus the grade's market rate, last month
    outstanding_fen: int = 0            # principal of active loans
    outstanding_by_grade_fen: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    loans_in_arrears: int = 0           # active loans with an unpaid instalment
    recent_bad_rate: float = float("nan")  # early-warning measure of recent vintages (see risk)
    loss_rate_annual: float = 0.0       # defaulted principal of the last 3 months / book, annual
    investor_return_annual: float = 0.0  # investors' realised return on this platform so far
    active_investors: int = 0
    platform_cash_fen: int = 0
    guarantee_fund_fen: int = 0         # balance of the guarantee's account (reserve, capital)
    guaranteed_outstanding_fen: int = 0  # principal of loans the guarantee covers


# --------------------------------------------------------------------------- the registry

_REGISTRY: dict[str, dict[str, type]] = {family: {} for family in FAMILIES}
REQUIRED_METHODS = {
    "pricing": ("price",),
    "risk": ("review",),
    "guarantee": ("covers", "capacity_fen"),
    "marketing": ("plan_month",),
}


def register(family: str, name: str):
    """Class decorator: make a policy available to scenarios as ``policy = "name"``."""
    def decorate(cls):
        _REGISTRY[family][name] = cls
        cls.policy_name = name
        return cls
    return decorate


def builtin_names(family: str) -> list[str]:
    """Names of the built-in policies of a family."""
    _load_builtins()
    return sorted(_REGISTRY[family])


def resolve(family: str, name: str, search_dir: str | Path | None = None) -> type:
    """The class a scenario's ``policy = name`` refers to.

    ``name`` is a built-in name or ``package.module:ClassName``; a module that is not importable as
    it is is also looked for in ``search_dir`` (the scenario's folder).

    Raises
    ------
    PolicyError
        If the name is unknown, the module or class cannot be imported, or the class lacks a method
        of the family's protocol.
    """
    _load_builtins()
    if name in _REGISTRY[family]:
        return _REGISTRY[family][name]
    if ":" not in name:
        raise PolicyError("policy", f"unknown {family} policy {name!r}; built-in: "
                          f"{', '.join(builtin_names(family))}, or 'package.module:ClassName'")
    module_name, _, class_name = name.partition(":")
    try:
        module = _import(module_name, search_dir)
    except Exception as error:  # noqa: BLE001 - any failure in the user's module is reported
        raise PolicyError("policy", f"cannot import module {module_name!r} for {family} policy "
                          f"{name!r}: {type(error).__name__}: {error}") from None
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        raise PolicyError("policy", f"module {module_name!r} has no class {class_name!r}")
    if family == "guarantee":
        from sim.policies.guarantee import GuaranteePolicy
        if not issubclass(cls, GuaranteePolicy):
            raise PolicyError("policy", f"{name!r} must subclass "
                              "sim.policies.guarantee.GuaranteePolicy (see docs/policies.md)")
    missing = [m for m in REQUIRED_METHODS[family] if not callable(getattr(cls, m, None))]
    if missing:
        raise PolicyError("policy", f"{name!r} does not follow the {family} protocol: it lacks "
                          f"{', '.join(m + '()' for m in missing)} (see docs/policies.md)")
    return cls


def _import(module_name: str, search_dir: str | Path | None):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if search_dir is None or error.name != module_name.split(".")[0]:
            raise
    sys.path.insert(0, str(search_dir))
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(str(search_dir))


def validate_params(cls: type, params: dict[str, Any]) -> Any:
    """Validate a scenario's parameters for a policy class; return what its constructor takes.

    Raises
    ------
    PolicyError
        Naming the first parameter at fault and what is allowed.
    """
    model = getattr(cls, "Params", None)
    if not (inspect.isclass(model) and issubclass(model, BaseModel)):
        return dict(params)
    try:
        return model.model_validate(params)
    except ValidationError as error:
        item = error.errors()[0]
        key = ".".join(str(p) for p in item["loc"]) or "policy"
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(["policy", *model.model_fields])
            raise PolicyError(key, f"unknown parameter; allowed here: {allowed}") from None
        message = item["msg"].removeprefix("Value error, ")
        if "input" in item and not isinstance(item["input"], dict):
            message += f" (got {item['input']!r})"
        raise PolicyError(key, message) from None


def build(family: str, spec: dict[str, Any], context: PolicyContext,
          search_dir: str | Path | None = None):
    """Build the policy a scenario section describes (``{"policy": name, **params}``)."""
    params = {k: v for k, v in spec.items() if k != "policy"}
    name = spec.get("policy", "")
    cls = resolve(family, name, search_dir)
    validated = validate_params(cls, params)
    if name not in _REGISTRY[family]:  # a user's class: every call is checked
        from sim.policies.checks import checked
        cls = checked(cls, family, name)
    try:
        return cls(validated, context)
    except PolicyError:
        raise
    except (ValueError, TypeError) as error:
        raise PolicyError("policy", f"{name!r} refused its parameters: {error}") from None
    except Exception as error:  # noqa: BLE001 - a user's constructor may raise anything
        raise PolicyError("policy", f"{name!r} could not be built: {type(error).__name__}: "
                          f"{error}") from None


_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from sim.policies import guarantee, marketing, pricing, risk  # noqa: F401 - they register
