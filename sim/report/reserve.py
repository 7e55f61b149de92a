"""What a report shows of a reserve study (``p2psim reserve``) and of a board (``p2psim board``).

Written for a risk committee: the warnings first, the book sized, each confidence's size rounded to
its error and as a share of the book, the closed form beside the simulation, what makes the tail.
Tables are built from the study's files with readable headers; the files keep every digit.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.money import estimate_text
from sim.outputs.labels import EXHAUSTION_COLUMNS
from sim.report.folder import ResultsFolder
from sim.report.html import Page, facts, number_text
from sim.report.scenario_text import scenario_toml
from sim.reserve.board import READABLE_COLUMNS, readable_board
from sim.reserve.text import share_text, short_line, size_label

RESERVE_FIGURES = (("losses.png", "Credit losses and reserve payouts over the horizon"),
                   ("balance_fan.png", "The reserve's balance: fan of the paths"),
                   ("exhaustion.png", "Probability the reserve has run dry, by month"),
                   ("frontier.png", "Contribution rate against the probability of running dry"))
STATISTIC_NAMES = {"credit_loss": "credit loss", "defaulted": "principal defaulted",
                   "reserve_payouts": "reserve payouts", "required_reserve": "size needed",
                   "net_outflow": "net outflow"}


def reserve_page(folder: ResultsFolder) -> Page:
    """A reserve study: warnings first, the book, each confidence's needs, the closed form, the tail.

    Sizes are rounded to their errors and given as shares of the book sized.
    """
    summary = folder.json("summary.json")
    meta = summary.get("metadata", {})
    page = Page(f"Reserve study: {summary['name']} / {summary['platform']}",
                facts("reserve", summary["scenario"], summary["seed"], folder.made_by,
                      meta.get("git"), folder.made_on(), _asked(meta.get("request", {}))))
    page.warnings(summary.get("warnings", []))
    page.heading("Key numbers")
    short = short_line(summary)
    rows = [("paths", number_text(summary["paths"])),
            ("horizon, months", number_text(summary["horizon_months"])),
            ("sampling", f"{summary['method']}{', stratified' if summary['stratified'] else ''}"),
            ("effective sample size", f"{summary['effective_sample_size']:,.0f}"),
            *book_rows(summary.get("book")),
            (f"{size_label(summary)} studied", estimate_text(summary["initial_reserve_cny"])),
            ("contribution rate studied", number_text(summary["contribution_rate"], "share")),
            tuple(short.split(": ", 1)) if ": " in short else ("P(runs short)", short)]
    if "solver" in summary:
        rows.append(("method", summary["solver"]["reason"]))
    page.key_numbers(rows)
    page.heading("What each confidence level needs")
    page.table(requirements_table(summary))
    page.heading("Losses and payouts (95 % intervals; shares of the book sized)")
    page.table(statistics_table(summary))
    _closed_form(page, summary)
    _tail(page, summary)
    page.heading("Probability of running dry by month")
    page.table(folder.table("exhaustion.csv"), EXHAUSTION_COLUMNS)
    page.figures(folder, RESERVE_FIGURES)
    page.preformatted(scenario_toml(meta.get("request", {})), "The study as asked")
    return page


def _asked(request: dict) -> str:
    """The keys a study set beside its scenario (``--set``), in words."""
    changes = request.get("overrides") or {}
    return ", ".join(f"{k} = {v}" for k, v in changes.items()) or "none"


def book_rows(book: dict | None) -> list[tuple[str, str]]:
    """The book a study sized, as key numbers (older studies have none)."""
    if not book:
        return []
    return [("opening book", f"{estimate_text(book['opening_balance_cny'])}, "
                             f"{book['opening_loans']:,.0f} loans"),
            ("lent over the horizon", f"{estimate_text(book['lent_cny'])}, "
                                      f"{book['loans_lent']:,.0f} loans"),
            ("book sized (exposure)", estimate_text(book["exposure_cny"])),
            ("grade mix by amount", ", ".join(f"{g['grade']} {g['share']:.0%}"
                                              for g in book["grade_mix"] if g["share"] > 0))]


def _rate_text(value: float, se: float) -> str:
    """A rate or share with its error; 'infeasible' above 100 % (no such share exists)."""
    if math.isinf(value) or (math.isfinite(value) and value > 1):
        return "infeasible (see warnings)"
    if not math.isfinite(value):
        return "–"
    return f"{value:.2%} ± {se:.2%}" if math.isfinite(se) else f"{value:.2%}"


def requirements_table(summary: dict) -> pd.DataFrame:
    """Each confidence: the size with its error and interval, its share of the book, rate, fees."""
    size = size_label(summary)
    rows = []
    for need in summary["requirements"]:
        rows.append({
            "confidence": f"{need['confidence'] * 100:.10g} %",
            f"{size} ± se (95 % interval)": estimate_text(
                need["initial_reserve_cny"], need["initial_reserve_se"],
                (need["initial_reserve_low"], need["initial_reserve_high"])),
            "share of the book": share_text(need.get("initial_reserve_cny_share")),
            "contribution rate": _rate_text(need["contribution_rate"],
                                            need["contribution_rate_se"]),
            "fee share": _rate_text(need["fee_share"], need["fee_share_se"])})
    return pd.DataFrame(rows)


def statistics_table(summary: dict) -> pd.DataFrame:
    """Mean, quantiles and shortfalls of the losses and payouts, rounded to their errors."""
    rows = []
    for key, statistics in summary["statistics"].items():
        for row in statistics:
            name = row["statistic"]
            what = ("mean" if name == "mean" else f"{name[2:]} % expected shortfall"
                    if name.startswith("es") else f"{name[1:]} % quantile")
            rows.append({"quantity": STATISTIC_NAMES.get(key, key), "statistic": what,
                         "estimate ± se (95 % interval)": estimate_text(
                             row["estimate"], row["se"], (row["low"], row["high"])),
                         "share of the book": share_text(row.get("estimate_share"))})
    return pd.DataFrame(rows)


def _closed_form(page: Page, summary: dict) -> None:
    """The simulated loss quantile beside Vasicek's, and why they differ."""
    if "closed_form" not in summary:
        return
    page.heading("Against the closed form (Vasicek one-factor, large pool)")
    inputs = summary.get("closed_form_inputs", [])
    if inputs:
        page.text(f"The formula's inputs, the paths' own by grade (PD over the "
                  f"{summary['horizon_months']} months by amount, LGD of what was written off), "
                  f"with the asset correlation {summary.get('asset_correlation', float('nan')):g}:",
                  "note")
        page.table(pd.DataFrame([{
            "grade": row["grade"], "exposure": estimate_text(row["exposure_cny"]),
            "loans": round(row["loans"]),
            "PD over the horizon": share_text(row["pd_horizon"]),
            "LGD": share_text(row["lgd"]),
            "expected loss": estimate_text(row["expected_loss_cny"])}
            for row in inputs if row["exposure_cny"]]))
    page.table(pd.DataFrame([{
        "confidence": f"{row['confidence'] * 100:.10g} %",
        "simulated loss ± se (95 % interval)": estimate_text(
            row["simulated_cny"], row["simulated_se"],
            (row.get("simulated_low", math.nan), row.get("simulated_high", math.nan))),
        "formula ± its granularity": estimate_text(row["formula_cny"], row["granularity_sd_cny"]),
        "difference, combined se": (f"{row['difference_se']:+.1f}"
                                    if math.isfinite(row["difference_se"]) else "no error"),
        "formula, factor averaged over the horizon": estimate_text(row["formula_averaged_cny"]),
    } for row in summary["closed_form"]]))
    what = summary.get("closed_form_loss", "loss at write-off")
    page.text(f"Simulated: the {what} (the same figure, with the same error, as in the table "
              f"above where it is the credit loss); the formula uses the inputs above.", "note")
    for reason in summary.get("closed_form_reasons", []):
        page.text(f"Why they differ: {reason}.", "note")
    if summary.get("effects"):
        page.text("Each effect switched off in a side study on the same seed and paths: the "
                  "simulated quantile without it, and the part of the gap to the formula it makes "
                  "(errors combined as if independent, an upper bound).", "note")
        page.table(pd.DataFrame([{
            "effect switched off": row["effect"], "by": row["switched off by"],
            "confidence": f"{row['confidence'] * 100:.10g} %",
            "simulated loss ± se": estimate_text(row["simulated_cny"], row["simulated_se"]),
            "the study's less it": estimate_text(row["change_cny"], row["change_se"]),
            "formula ± its granularity": estimate_text(row["formula_cny"]),
            "part of the gap it makes": estimate_text(row["gap_made_by_it_cny"]),
            "mean loss without it": estimate_text(row["mean_loss_cny"])}
            for row in summary["effects"]]))


