"""The behavioural contract every policy keeps, shipped or user-written.

As Axelrod runs every strategy through the same tests, every policy of a family is run through the
same contract (:func:`check_policy`): a small market (:data:`MARKET`) with the policy on its one
platform runs twice on one seed, every call of the family's protocol recorded and checked as a
user's policy is checked in a run (:mod:`sim.policies.checks`: the right type and length, no NaN
where none is allowed, no infinity, no negative amount, rates and probabilities within [0, 1]).
The policy breaks the contract if it

* does not build with its defaults (or the parameters given),
* returns a bad value, or raises, on any call of the run,
* gives other results on the same seed (it must draw only from the generator it is handed, never
  from global state or the clock),
* does not do its family's job in the market: a pricing policy that prices no listing, a risk
  policy that approves none, a marketing policy never asked for its month's plan.

``python -m sim.policies.contract FAMILY NAME [KEY=VALUE ...]`` runs it from the command line,
e.g. ``python -m sim.policies.contract pricing my_policies:TermPremium`` beside the module.
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.policies.checks import CHECKS, PolicyFault, bind, checked

MARKET: dict[str, Any] = {"run.horizon_days": 120, "run.seed": 11, "investors.count": 600,
                          "borrowers.applications_per_day": 25.0}
"""The market the contract runs: four months, 600 investors, 25 applications a day."""

JOBS = {"pricing": ("price", "prices no listing: every rate it returned was NaN (declined)"),
        "risk": ("review", "approves no applicant in four months of applications"),
        "marketing": ("plan_month", "was never asked for a month's plan")}
"""Per family, the call that shows it does its job, and what breaking it means (a guarantee's job
depends on the defaults of the loans it protects: its protocol and reproducibility are checked)."""


@dataclass
class Calls:
    """What a policy's calls returned over one run: a digest per method, and their counts."""

    digests: dict[str, Any] = field(default_factory=lambda: defaultdict(hashlib.sha256))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    useful: int = 0  # calls that did the family's job (a rate priced, an applicant approved ...)

    def fingerprint(self) -> dict[str, str]:
        """The digest of each method's results, to compare two runs."""
        return {method: digest.hexdigest() for method, digest in self.digests.items()}


def check_policy(family: str, spec: dict[str, Any], search_dir: str | None = None) -> list[str]:
    """Run the policy ``spec`` (``{"policy": name, **params}``) of ``family`` through the contract.

    Returns
    -------
    list of str
        What it breaks, one line each; empty when it keeps the contract.
    """
    from sim.model import P2PMarket
    from sim.scenario import ScenarioError, load_scenario

    overrides = {**MARKET, f"platforms.0.{family}": dict(spec)}
    if search_dir is not None:  # a user's module beside the caller: importable as it is
        sys.path.insert(0, str(search_dir))
    try:
        try:
            scenario = load_scenario(None, overrides)
        except ScenarioError as error:
            return [f"does not build: {error}"]
        runs = []
        for _ in range(2):
            model = P2PMarket(scenario)
            calls = _record(model, family)
            try:
                model.run()
            except PolicyFault as fault:
                return [f"breaks its protocol: {fault}"]
            runs.append(calls)
    finally:
        if search_dir is not None:
            sys.path.remove(str(search_dir))
    breaches = []
    if runs[0].fingerprint() != runs[1].fingerprint():
        changed = sorted(m for m in runs[0].digests
                         if runs[0].fingerprint().get(m) != runs[1].fingerprint().get(m))
        breaches.append(f"is not reproducible: {', '.join(changed)} returned other results on the "
                        f"same seed (draw only from the generator the engine hands it)")
    method, what = JOBS.get(family, (None, ""))
    if method and (runs[0].counts[method] == 0
                   or (family in ("pricing", "risk") and runs[0].useful == 0)):
        breaches.append(f"does not do its job: it {what}")
    return breaches


def _record(model, family: str) -> Calls:
    """Check, count and digest every protocol call of the platform's ``family`` policy.

    The checks are those a user's policy gets in a run (:func:`sim.policies.checks.checked`).
    """
    calls = Calls()
    platform = model.platforms[0]
    policy = getattr(platform, family)
    if not getattr(type(policy), "p2psim_checked", False):  # a built-in: checked here too
        policy.__class__ = checked(type(policy), type(policy), family, type(policy).__name__)
        bind(policy, platform.name, lambda: model.ledger.day)
    for method in CHECKS[family]:
        original = getattr(policy, method, None)
        if not callable(original):
            continue

        def recorded(*args, _original=original, _method=method):
            result = _original(*args)
            calls.counts[_method] += 1
            calls.digests[_method].update(_digest(result))
            calls.useful += _useful(family, _method, result)
            return result

        setattr(policy, method, recorded)
    return calls


def _useful(family: str, method: str, result) -> int:
    """How many items a call's result served: rates priced, applicants approved."""
    if family == "pricing" and method == "price":
        return int(np.count_nonzero(~np.isnan(np.asarray(result, dtype=np.float64))))
    if family == "risk" and method == "review":
        return int(np.count_nonzero(np.asarray(result[0], dtype=np.float64) > 0))
    return 0


def _digest(result) -> bytes:
    """Bytes that stand for a call's result (arrays by their contents)."""
    if isinstance(result, tuple | list):
        return b"|".join(_digest(part) for part in result)
    if isinstance(result, np.ndarray):
        return np.ascontiguousarray(result).tobytes() + str(result.dtype).encode()
    return repr(result).encode()


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.policies.contract FAMILY NAME [KEY=VALUE ...]``: 0 kept, 1 broken."""
    import os

    from sim.scenario.loading import parse_set
    from sim.scenario.schema import ScenarioError

    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] not in CHECKS:
        print(f"usage: python -m sim.policies.contract {{{','.join(CHECKS)}}} NAME [KEY=VALUE ...]",
              file=sys.stderr)
        return 2
    family, name = args[0], args[1]
    try:
        params = dict(parse_set(item) for item in args[2:])
    except ScenarioError as error:
        print(f"python -m sim.policies.contract: error: {error}", file=sys.stderr)
        return 2
    breaches = check_policy(family, {"policy": name, **params}, search_dir=os.getcwd())
    if params and breaches and breaches[0].startswith("does not build"):  # the parameters given
        print(f"python -m sim.policies.contract: error: {family} policy {name!r} {breaches[0]}",
              file=sys.stderr)
        return 2
    for breach in breaches:
        print(f"{family} policy {name!r} {breach}")
    if not breaches:
        print(f"{family} policy {name!r} keeps the contract")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
