"""A reserve study's main numbers as text for the terminal, each flagged where it is not an answer."""

from __future__ import annotations

import math
from typing import Any

from sim.money import estimate_text
from sim.reserve.caveats import probability_text, size_label, statistic_words
from sim.reserve.paths import TURNED_AWAY_TOLERANCE


def format_results(results: dict[str, Any]) -> str:
    """The study's main numbers as text for the terminal: amounts rounded to their errors."""
    lines = [f"{results['name']} / {results['platform']}: {results['paths']} paths over "
             f"{results['horizon_months']} months, {results['method']}"
             f"{' + stratified' if results['stratified'] else ''} sampling, effective sample size "
             f"{results['effective_sample_size']:.0f}, {results['elapsed_s']:.0f} s", ""]
    lines += book_lines(results["book"]) + [""]
    lines.append(f"{'':30s}{'estimate ± std error (95 % interval)':>48s}{'of the book':>14s}")
    for key, label in [("credit_loss", "credit loss"), ("reserve_payouts", "reserve payouts")]:
        for row in results["statistics"][key]:
            lines.append(f"{label + ' ' + statistic_words(row['statistic']):30s}"
                         f"{estimate_text(row['estimate'], row['se'], (row['low'], row['high'])):>48s}"
                         f"{share_text(row['estimate_share']):>14s}")
    solver = results["solver"]
    lines += ["", f"method: {solver['reason']}"]
    if "runs_per_path" in solver:
        lines.append(f"  {solver['runs_per_path']:.1f} runs a path (at most {solver['runs_max']}); "
                     f"{solver['solved_share']:.0%} of paths solved ({solver['refine']}), "
                     f"{solver['converged_share']:.0%} of them within "
                     f"{solver['tolerance']:.1%} of their answer")
    lines += [""] + requirement_lines(results) + [""] + closed_form_lines(results)
    lines += [""] + tail_lines(results)
    lines += ["", short_line(results)]
    if results["warnings"]:
        lines += ["", "Warnings:"] + [f"  - {text}" for text in results["warnings"]]
    return "\n".join(lines)


def book_lines(book: dict) -> list[str]:
    """The book sized: opening book, lending over the horizon, exposure and its grade mix."""
    mix = ", ".join(f"{g['grade']} {g['share']:.0%}" for g in book["grade_mix"] if g["share"] > 0)
    return [f"book sized (mean over the paths): opening book "
            f"{estimate_text(book['opening_balance_cny'])} ({book['opening_loans']:,.0f} loans) "
            f"+ lent over the horizon "
            f"{estimate_text(book['lent_cny'])} ({book['loans_lent']:,.0f} loans) = "
            f"{estimate_text(book['exposure_cny'])}", f"  grade mix by amount: {mix}"]


def requirement_lines(results: dict[str, Any]) -> list[str]:
    """What each confidence needs: the size, the contribution rate, the fee share (or why none)."""
    lines, size = [], size_label(results)
    reserve = estimate_text(results["initial_reserve_cny"])
    for row in results["requirements"]:
        level = f"{row['confidence'] * 100:.10g} %"
        need = row["initial_reserve_cny"]
        if not math.isnan(need):
            interval = (row["initial_reserve_low"], row["initial_reserve_high"])
            lines.append(f"{size} for {level}: "
                         f"{estimate_text(need, row['initial_reserve_se'], interval)}"
                         f", {share_text(row['initial_reserve_cny_share'])} of the book "
                         f"({relative_error_text(row['initial_reserve_relative_se'])})")
        if not math.isnan(row["contribution_rate"]):
            lines.append(f"contribution rate for {level} with {reserve}: "
                         f"{_feasible_share(row['contribution_rate'], row['contribution_rate_se'])}")
        if not math.isnan(row["fee_share"]):
            lines.append(f"fee share for {level} with {reserve} and a "
                         f"{results['contribution_rate']:.2%} contribution: "
                         f"{_feasible_share(row['fee_share'], row['fee_share_se'])}")
    return lines


def closed_form_lines(results: dict[str, Any]) -> list[str]:
    """The simulated loss quantile beside the Vasicek formula's, and why they differ."""
    what = results.get("closed_form_loss", "loss at write-off")
    lines = [f"{what} against the closed form (Vasicek one-factor, large pool, asset correlation "
             f"{results.get('asset_correlation', float('nan')):g}), its inputs the paths' own "
             f"by grade:"] + closed_form_input_lines(results)
    for row in results["closed_form"]:
        apart = (f"{row['difference_se']:+.1f} combined se" if math.isfinite(row["difference_se"])
                 else "the difference has no error to measure it against")
        lines.append(f"  {row['confidence'] * 100:.10g} %: simulated "
                     f"{estimate_text(row['simulated_cny'], row['simulated_se'])}, formula "
                     f"{estimate_text(row['formula_cny'], row['granularity_sd_cny'])} "
                     f"({apart}); with the factor averaged over "
                     f"the horizon {estimate_text(row['formula_averaged_cny'])}")
    if results["closed_form_reasons"]:
        lines.append("  why they differ: " + "; ".join(results["closed_form_reasons"]))
    lines += effect_lines(results)
    return lines


