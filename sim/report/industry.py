"""What a report shows of an industry run and of an industry experiment (``p2psim industry``)."""

from __future__ import annotations

import pandas as pd

from sim.outputs.statistics import fate
from sim.report.folder import ResultsFolder
from sim.report.html import Page, facts, number_text
from sim.report.industry_figures import contagion_png, provinces_png
from sim.report.scenario_text import overrides_text, scenario_toml


def _facts(kind: str, summary: dict, made: str | None) -> dict[str, str]:
    overridden = (overrides_text(summary.get("scenario"), summary["config"])
                  if "config" in summary else "")
    return facts(kind, summary.get("scenario"), summary.get("seed"), summary.get("version"),
                 summary.get("git_revision"), summary.get("finished_utc", made), overridden)


def industry_page(folder: ResultsFolder) -> Page:
    """An industry run: failures by cause and type, money lost, the wave, the trackers' table.

    With platforms in full detail among the pooled ones: each one's fate and its company's
    statements by year.
    """
    summary = folder.json("summary.json")
    page = Page(f"Industry: {summary['name']}", _facts("industry", summary, folder.made_on()))
    page.heading("Key numbers")
    page.key_numbers([
        ("platforms (in full detail)", f"{number_text(summary['industry_platforms'])} "
                                       f"({number_text(summary['detailed_platforms'])})"),
        ("investors", number_text(summary["industry_investors"])),
        ("positions (investor, platform)", number_text(summary["positions"])),
        ("loans outstanding at the peak", number_text(summary["loans_at_peak"])),
        ("problem platforms (问题平台)", number_text(summary["problem_platforms"])),
        ("failures the background hazard alone expects", number_text(
            summary["expected_background_failures"])),
        ("worst month", f"{summary['peak_month']}: {summary['peak_new_problem']} new problems"),
        ("investors' losses, 亿 CNY", _yi(summary["industry_losses_cny"])),
        ("of which 共债 borrowers, 亿 CNY", _yi(summary["co_debt_losses_cny"])),
        ("stuck on failed platforms at the end, 亿 CNY", _yi(summary["stuck_at_end_cny"])),
        *[(label, f"{summary[key]:.0%}") for key, label in (
            ("wave_volume_fall", "new lending around the worst month, fall"),
            ("wave_balance_fall", "outstanding balance around it, fall"),
            ("wave_investors_fall", "active investors around it, fall"))
          if summary.get(key) is not None and summary[key] == summary[key]],
        *[(label, value) for label, value in (
            ("new platforms launched", number_text(summary.get("entrants", 0))),
            ("withdrawn money deposited again with trusted platforms, 亿 CNY",
             _yi(summary.get("redeposited_cny", 0.0)))) if summary.get("entrants")
          or summary.get("redeposited_cny")]])
    for name, row in summary.get("platforms", {}).items():
        page.text(f"{name}, in full detail: {fate(row)}; {number_text(row['loans_funded'])} loans "
                  f"funded; cash at the end {number_text(row['platform_cash_cny'])} CNY.")
    page.heading("Figures")
    page.figure(folder.path / "wave.png", "Problem platforms a month by type, platforms, money, "
                                          "sentiment")
    if folder.has("fates.png"):
        page.figure(folder.path / "fates.png", "The platforms that stayed healthy to the end, those "
                                               "that failed, and the entrants: active investors, "
                                               "new lending, balance, net inflow")
    if folder.has("company.png"):
        page.figure(folder.path / "company.png", "The detailed platforms' company")
    if folder.has("platforms.csv"):
        platforms = folder.table("platforms.csv", ("problem_day", "investors_money_cny"))
        page.figure_png(*contagion_png(platforms, folder))
        if "province" in platforms:
            page.figure_png(provinces_png(platforms), "Problem platforms by province (their "
                                                      "registered seat) and the share of each "
                                                      "province's platforms that failed")
    page.heading("Failures by cause and by type")
    page.table(pd.DataFrame([{"cause": k, "platforms": v}
                             for k, v in summary["failed_by_cause"].items()]))
    page.table(pd.DataFrame([{"type": k, "platforms": v}
                             for k, v in summary["failed_by_type"].items()]))
    page.heading("Money on failed platforms, by cause and reason")
    damage = summary["damage_by_cause_cny"]
    page.table(pd.DataFrame([{"cause or reason": k, "亿 CNY": damage[k],
                              "share": summary["damage_share"][k]} for k in damage]))
    columns = ["month", "operating", "winding_down", "new_problem", "new_by_background",
               "new_by_regulators", "new_by_named", "new_by_run", "outstanding_cny",
               "net_inflow_cny", "losses_cny", "sentiment"]
    monthly = folder.table("monthly.csv", tuple(columns))
    page.heading("Appendix: the trackers' table, month by month")
    page.table(monthly[columns])
    if "config" in summary:
        page.preformatted(scenario_toml(summary["config"]), "The scenario as run (every key)")
    return page


def _yi(cny: float) -> str:
    """An amount in 亿 CNY (100 million), as the trackers print it."""
    return f"{cny / 1e8:,.2f}"
