"""Guard rails around a user's own policy: every call is checked, and a fault stops the run clearly.

A user's class (``policy = "module:Class"``) is built as a subclass made here (:func:`checked`), so
``isinstance`` still holds and nothing else changes, in which each method of the family's protocol

* turns any exception into a :class:`PolicyFault` that names the policy, the platform, the day and
  what went wrong, and keeps the user's own part of the traceback;
* checks what it returns: the right type and length, no NaN where none is allowed, no infinity,
  no negative amount, rates and probabilities within [0, 1].

Built-in policies are not wrapped: they are tested, and their calls cost nothing extra.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.policies.base import ChannelOutcome, MarketingPlan

_SIM_DIR = str(Path(__file__).resolve().parents[1])


class PolicyFault(RuntimeError):
    """A user's policy raised or returned something the engine cannot use; the run stops.

    ``str(fault)`` names the policy, the platform, the day and the fault; ``user_traceback`` is
    the part of the traceback in the user's own code (empty for a bad return value).
    """

    def __init__(self, message: str, user_traceback: str = "") -> None:
        super().__init__(message)
        self.user_traceback = user_traceback

    def __reduce__(self):  # travels intact from a worker process
        return (type(self), (str(self), self.user_traceback))


class _BadValue(ValueError):
    """A return value that breaks the protocol (raised inside the checks, reported as a fault)."""


# --------------------------------------------------------------------------- value checks

def _array(value: Any, n: int, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything that is not an array is the fault
        raise _BadValue(f"{what} must be an array, got {type(value).__name__}") from None
    if array.shape != (n,):
        raise _BadValue(f"{what} must be an array of {n} values (one per item), got shape "
                        f"{array.shape}")
    if array.dtype.kind not in "biuf":
        raise _BadValue(f"{what} must hold numbers, got {array.dtype}")
    return array


def _numbers(value: Any, n: int, what: str, *, low: float = 0.0, high: float = math.inf,
             nan_allowed: bool = False) -> np.ndarray:
    array = _array(value, n, what).astype(np.float64)
    nan = np.isnan(array)
    if nan.any() and not nan_allowed:
        raise _BadValue(f"{what} holds NaN at position {int(np.argmax(nan))}")
    real = array[~nan]
    bad = ~np.isfinite(real) | (real < low) | (real > high)
    if bad.any():
        value = float(real[np.argmax(bad)])
        allowed = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"at least {low:g}"
        raise _BadValue(f"{what} holds {value!r}; allowed: finite numbers {allowed}"
                        + (" (NaN to decline)" if nan_allowed else ""))
    return array


def _number(value: Any, what: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _BadValue(f"{what} must be a number, got {type(value).__name__}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise _BadValue(f"{what} is {number!r}; allowed: finite, {low:g} to {high:g}")
    return number


def _pair(value: Any, what: str, size: int = 2) -> tuple:
    if not isinstance(value, tuple | list) or len(value) != size:
        raise _BadValue(f"{what} must return a tuple of {size}, got {type(value).__name__}")
    return tuple(value)


def _check_price(result, applicants, state):
    _numbers(result, _count(applicants), "the rates returned", high=1.0, nan_allowed=True)


def _check_review(result, applicants, rates, state):
    approved, amount = _pair(result, "review()")
    n = _count(applicants)
    flags = _numbers(approved, n, "the approvals returned", high=1.0)
    if not np.isin(flags, (0.0, 1.0)).all():
        raise _BadValue(f"the approvals returned hold {float(flags[~np.isin(flags, (0.0, 1.0))][0])!r}"
                       f"; allowed: True or False (1 or 0)")
    _numbers(amount, n, "the amounts returned (fen)", high=1e13)


def _check_collection(result, recovery, cure):
    recovery_rate, cure_probability, cost = _pair(result, "collection()", 3)
    _numbers(recovery_rate, len(recovery), "the recovery rates returned", high=1.0)
    _numbers(cure_probability, len(cure), "the cure probabilities returned", high=1.0)
    _number(cost, "the collection cost per case returned (fen)", high=1e13)


def _check_covers(result, principal, state):
    _numbers(result, len(principal), "the cover flags returned", high=1.0)


def _check_contributions(result, principal):
    contribution, fee = _pair(result, "contributions()")
    _numbers(contribution, len(principal), "the contributions returned (fen)", high=1e13)
    _numbers(fee, len(principal), "the guarantee fees returned (fen)", high=1e13)


def _check_amount(result, *args):
    _number(result, "the amount returned (fen)", high=1e15)


def _check_plan(plan, state):
    if not isinstance(plan, MarketingPlan):
        raise _BadValue(f"plan_month() must return a sim.policies.marketing.MarketingPlan, got "
                        f"{type(plan).__name__}")
    _number(plan.organic_investors, "organic_investors", high=1e8)
    for channel in plan.channels:
        if not isinstance(channel, ChannelOutcome):
            raise _BadValue(f"each channel must be a ChannelOutcome, got {type(channel).__name__}")
        _number(channel.spend_fen, f"channel {channel.name!r}: spend_fen", high=1e15)
        _number(channel.expected_users, f"channel {channel.name!r}: expected_users", high=1e8)
        if channel.side not in ("investors", "borrowers"):
            raise _BadValue(f"channel {channel.name!r}: side must be 'investors' or 'borrowers'")


def _count(applicants) -> int:
    return len(applicants["grade"])


CHECKS: dict[str, dict[str, Callable | None]] = {
    "pricing": {"price": _check_price, "end_of_month": None},
    "risk": {"review": _check_review, "collection": _check_collection, "end_of_month": None},
    "guarantee": {"covers": _check_covers, "contributions": _check_contributions,
                  "premium_fen": _check_amount, "capacity_fen": _check_amount,
                  "record_payout": None, "record_premium": None, "fail": None,
                  "end_of_month": None},
    "marketing": {"plan_month": _check_plan, "end_of_month": None},
}
"""Per family, the protocol's methods and the check of what each returns (None: nothing returned)."""


