"""A reserve study's main numbers as text for the terminal, each flagged where it is not an answer."""

from __future__ import annotations

import math
from typing import Any

from sim.reserve.paths import TURNED_AWAY_TOLERANCE

RELIABLE_PATHS = 100  # effective paths below which a probability is flagged as unreliable


def format_results(results: dict[str, Any]) -> str:
    """The study's main numbers as a few lines of text for the terminal."""
    lines = [f"{results['name']} / {results['platform']}: {results['paths']} paths over "
             f"{results['horizon_months']} months, {results['method']}"
             f"{' + stratified' if results['stratified'] else ''} sampling, effective sample size "
             f"{results['effective_sample_size']:.0f}, {results['elapsed_s']:.0f} s",
             "", f"{'':28s}{'estimate':>16s}{'std error':>14s}{'95 % interval':>30s}"]
    for key, label in [("credit_loss", "credit loss, CNY"), ("reserve_payouts", "reserve payouts, CNY")]:
        for row in results["statistics"][key]:
            lines.append(f"{label + ' ' + row['statistic']:28s}{row['estimate']:16,.0f}"
                         f"{row['se']:14,.0f}{_interval(row['low'], row['high'], ',.0f'):>30s}")
    solver = results["solver"]
    lines += ["", f"method: {solver['reason']}"]
    if "runs_per_path" in solver:
        lines.append(f"  {solver['runs_per_path']:.1f} runs a path (at most {solver['runs_max']}); "
                     f"{solver['solved_share']:.0%} of paths solved ({solver['refine']}), "
                     f"{solver['converged_share']:.0%} of them within "
                     f"{solver['tolerance']:.1%} of their answer")
    lines.append("")
    reserve = results["initial_reserve_cny"]
    size = size_label(results)
    for row in results["requirements"]:
        level = f"{row['confidence']:.4g}"
        if not math.isnan(row["initial_reserve_cny"]):
            lines.append(f"{size} for {level}: {row['initial_reserve_cny']:,.0f} CNY "
                         f"(se {row['initial_reserve_se']:,.0f}, "
                         f"{relative_error_text(row['initial_reserve_relative_se'])}; 95 % "
                         f"{_interval(row['initial_reserve_low'], row['initial_reserve_high'], ',.0f')})")
        if not math.isnan(row["contribution_rate"]):
            lines.append(f"contribution rate for {level} with {reserve:,.0f} CNY: "
                         f"{_rate(row['contribution_rate'])} "
                         f"(se {_rate(row['contribution_rate_se'])})")
        if not math.isnan(row["fee_share"]):
            share = (f"{row['fee_share']:.0%} of the fees: more than all of them, so no fee "
                     f"share is enough; raise the reserve or the contribution"
                     if 1 < row["fee_share"] < math.inf else
                     f"{_rate(row['fee_share'])} (se {_rate(row['fee_share_se'])})")
            lines.append(f"fee share for {level} with {reserve:,.0f} CNY and a "
                         f"{results['contribution_rate']:.2%} contribution: {share}")
    p = results["exhaustion_probability"]
    reserve_layer = results.get("layer", "reserve_fund") == "reserve_fund"
    what = (f"a reserve of {reserve:,.0f} CNY at a {results['contribution_rate']:.2%} contribution"
            if reserve_layer else f"a guarantor with {reserve:,.0f} CNY of capital")
    short = "" if reserve_layer else (f": fails, or leaves over {TURNED_AWAY_TOLERANCE:.1%} of its "
                                      "book uncovered")
    lines.append(f"P({what} runs short within {results['horizon_months']} months{short}) = "
                 f"{p['estimate']:.4g} (se {p['se']:.2g}){_reliability(p, results)}")
    return "\n".join(lines)


def _reliability(p: dict, results: dict) -> str:
    """Words for a probability that the paths cannot pin down: all agree, or too few of them."""
    paths, effective = results["paths"], results["effective_sample_size"]
    if p["se"] == 0 and p["estimate"] in (0.0, 1.0):  # every path agrees: the rule of three
        bound = min(3 / effective, 1.0)
        side = f"below {bound:.2g}" if p["estimate"] == 0 else f"above {1 - bound:.2g}"
        return (f"; every one of the {paths} paths agrees, which says only that it is {side} "
                f"(95 %), not that it is known exactly")
    if effective < RELIABLE_PATHS:
        return (f"; unreliable: the paths weigh as {effective:.0f} (at least {RELIABLE_PATHS} "
                f"are needed); ask for more --paths")
    return ""


def relative_error(se: float, estimate: float) -> float | None:
    """The standard error relative to the estimate; None (an empty cell) where that has no meaning.

    A requirement of 0 CNY (at a low confidence most paths need no reserve) has no relative
    error: 0 when every bootstrap agrees, otherwise undefined (``None``, never NaN).
    """
    if math.isnan(estimate) or math.isnan(se):
        return math.nan
    if estimate > 0:
        return se / estimate
    return 0.0 if se == 0 else None


def relative_error_text(relative: float | None) -> str:
    """The relative error in words: a percentage, or why there is none."""
    if relative is None:
        return "relative error undefined: the estimate is 0"
    return f"relative {relative:.1%}"


def size_label(results: dict[str, Any]) -> str:
    """What the study's size is: a reserve's initial balance, or a guarantor's capital."""
    return ("initial reserve" if results.get("layer", "reserve_fund") == "reserve_fund"
            else "guarantor capital")


def _interval(low: float, high: float, spec: str) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "-"
    return f"{format(low, spec)} - {format(high, spec)}"


def _rate(value: float) -> str:
    return "no rate is enough" if math.isinf(value) else ("-" if math.isnan(value)
                                                           else f"{value:.3%}")
