"""What a report shows of an industry run and of an industry experiment (``p2psim industry``)."""

from __future__ import annotations

import pandas as pd

from sim.report.folder import ResultsFolder
from sim.report.html import Page, number_text
from sim.report.scenario_text import scenario_toml


def _facts(kind: str, summary: dict) -> dict[str, str]:
    return {"kind": kind, "scenario": str(summary.get("scenario")), "seed": str(summary.get("seed")),
            "p2psim": str(summary.get("version", "unknown")),
            "git revision": str(summary.get("git_revision") or "unknown")}


def industry_page(folder: ResultsFolder) -> Page:
    """An industry run: failures by cause and type, money lost, the wave, the trackers' table."""
    summary = folder.json("summary.json")
    page = Page(f"Industry: {summary['name']}", _facts("industry", summary))
    page.heading("Key numbers")
    page.key_numbers([
        ("platforms", number_text(summary["platforms"])),
        ("investors", number_text(summary["investors"])),
        ("positions (investor, platform)", number_text(summary["positions"])),
        ("loans outstanding at the peak", number_text(summary["loans_at_peak"])),
        ("platforms failed", number_text(summary["failed"])),
        ("failures the background hazard alone expects", number_text(
            summary["expected_background_failures"])),
        ("worst month", f"{summary['peak_month']}: {summary['peak_new_problem']} new problems"),
        ("investors' losses, CNY", number_text(summary["investors_losses_cny"])),
        ("of which 共债 borrowers, CNY", number_text(summary["co_debt_losses_cny"])),
        ("recovered from failed platforms, CNY", number_text(summary["recoveries_cny"]))])
    page.heading("Failures by cause and by type")
    page.table(pd.DataFrame([{"cause": k, "platforms": v}
                             for k, v in summary["failed_by_cause"].items()]))
    page.table(pd.DataFrame([{"type": k, "platforms": v}
                             for k, v in summary["failed_by_type"].items()]))
    page.heading("Money on failed platforms, by cause and channel")
    page.table(pd.DataFrame([{"cause or channel": k, "CNY": summary["damage_cny"][k],
                              "share": summary["damage_share"][k]} for k in summary["damage_cny"]]))
    page.heading("Figures")
    page.figure(folder.path / "wave.png", "Problem platforms a month by type, platforms, money, "
                                          "sentiment")
    monthly = pd.read_csv(folder.path / "monthly.csv")
    page.heading("The trackers' table, month by month")
    page.table(monthly[["month", "operating", "winding_down", "new_problem", "new_by_background",
                        "new_by_regulators", "new_by_named", "new_by_run", "outstanding_cny",
                        "net_inflow_cny", "losses_cny", "recoveries_cny", "sentiment"]])
    if "config" in summary:
        page.preformatted(scenario_toml(summary["config"]), "The scenario as run (every key)")
    return page


def industry_experiment_page(folder: ResultsFolder) -> Page:
    """An industry experiment: each variant's failures and damage with errors, the figure."""
    summary = pd.read_csv(folder.path / "summary.csv")
    runs = pd.read_csv(folder.path / "runs.csv")
    page = Page(f"Industry experiment: {folder.path.name}",
                {"kind": "industry experiment", "variants": str(len(summary)),
                 "runs": str(len(runs)), "p2psim": folder.made_by})
    page.heading("Variants (mean of the replications; vs first: paired difference)")
    shown = ["variant", "runs", "failed", "failed_se", "failed_vs_first", "failed_vs_first_se",
             "damage_100m_cny", "damage_100m_cny_se", "damage_100m_cny_vs_first",
             "investors_losses_100m_cny"]
    page.table(summary[shown])
    page.heading("Figures")
    page.figure(folder.path / "comparison.png", "Failed platforms and the money on them, 95 % "
                                                "intervals")
    page.heading("Every run")
    page.table(runs)
    return page