# --------------------------------------------------------------------------- the checked subclass

def checked(cls: type, base: type, family: str, name: str) -> type:
    """A subclass of the user's ``cls`` whose protocol methods are checked (see the module doc).

    A class that does not subclass its family's ``base`` gets the base's optional methods too.
    """
    bases = (cls,) if issubclass(cls, base) else (cls, base)
    combined = type(cls.__name__, bases, {})
    methods = {}
    for method, check in CHECKS[family].items():
        if callable(getattr(combined, method, None)):
            methods[method] = _guard(getattr(combined, method), method, check, family, name)
    return type(cls.__name__, bases, {**methods, "p2psim_checked": True,
                                       "p2psim_where": ("?", None),
                                       "__module__": cls.__module__,
                                       "__qualname__": cls.__qualname__,
                                       "__doc__": cls.__doc__})


def bind(policy: Any, platform: str, clock: Callable[[], int]) -> None:
    """Tell a checked policy its platform's name and where to read the day (for its messages)."""
    if getattr(type(policy), "p2psim_checked", False):
        policy.p2psim_where = (platform, clock)


def _guard(function: Callable, method: str, check: Callable | None, family: str, name: str):
    def guarded(self, *args):
        try:
            result = function(self, *args)
        except PolicyFault:
            raise
        except Exception as error:  # noqa: BLE001 - any fault in user code stops the run clearly
            raise PolicyFault(_where(self, family, name, method)
                              + f" raised {type(error).__name__}: {error}",
                              _user_frames(error)) from None
        if check is not None:
            try:
                check(result, *args)
            except _BadValue as fault:
                raise PolicyFault(_where(self, family, name, method) + f" returned a bad value: "
                                  f"{fault}") from None
        return result

    guarded.__name__ = method
    guarded.__doc__ = function.__doc__
    return guarded


def _where(policy: Any, family: str, name: str, method: str) -> str:
    platform, clock = policy.p2psim_where
    day = clock() if clock is not None else None
    when = f", day {day}" if day is not None else ", while the market was built"
    return f"{family} policy {name!r} of platform {platform!r}{when}: {method}()"


def _user_frames(error: BaseException) -> str:
    """The traceback of ``error`` without the engine's own frames."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(_SIM_DIR)]
    lines = traceback.format_list(frames)
    return "".join(lines) + f"{type(error).__name__}: {error}"