def effect_lines(results: dict[str, Any]) -> list[str]:
    """Each effect switched off in a side study: the quantile, and the part of the gap it makes."""
    rows = results.get("effects")
    if rows is None:
        return []
    if not rows:
        return ["  effects measured: none of them is in this scenario"]
    lines = ["  each effect switched off in a side study on the same paths (errors combined as if "
             "independent: an upper bound):"]
    for row in rows:
        lines.append(f"    without {row['effect']}, {row['confidence'] * 100:.10g} %: simulated "
                     f"{estimate_text(row['simulated_cny'], row['simulated_se'])} "
                     f"(the study's less it: "
                     f"{estimate_text(row['change_cny'], row['change_se'])}), formula "
                     f"{estimate_text(row['formula_cny'])}; it makes "
                     f"{estimate_text(row['gap_made_by_it_cny'])} of the gap "
                     f"{estimate_text(row['gap_cny'])}; mean loss "
                     f"{estimate_text(row['mean_loss_cny'])} (the study's "
                     f"{estimate_text(row['study_mean_loss_cny'])})")
    return lines


def closed_form_input_lines(results: dict[str, Any]) -> list[str]:
    """The formula's inputs by grade: exposure, PD over the horizon, LGD, expected loss."""
    months = results["horizon_months"]
    lines = []
    for row in results.get("closed_form_inputs", []):
        if not row["exposure_cny"]:
            continue
        pd_ = "–" if math.isnan(row["pd_horizon"]) else f"{row['pd_horizon']:.2%}"
        lgd = "–" if math.isnan(row["lgd"]) else f"{row['lgd']:.0%}"
        lines.append(f"    grade {row['grade']}: exposure {estimate_text(row['exposure_cny'])} "
                     f"({row['loans']:,.0f} loans), PD over {months} months {pd_}, LGD {lgd}, "
                     f"expected loss {estimate_text(row['expected_loss_cny'])}")
    return lines


def tail_lines(results: dict[str, Any], top: int = 3) -> list[str]:
    """The segments that make most of the tail at the highest confidence, with their shares."""
    level = max(results["confidence"])
    rows = [r for r in results["tail_contributions"] if r["confidence"] == level]
    lines = [f"what makes the tail (share of the expected shortfall at {level * 100:.10g} %, "
             f"share of the mean loss in brackets; {rows[0]['tail_paths']:.0f} effective paths "
             f"in the tail):" if rows else "no tail contributions"]
    for split in ("grade", "term", "vintage"):
        mine = sorted((r for r in rows if r["split"] == split
                       and (r["es_contribution_cny"] or r["mean_loss_cny"])),
                      key=lambda r: -(r["share_of_es"] if math.isfinite(r["share_of_es"]) else 0))
        lines.append(f"  {split}: " + (", ".join(
            f"{r['segment']} {share_text(r['share_of_es'])} ({share_text(r['share_of_mean'])})"
            for r in mine[:top]) or "no loss in the tail or on average: nothing to split"))
    return lines


def short_line(results: dict[str, Any]) -> str:
    """P(the layer as configured runs short), or its one-sided bound where every path agrees."""
    p = results["exhaustion_probability"]
    reserve = estimate_text(results["initial_reserve_cny"])
    reserve_layer = results.get("layer", "reserve_fund") == "reserve_fund"
    what = (f"a reserve of {reserve} at a {results['contribution_rate']:.2%} contribution"
            if reserve_layer else f"a guarantor with {reserve} of capital")
    short = "" if reserve_layer else (f": fails, or leaves over {TURNED_AWAY_TOLERANCE:.1%} of its "
                                      "book uncovered")
    return (f"P({what} runs short within {results['horizon_months']} months{short}): "
            f"{probability_text(p, results['effective_sample_size'], results['paths'])}")


def share_text(value: float | None) -> str:
    """A share of the book as the tables write it (a dash where there is none)."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.1%}"


def _feasible_share(value: float, se: float) -> str:
    """A rate or share, or 'infeasible' where it is above 100 % (no such share exists)."""
    if math.isinf(value) or value > 1:
        return "infeasible: no share of 100 % or less is enough (see the warnings)"
    return f"{value:.3%} (se {se:.3%})" if math.isfinite(se) else f"{value:.3%}"


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
