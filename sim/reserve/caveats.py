"""Warnings on a reserve study: what its paths cannot answer, said in words instead of a number.

Printed by ``p2psim reserve`` and ``p2psim board``, kept in ``summary.json`` (``warnings``) and
shown at the top of the report:

- an effective sample below :data:`RELIABLE_PATHS`, and the paths it would take to reach it;
- a size whose relative error is above :data:`TARGET_RELATIVE_ERROR`, and the paths for that;
- an estimate at the edge of its own 95 % interval, or equal to the worst path (the paths do not
  reach that far into the tail), and tail contributions from fewer than :data:`TAIL_PATHS` paths;
- a share above 100 % (a fee share of more than all the fees, a contribution of more than the
  principal, a reserve larger than the book): infeasible, not an answer;
- a probability of 0 or 1 because every path agrees: only a one-sided 95 % bound is known.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

RELIABLE_PATHS = 100  # effective paths below which the study's tail estimates are flagged
TARGET_RELATIVE_ERROR = 0.10  # the error a committee can sign a size at
BOUND_CONFIDENCE = 0.95  # the one-sided bound given when every path agrees
EDGE = 0.05  # an estimate this close to an end of its interval (share of its width) is at the edge
TAIL_PATHS = 10  # effective paths in a tail below which its contributions are flagged


def agreement_bound(effective: float) -> float:
    """One-sided 95 % bound on a probability that ``effective`` paths all found to be 0.

    The exact binomial bound ``1 - 0.05^(1/n)`` (about ``3/n``, the rule of three).
    """
    return 1.0 - (1.0 - BOUND_CONFIDENCE) ** (1.0 / max(effective, 1.0))


def probability_text(p: dict[str, float], effective: float, paths: int) -> str:
    """A probability with its error, or, where every path agrees, only its one-sided bound."""
    if p["se"] == 0 and p["estimate"] in (0.0, 1.0):
        bound = agreement_bound(effective)
        side = f"below {bound:.2%}" if p["estimate"] == 0 else f"above {1 - bound:.2%}"
        return f"{side} (one-sided 95 %; all {paths} paths agree)"
    return f"{p['estimate']:.2%} ± {p['se']:.2%}"


def paths_for(paths: int, relative_se: float, target: float) -> int:
    """Paths that would bring a relative error to ``target`` (the error falls as 1/sqrt(paths))."""
    return int(math.ceil(paths * (relative_se / target) ** 2 / 10) * 10)


def caveats(results: dict[str, Any], columns: dict[str, np.ndarray]) -> list[str]:
    """Every warning on the study's results, each a sentence; empty when there is none."""
    return (_sample(results) + _edges(results, columns) + _tail(results)
            + _infeasible(results) + _agreement(results) + book_held_fixed(results))


def size_label(results: dict[str, Any]) -> str:
    """What the study's size is: a reserve's initial balance, or a guarantor's capital."""
    return ("initial reserve" if results.get("layer", "reserve_fund") == "reserve_fund"
            else "guarantor capital")


def _level(confidence: float) -> str:
    """``0.999`` -> ``"99.9 %"``."""
    return f"{confidence * 100:.10g} %"


def _sample(results: dict) -> list[str]:
    paths, effective = results["paths"], results["effective_sample_size"]
    found, needed = [], paths
    if effective < RELIABLE_PATHS:  # below it the errors themselves are not to be trusted
        needed = int(math.ceil(paths * RELIABLE_PATHS / max(effective, 1.0) / 10) * 10)
        found.append(f"effective sample: the {paths} paths weigh as {effective:.0f}, below the "
                     f"{RELIABLE_PATHS} a tail estimate needs; about {needed:,} paths would "
                     f"reach it (--paths)")
    for row in results["requirements"]:
        relative = row.get("initial_reserve_relative_se")
        if relative is not None and math.isfinite(relative) and relative > TARGET_RELATIVE_ERROR \
                and paths_for(paths, relative, TARGET_RELATIVE_ERROR) > needed:
            found.append(f"the {size_label(results)} for {_level(row['confidence'])} is known only to "
                         f"± {relative:.0%}; about "
                         f"{paths_for(paths, relative, TARGET_RELATIVE_ERROR):,} paths would bring "
                         f"its error to {TARGET_RELATIVE_ERROR:.0%}")
    return found


