"""What a risk committee reads beside the sizes: the book, shares of it, the closed form, the tail.

- :func:`book_sized`: the book the study sized, as the paths saw it on average: the opening book
  (balance, loans), the loans lent over the horizon, their sum (the *exposure*) and its grade mix.
- :func:`closed_form`: the one-factor Gaussian (Vasicek, Basel's ASRF) loss quantile of the same
  book and horizon, beside the simulated one, and why the two differ (:func:`why_they_differ`).
- :func:`tail_contributions`: which grades, terms and vintages make the expected shortfall at
  each confidence (Euler allocation: each segment's mean loss over the tail's paths).

Losses here are counted at write-off (坏账核销): the balance written off less the recovery it
brings (:mod:`sim.reserve.exposure`), so that grades, terms and vintages each add up to the path's
loss. Warnings on what the study cannot answer are in :mod:`sim.reserve.warnings`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from sim.loans import DAYS_PER_MONTH
from sim.reserve import analysis
from sim.reserve.exposure import SPLITS, segment_labels
from sim.reserve.sampling import average_factor_loading, shock_count

CONTRIBUTION_RESAMPLES = 200  # bootstrap resamples for a segment's share of the tail


def _mean(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mean over the paths (axis 0), for one column or a table of them."""
    return np.tensordot(w / w.sum(), values, axes=(0, 0))


def path_arrays(records: list[dict]) -> dict[str, np.ndarray]:
    """The records' book and loss lists as arrays (paths first)."""
    keys = ("book_opening_by_grade", "book_lent_by_grade", "book_loans_by_grade",
            "defaulted_by_grade", *(f"loss_by_{split}" for split in SPLITS))
    arrays = {key: np.array([r[key] for r in records], dtype=np.float64) for key in keys}
    arrays["book_opening_loans"] = np.array([r["book_opening_loans"] for r in records], float)
    arrays["book_loans_lent"] = np.array([r["book_loans_lent"] for r in records], float)
    arrays["exposure_by_grade"] = arrays["book_opening_by_grade"] + arrays["book_lent_by_grade"]
    arrays["loss"] = arrays["loss_by_grade"].sum(axis=1)
    return arrays


def book_sized(arrays: dict[str, np.ndarray], w: np.ndarray, grades: list[str]) -> dict:
    """The book the study sized (CNY, loans), averaged over the paths with their weights.

    The exposure is the opening book's balance plus the principal lent over the horizon: every
    yuan the platform's loans could lose in it. Shares of the book are shares of the exposure.
    """
    by_grade = _mean(arrays["exposure_by_grade"], w)
    exposure = float(by_grade.sum())
    return {
        "opening_balance_cny": float(_mean(arrays["book_opening_by_grade"], w).sum()),
        "opening_loans": float(_mean(arrays["book_opening_loans"], w)),
        "lent_cny": float(_mean(arrays["book_lent_by_grade"], w).sum()),
        "loans_lent": float(_mean(arrays["book_loans_lent"], w)),
        "exposure_cny": exposure,
        "grade_mix": [{"grade": grade, "exposure_cny": float(amount),
                       "share": float(amount / exposure) if exposure else float("nan")}
                      for grade, amount in zip(grades, by_grade, strict=True)],
    }


def add_shares(rows: list[dict], exposure: float, keys: tuple[str, ...]) -> None:
    """Add ``<key>_share`` (of the book's exposure) to each row, for each money ``key``."""
    for row in rows:
        for key in keys:
            value = row.get(key)
            row[f"{key}_share"] = (value / exposure if exposure > 0 and value is not None
                                   else float("nan"))


def closed_form_inputs(arrays: dict[str, np.ndarray], w: np.ndarray,
                       grades: list[str]) -> list[dict]:
    """The formula's inputs by grade, the paths' own (weighted means over the paths).

    Exposure (opening balance plus principal lent, CNY), loans, ``pd_horizon`` (principal written
    off over the horizon / exposure: the probability of default over the horizon, by amount),
    ``lgd`` (loss at write-off / principal written off) and the expected loss ``E PD LGD`` (CNY).
    """
    exposure = _mean(arrays["exposure_by_grade"], w)
    defaulted = _mean(arrays["defaulted_by_grade"], w)
    lost = _mean(arrays["loss_by_grade"], w)
    loans = _mean(arrays["book_loans_by_grade"], w)
    rows = []
    for k, grade in enumerate(grades):
        pd_ = defaulted[k] / exposure[k] if exposure[k] > 0 else float("nan")
        lgd = lost[k] / defaulted[k] if defaulted[k] > 0 else float("nan")
        rows.append({"grade": grade, "exposure_cny": float(exposure[k]), "loans": float(loans[k]),
                     "pd_horizon": float(pd_), "lgd": float(lgd),
                     "expected_loss_cny": float(lost[k])})
    return rows