def _tail(page: Page, summary: dict) -> None:
    """Each grade's, term's and vintage's share of the expected shortfall at the top confidence."""
    if not summary.get("tail_contributions"):
        return
    level = max(summary["confidence"])
    rows = [r for r in summary["tail_contributions"] if r["confidence"] == level
            and (r["es_contribution_cny"] or r["mean_loss_cny"])]
    page.heading(f"What makes the tail at {level * 100:.10g} %")
    if not rows:
        page.text("No loss in the tail nor on average over the paths: nothing to split by grade, "
                  "term or vintage.", "note")
        return
    page.table(pd.DataFrame([{
        "by": r["split"], "segment": r["segment"],
        "share of the expected shortfall": f"{r['share_of_es']:.1%} ± {r['share_of_es_se']:.1%}",
        "share of the mean loss": share_text(r["share_of_mean"]),
        "in the shortfall": estimate_text(r["es_contribution_cny"])} for r in rows]))
    page.text(f"The tail holds {rows[0]['tail_paths']:.0f} effective paths. A segment whose "
              f"share of the shortfall is above its share of the mean loss is one a downturn "
              f"hits harder.", "note")


def board_page(folder: ResultsFolder) -> Page:
    """A board's comparison: each scheme's size needed, cost a year and risk, with the figure."""
    table = folder.table("board.csv", ("scheme", "layer sized", "method", *READABLE_COLUMNS))
    studies = [str(path.relative_to(folder.path))
               for path in sorted((folder.path / "schemes").glob("*/summary.json"))]
    first = folder.json(studies[0]) if studies else {}
    page = Page(f"Protection schemes compared: {first.get('name', folder.path.name)}",
                facts("board", first.get("scenario"), first.get("seed"), folder.made_by,
                      first.get("metadata", {}).get("git"), folder.made_on()))
    summaries = {}
    for study in studies:
        summary = folder.json(study)
        summaries[summary.get("metadata", {}).get("request", {}).get("label")
                  or study.split("/")[1]] = summary
    page.warnings([f"{scheme}: {text}" for scheme, summary in summaries.items()
                   for text in summary.get("warnings", [])])
    if first.get("book"):
        page.heading(f"The first scheme's book ({table.iloc[0]['scheme']}); each scheme's own is "
                     f"in the table")
        page.text("The schemes share the applicants and the economy (one seed), not the book: "
                  "borrowers who see a dearer scheme's fees borrow less. Sizes are shares of a "
                  "scheme's own book; a row 'at equal lending' is the scheme sized again with "
                  "its demand scaled to lend as much as the first scheme.", "note")
        page.key_numbers(book_rows(first["book"]))
        _closed_form(page, first)
    page.heading("The schemes")
    page.table(readable_board(table.to_dict("records")))
    page.text("Sizes rounded to their standard errors; the figure shows their 95 % intervals. The "
              "cost a year: the capital the sized layer ties up at the board's cost of capital, "
              "plus what the platform pays into the scheme a year.", "note")
    page.figures(folder, (("board.png", "Size needed at each confidence (95 % intervals), cost "
                                        "a year, and P(runs short) as configured"),))
    page.heading("How each was sized")
    page.table(pd.DataFrame([{"scheme": scheme, **summary["solver"]}
                             for scheme, summary in summaries.items()]))
    return page