def _edges(results: dict, columns: dict[str, np.ndarray]) -> list[str]:
    """Estimates at the edge of their interval, or at the worst path: the tail is too thin."""
    found = []
    checks = [(f"the {size_label(results)} for {_level(row['confidence'])}",
               row["initial_reserve_cny"], row["initial_reserve_low"],
               row["initial_reserve_high"], columns["required_reserve"])
              for row in results["requirements"]]
    for key, rows in results["statistics"].items():  # every other figure with an interval
        if key == "required_reserve":
            continue  # its quantiles are the sizes, checked above
        checks += [(f"the {key.replace('_', ' ')}'s {statistic_words(row['statistic'])}",
                    row["estimate"], row["low"], row["high"], columns.get(key))
                   for row in rows if row["statistic"] != "mean"]
    if results.get("closed_form_loss", "credit loss") != "credit loss":
        checks += [(f"the loss at write-off's {_level(row['confidence'])} quantile",
                    row["simulated_cny"], row.get("simulated_low", math.nan),
                    row.get("simulated_high", math.nan), None)
                   for row in results.get("closed_form", [])]
    for what, estimate, low, high, values in checks:
        if not (math.isfinite(estimate) and estimate > 0):
            continue
        finite = values[np.isfinite(values)] if values is not None else np.zeros(0)
        if len(finite) and estimate >= finite.max():
            found.append(f"{what} is the worst path's value: the paths do not reach that far "
                         f"into the tail, so it is a lower bound; ask for more --paths")
        elif math.isfinite(low) and math.isfinite(high) and high > low and \
                min(estimate - low, high - estimate) < EDGE * (high - low):
            found.append(f"{what} lies at the edge of its own 95 % interval "
                         f"({'lower' if estimate - low < high - estimate else 'upper'} end): "
                         f"a few paths decide it; ask for more --paths")
    return found


def statistic_words(name: str) -> str:
    """``q99.9`` -> ``99.9 % quantile``, ``es99`` -> ``99 % shortfall``, ``mean`` as it is."""
    if name.startswith("es"):
        return f"{name[2:]} % shortfall"
    return f"{name[1:]} % quantile" if name.startswith("q") else name


def _tail(results: dict) -> list[str]:
    """Tail contributions that rest on a handful of paths."""
    found = []
    for level in results["confidence"]:
        rows = [r for r in results.get("tail_contributions", []) if r["confidence"] == level]
        if rows and rows[0]["tail_paths"] < TAIL_PATHS:
            count = rows[0]["tail_paths"]
            found.append(f"the tail at {_level(level)} rests on {count:.0f} effective "
                         f"path{'' if round(count) == 1 else 's'} (fewer than {TAIL_PATHS}): "
                         f"read its split by grade, "
                         f"term and vintage as indicative")
    return found


def _infeasible(results: dict) -> list[str]:
    """Shares above 100 %: no fee share, contribution or reserve of that size exists."""
    found, size = [], size_label(results)
    exposure = results.get("book", {}).get("exposure_cny", 0.0)
    for row in results["requirements"]:
        level = _level(row["confidence"])
        fee, rate = row.get("fee_share", math.nan), row.get("contribution_rate", math.nan)
        if math.isinf(fee) or (math.isfinite(fee) and fee > 1):
            found.append(f"infeasible: for {level} the reserve would need more than all the fees "
                         f"it shares in; no fee share is enough: raise the reserve or the "
                         f"contribution")
        if math.isinf(rate) or (math.isfinite(rate) and rate > 1):
            found.append(f"infeasible: for {level} no contribution rate is enough (it would "
                         f"take more than the loans' whole principal); raise the reserve")
        need = row["initial_reserve_cny"]
        if exposure > 0 and math.isfinite(need) and need > exposure:
            found.append(f"infeasible: the {size} for {level} exceeds the whole book "
                         f"({need / exposure:.0%} of it); the scheme cannot be sized this way")
    return found


def _agreement(results: dict) -> list[str]:
    p = results["exhaustion_probability"]
    if p["se"] == 0 and p["estimate"] in (0.0, 1.0):
        return [f"P(runs short) is {p['estimate']:.0f} in every one of the {results['paths']} "
                f"paths: that says only that it is "
                f"{probability_text(p, results['effective_sample_size'], results['paths'])}, "
                f"not that it is known exactly"]
    return []


def book_held_fixed(results: dict) -> list[str]:
    """One run's contribution rate holds the book fixed; borrowers pay the contribution."""
    rates = [row.get("contribution_rate", math.nan) for row in results["requirements"]]
    if results.get("solver", {}).get("method", "one-run") != "one-run" \
            or not results.get("borrowers_react") or not any(math.isfinite(r) for r in rates):
        return []
    return [f"the contribution rate needed is for the book lent at the scenario's "
            f"{results['contribution_rate']:.2%}: borrowers pay the contribution and would borrow "
            f"less at a higher one (borrowers.rate_elasticity); --solver root-finding --solve "
            f"principal_share gives the rate with their reaction"]