def closed_form(arrays: dict[str, np.ndarray], w: np.ndarray, rho: float, levels: list[float],
                rng: np.random.Generator, averaged: float = 1.0,
                simulated_rows: dict[float, dict] | None = None) -> list[dict]:
    """The Vasicek large-pool loss quantile of the book beside the simulated one (CNY).

    Per grade ``g``: exposure ``E_g``, the horizon's default probability ``PD_g`` and loss given
    default ``LGD_g`` are the paths' own (weighted means: defaulted over exposure, loss over
    defaulted); the ``a`` quantile is ``sum_g E_g LGD_g Phi((Phi^-1(PD_g) + sqrt(rho)
    Phi^-1(a)) / sqrt(1 - rho))``. Beside it, its own error from a finite book (the binomial spread
    of the defaults given the factor at that quantile, ``granularity_sd_cny``) and the simulated
    quantile's bootstrap error; ``difference_se`` is their difference over the two combined.

    ``formula_averaged_cny`` is the same formula with the correlation of the factor's average over
    the horizon, ``rho * averaged`` (``averaged``: that average's variance, 1 for a factor held
    for the whole horizon): an approximation that shows how much of the gap is the economy moving.

    ``simulated_rows``: the simulated quantile by level where the study has it already (the
    credit loss's, when it is the same loss path by path): its estimate and errors are taken, so
    that one figure has one error wherever it is shown.
    """
    exposure = _mean(arrays["exposure_by_grade"], w)
    defaulted = _mean(arrays["defaulted_by_grade"], w)
    lost = _mean(arrays["loss_by_grade"], w)
    loans = _mean(arrays["book_loans_by_grade"], w)
    live = (exposure > 0) & (defaulted > 0)
    pd_ = np.where(live, defaulted / np.where(live, exposure, 1), 0.0)
    lgd = np.where(live, lost / np.where(defaulted > 0, defaulted, 1), 0.0)
    rows = []
    for level in levels:
        conditional = _conditional_pd(pd_[live], rho, level)
        formula = float(np.sum(exposure[live] * lgd[live] * conditional))
        loan_loss = exposure[live] * lgd[live] / np.maximum(loans[live], 1)  # a default's loss
        spread = float(np.sqrt(np.sum(loans[live] * conditional * (1 - conditional)
                                      * loan_loss ** 2)))
        simulated = (simulated_rows[level] if simulated_rows and level in simulated_rows else
                     analysis.bootstrap(lambda v, x, a=level: analysis.weighted_quantile(v, x, a),
                                        arrays["loss"], w, rng))
        combined = float(np.hypot(simulated["se"], spread))
        rows.append({"confidence": level, "simulated_cny": simulated["estimate"],
                     "simulated_se": simulated["se"], "simulated_low": simulated["low"],
                     "simulated_high": simulated["high"], "formula_cny": formula,
                     "granularity_sd_cny": spread, "formula_averaged_cny": float(np.sum(
                         exposure[live] * lgd[live]
                         * _conditional_pd(pd_[live], rho * averaged, level))),
                     "difference_se": ((simulated["estimate"] - formula) / combined
                                       if combined > 0 else float("nan"))})
    return rows


def _conditional_pd(pd_: np.ndarray, rho: float, level: float) -> np.ndarray:
    """Default probability given the factor at its ``1 - level`` quantile (a downturn)."""
    if rho <= 0.0:
        return pd_
    return ndtr((ndtri(pd_) + np.sqrt(rho) * ndtri(level)) / np.sqrt(1.0 - rho))


def why_they_differ(scenario, book: dict, horizon_months: int) -> list[str]:
    """The ways the engine's world departs from the formula's, for this scenario, in words."""
    macro, grades, borrowers = scenario.macro, scenario.grades, scenario.borrowers
    reasons = []
    due_months = -(-(DAYS_PER_MONTH * horizon_months - scenario.loans.default_after_days - 1)
                   // DAYS_PER_MONTH)  # months of due dates a loan can be written off for
    if macro.persistence < 1.0 and horizon_months > 1:
        reasons.append(f"the economy moves month by month (persistence {macro.persistence:g}): "
                       f"over {horizon_months} months losses follow the factor's average, which "
                       f"spreads less than one factor held for the whole horizon, so the "
                       f"formula's tail is heavier")
    elif due_months > 1:
        reasons.append("the factor is held for the horizon, but a loan has several due dates in "
                       "it: given the factor it defaults with 1 - (1 - h)^n, not with the "
                       "formula's one-period transform of its default probability")
    reasons += fixed_recession(scenario)
    if getattr(borrowers, "hazard_dispersion", 0.0) > 0:
        reasons.append(f"borrowers of a grade differ (hazard dispersion "
                       f"{borrowers.hazard_dispersion:g}); the formula has one default "
                       f"probability a grade")
    if getattr(grades, "cure_probability", 0.0) > 0:
        reasons.append(f"missed instalments cure (probability {grades.cure_probability:g}) "
                       f"and defaults come months after the miss, some past the horizon")
    if book["lent_cny"] > 0:
        reasons.append(f"{book['lent_cny'] / book['exposure_cny']:.0%} of the book is lent "
                       f"during the horizon, in amounts that follow the economy and the "
                       f"platform; the formula holds one book for the whole horizon")
    loans = book["opening_loans"] + book["loans_lent"]
    if loans < 100_000:
        reasons.append(f"the book has {loans:,.0f} loans; the formula assumes infinitely many "
                       f"(its own error from that is in granularity_sd_cny)")
    if getattr(scenario.grades, "recovery_lag_months", 0):
        reasons.append("recoveries come later; here a loss is counted at write-off, net of the "
                       "recovery it will bring")
    return reasons


def fixed_recession(scenario) -> list[str]:
    """The scenario's own downturn, in every path: the formula's factor is drawn, this one is not.

    A shock path (``macro.shock_path``) or a fixed first factor holds the factor where the scenario
    says; every path has it, so the study's losses are conditional on it: their mean is above the
    through-the-cycle mean, and rises with the asset correlation (a factor of ``z`` multiplies a
    grade's hazard ``h`` by ``Phi((Phi^-1(h) - sqrt(rho) z) / sqrt(1 - rho)) / h``), which the
    unconditional formula does not. ``stress.recession`` windows multiply hazards outright.
    """
    macro, reasons = scenario.macro, []
    held = dict(macro.shock_path)
    if macro.initial_factor is not None and 0 not in held:
        held[0] = macro.initial_factor
    if held:
        z = min(held.values())
        hazards = np.asarray(scenario.grades.default_hazard_monthly, dtype=float)
        rho = macro.asset_correlation
        factor = (ndtr((ndtri(hazards) - np.sqrt(rho) * z) / np.sqrt(1 - rho)) / hazards
                  if rho > 0 else np.ones_like(hazards))
        reasons.append(f"the scenario fixes the economy in {len(held)} month"
                       f"{'' if len(held) == 1 else 's'} (macro.shock_path / initial_factor, "
                       f"down to {z:g}) in every path, so the losses are conditional on that "
                       f"downturn: at asset correlation {rho:g} a factor of {z:g} multiplies the "
                       f"grades' hazards by {factor.min():.2f} to {factor.max():.2f}, which raises "
                       f"the mean loss above the through-the-cycle mean and more so as the "
                       f"correlation rises; the formula draws the factor and holds no such path")
    for window in scenario.stress.recession:
        reasons.append(f"stress.recession multiplies every hazard by {window.hazard_multiplier:g} "
                       f"for {window.months} months from month {window.start_month}, in every "
                       f"path (on top of the factor); the formula has no such window")
    return reasons


def tail_contributions(arrays: dict[str, np.ndarray], w: np.ndarray, labels: dict[str, list[str]],
                       levels: list[float], rng: np.random.Generator) -> list[dict]:
    """Each segment's part of the expected shortfall at each confidence, and of the mean loss.

    ``share_of_es`` is the segment's mean loss over the tail's paths (weighted as in
    :func:`sim.reserve.analysis.tail_weights`) over the expected shortfall; a segment whose share
    of the tail exceeds its share of the mean is one the downturn hits harder. Bootstrap standard
    errors over the paths; ``tail_paths`` is the tail's effective number of paths.
    """
    loss, rows = arrays["loss"], []
    for level in levels:
        tail = analysis.tail_weights(loss, w, level)
        shortfall = float(tail @ loss)
        tail_paths = float(tail.sum() ** 2 / np.sum(tail ** 2)) if tail.any() else 0.0
        for split in SPLITS:
            parts = arrays[f"loss_by_{split}"]
            errors = _share_errors(parts, loss, w, level, rng)
            mean = _mean(parts, w)
            for k, segment in enumerate(labels[split]):
                rows.append({
                    "split": split, "segment": segment, "confidence": level,
                    "mean_loss_cny": float(mean[k]),
                    "share_of_mean": float(mean[k] / mean.sum()) if mean.sum() else float("nan"),
                    "es_contribution_cny": float(tail @ parts[:, k]),
                    "share_of_es": float(tail @ parts[:, k] / shortfall) if shortfall
                    else float("nan"),
                    "share_of_es_se": float(errors[k]), "tail_paths": tail_paths})
    return rows


def _share_errors(parts: np.ndarray, loss: np.ndarray, w: np.ndarray, level: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Bootstrap standard errors of each segment's share of the expected shortfall."""
    n = len(loss)
    if n < 2:
        return np.full(parts.shape[1], np.nan)
    draws = np.empty((CONTRIBUTION_RESAMPLES, parts.shape[1]))
    for b in range(CONTRIBUTION_RESAMPLES):
        rows = rng.integers(0, n, n)
        tail = analysis.tail_weights(loss[rows], w[rows], level)
        total = tail @ loss[rows]
        draws[b] = tail @ parts[rows] / total if total else np.nan
    errors = np.full(parts.shape[1], np.nan)
    enough = np.isfinite(draws).sum(axis=0) >= 2  # a segment no path lost in has no error
    errors[enough] = np.nanstd(draws[:, enough], axis=0, ddof=1)
    return errors


def assess(records: list[dict], w: np.ndarray, plan, results: dict,
           rng: np.random.Generator) -> dict:
    """The committee's view of a study's results: book, shares, closed form, tail, in place.

    Adds to ``results``: ``book``, ``closed_form`` and ``closed_form_reasons``,
    ``tail_contributions``; and to each requirement and loss statistic its share of the book.
    """
    arrays = path_arrays(records)
    labels = segment_labels(plan.scenario, DAYS_PER_MONTH * plan.horizon_months)
    book = book_sized(arrays, w, labels["grade"])
    exposure = book["exposure_cny"]
    add_shares(results["requirements"], exposure, ("initial_reserve_cny",))
    for key in ("credit_loss", "defaulted", "reserve_payouts", "net_outflow", "required_reserve"):
        add_shares(results["statistics"][key], exposure, ("estimate",))
    results["book"] = book
    months = shock_count(DAYS_PER_MONTH * plan.horizon_months)
    averaged = float(np.sum(average_factor_loading(plan.scenario.macro, months,
                                                   plan.horizon_months) ** 2))
    credit_loss = results["_columns"]["credit_loss"]
    same = len(credit_loss) == len(arrays["loss"]) and np.allclose(arrays["loss"], credit_loss,
                                                                   rtol=0.0, atol=1.0)
    quantiles = {level: row for level in plan.confidence for row in results["statistics"]
                 ["credit_loss"] if row["statistic"] == f"q{analysis.level_label(level)}"}
    results["closed_form_loss"] = ("credit loss" if same else
                                   "loss at write-off, net of the recovery it will bring")
    results["closed_form_inputs"] = closed_form_inputs(arrays, w, labels["grade"])
    results["closed_form"] = closed_form(arrays, w, plan.scenario.macro.asset_correlation,
                                         plan.confidence, rng, averaged,
                                         quantiles if same else None)
    results["asset_correlation"] = plan.scenario.macro.asset_correlation
    results["closed_form_reasons"] = why_they_differ(plan.scenario, book, plan.horizon_months)
    results["tail_contributions"] = tail_contributions(arrays, w, labels, plan.confidence, rng)
    return results
