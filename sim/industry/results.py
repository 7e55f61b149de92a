"""An industry run's results folder, written atomically (``sim.folders.atomic_folder``).

``monthly.csv`` (the trackers' table), ``platforms.csv`` (every platform at the end, its province
among its facts), ``links.csv`` (pairs of platforms with investors in common), ``journal.csv``
(the ledger by month, every platform), ``summary.json`` (the end-of-run statistics of the one
registry, :mod:`sim.outputs.statistics`, the industry's figures among them, and each detailed
platform's), ``wave.png``; and for the scenario's own platforms, run in full detail:
``statements.csv`` (by year) and ``company.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import sparse  # noqa: E402

from sim import __version__, strict_json  # noqa: E402
from sim.company.report import company_report, write_company  # noqa: E402
from sim.folders import atomic_folder  # noqa: E402
from sim.industry.hazard import FAILURE_TYPES  # noqa: E402
from sim.industry.tracker import DAMAGE, FATES, fate_table, platform_table  # noqa: E402
from sim.outputs import git_revision  # noqa: E402
from sim.outputs.statistics import fate, summarise, target_lines  # noqa: E402
from sim.scenario.industry import month_index  # noqa: E402

KIND = "industry"
MOST_LINKS = 3000  # links.csv keeps the strongest pairs: a figure shows a few hundred


def industry_summary(model, company=None) -> dict:
    """The run in numbers: the one registry's statistics, and the industry's by cause and type."""
    summary = summarise(model, company)
    industry = model.industry
    monthly = industry.tracker.frame()
    platforms = platform_table(industry)
    failed = platforms[platforms.problem_day >= 0]  # problem platforms (a ban's wind-down is not)
    peak = monthly.loc[monthly.new_problem.idxmax()] if len(monthly) else None
    damage = {c: float(monthly[f"damage_{c}_cny"].sum()) for c in DAMAGE} if len(monthly) else {}
    total_damage = sum(damage.values())
    events = model.config.industry.events
    last = industry.first_month + len(monthly) - 1  # the run's last month
    reached = [month_index(event.month) <= last for event in events]
    summary.update({
        "name": model.config.run.name, "seed": model.seed, "months": len(monthly),
        "industry_platforms": len(platforms), "detailed_platforms": len(model.platforms),
        "industry_investors": int(industry.positions.investors),
        "positions": len(industry.positions),
        "loans_at_peak": int(monthly.loans_outstanding.max()) if len(monthly) else 0,
        "failed_by_cause": failed.cause.value_counts().to_dict(),
        "failed_by_type": failed.failure_type.value_counts().to_dict(),
        "winding_down": int((platforms.state == "良性退出").sum()),
        "banned": int(industry.banned.sum()),
        "expected_background_failures": round(industry.expected_background, 2),
        "peak_month": None if peak is None else peak.month,
        "entrants": int(monthly.entrants.sum()) if len(monthly) else 0,
        "redeposited_cny": float(monthly.redeposited_cny.sum()) if len(monthly) else 0.0,
        "withdrawn_cny": float(monthly.withdrawals_cny.sum()) if len(monthly) else 0.0,
        "damage_by_cause_cny": damage,
        "damage_share": {c: (v / total_damage if total_damage else 0.0) for c, v in damage.items()},
        "dated_events": [event_text(e) for e, on in zip(events, reached, strict=True) if on],
        "dated_events_not_reached": [event_text(e) for e, on in zip(events, reached, strict=True)
                                     if not on],
    })
    return summary


def event_text(event) -> str:
    """A dated event as the output names it: an input of the run, not a result."""
    who = (f"the {event.largest} largest {event.platform_class}" if event.largest else
           ", ".join(map(str, event.platforms)) if event.platforms else event.platform_class)
    what = {"tighten": f"tighten on {who} (hazard x{event.hazard_multiplier:g}, "
                       f"{event.months} months)",
            "ban": f"ban of {who}", "shrink": f"shrink order on {who} (三降, {event.months} months)",
            "collapse": f"collapse of {who}",
            "investigation": f"investigation of {who}"}[event.kind]
    return f"{event.month} {what}"


def wave_figure(monthly: pd.DataFrame, path: Path, title: str) -> None:
    """Problem platforms a month by type, platforms operating, money on them, sentiment."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), constrained_layout=True)
    x = np.arange(len(monthly))
    ticks = x[:: max(1, len(x) // 9)]
    bottom = np.zeros(len(x))
    ax = axes[0, 0]
    for t in FAILURE_TYPES:
        ax.bar(x, monthly[f"new_{t}"], bottom=bottom, label=t)
        bottom += monthly[f"new_{t}"].to_numpy()
    ax.set_title("new problem platforms a month, by type (问题平台)")
    ax.set_ylabel("platforms")
    ax.legend(fontsize=8)
    axes[0, 1].plot(x, monthly.operating, label="operating")
    axes[0, 1].plot(x, monthly.winding_down, label="winding down")
    axes[0, 1].set_title("platforms")
    axes[0, 1].set_ylabel("platforms")
    axes[0, 1].legend(fontsize=8)
    axes[1, 0].plot(x, monthly.investors_money_cny / 1e8,
                    label="investors' money on operating platforms")
    axes[1, 0].plot(x, monthly.outstanding_cny / 1e8, label="their loans outstanding")
    axes[1, 0].plot(x, monthly.winding_down_cny / 1e8, label="on platforms winding down")
    axes[1, 0].plot(x, monthly.stuck_cny / 1e8, label="stuck on failed platforms")
    axes[1, 0].set_title("money")
    axes[1, 0].set_ylabel("亿 CNY (100 M)")
    axes[1, 0].legend(fontsize=8)
    axes[1, 1].plot(x, monthly.sentiment, color="tab:red")
    axes[1, 1].set_title("sentiment, mean of the month")
    axes[1, 1].set_ylabel("0 calm .. 1 panic")
    for ax in axes.ravel():
        ax.set_xticks(ticks, monthly.month.iloc[ticks], rotation=45, fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fate_figure(fates: pd.DataFrame, path: Path, title: str) -> None:
    """Active investors, new lending, balance and net inflow of the platforms by their fate."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), constrained_layout=True)
    panels = (("investors_summed_over_platforms", "active (lending) investors, summed over the "
               "platforms (one on two counts twice)", 1.0, "investors"),
              ("volume_cny", "new lending a month", 1e8, "亿 CNY (100 M)"),
              ("outstanding_cny", "outstanding balance", 1e8, "亿 CNY (100 M)"),
              ("net_inflow_cny", "net inflow a month", 1e8, "亿 CNY (100 M)"))
    months = list(dict.fromkeys(fates.month)) if len(fates) else []
    ticks = np.arange(len(months))[:: max(1, len(months) // 9)]
    for ax, (column, label, scale, unit) in zip(axes.ravel(), panels, strict=True):
        for group in FATES:
            rows = fates[fates.fate == group]
            if len(rows):
                ax.plot([months.index(m) for m in rows.month], rows[column] / scale, label=group)
        ax.set_title(label)
        ax.set_ylabel(unit)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xticks(ticks, [months[t] for t in ticks], rotation=45, fontsize=8)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_industry(model, out: Path, scenario: str, elapsed: dict) -> tuple[Path, dict]:
    """Write the run's results into ``out`` (checked before the run); the folder and the summary."""
    industry = model.industry
    monthly = industry.tracker.frame()
    company = company_report(model)
    summary = industry_summary(model, company) | {
        "scenario": scenario, "elapsed_s": elapsed, "version": __version__,
        "git_revision": git_revision(), "config": model.config.model_dump(mode="json",
                                                                          by_alias=True)}
    with atomic_folder(Path(out), KIND) as staging:
        monthly.to_csv(staging / "monthly.csv", index=False)
        platform_table(industry).to_csv(staging / "platforms.csv", index=False)
        fates = fate_table(industry)
        fates.to_csv(staging / "fates.csv", index=False)
        fate_figure(fates, staging / "fates.png", f"{model.config.run.name}, seed {model.seed}: "
                                                  f"platforms that stayed healthy and that failed")
        shared_investors(industry).to_csv(staging / "links.csv", index=False)
        model.ledger.journal().to_csv(staging / "journal.csv", index=False)
        (staging / "summary.json").write_text(strict_json.dumps(
            summary, indent=2, ensure_ascii=False, default=_plain), encoding="utf-8")
        wave_figure(monthly, staging / "wave.png", f"{model.config.run.name}, seed {model.seed}")
        if model.platforms:
            write_company(company, staging, f"{model.config.run.name} (seed {model.seed}): "
                                            f"the detailed platforms' company")
    return Path(out), summary


def shared_investors(industry, most: int = MOST_LINKS) -> pd.DataFrame:
    """Pairs of platforms with investors in common, the channel a run spreads by.

    The ``most`` strongest pairs: platform_a, platform_b (names), shared_investors (a count).
    """
    positions = industry.positions
    held = sparse.coo_matrix((np.ones(len(positions), dtype=np.int32),
                              (positions.investor, positions.platform)),
                             shape=(positions.investors, positions.platforms)).tocsr()
    held.data[:] = 1  # an investor with two positions on a platform counts once
    common = sparse.triu(held.T @ held, k=1).tocoo()
    order = np.argsort(-common.data, kind="stable")[:most]
    names = np.asarray(industry.names)
    return pd.DataFrame({"platform_a": names[common.row[order]],
                         "platform_b": names[common.col[order]],
                         "shared_investors": common.data[order]})


def _plain(value):
    return value.item() if hasattr(value, "item") else str(value)


def format_summary(summary: dict) -> str:
    """A few lines for the terminal: the industry's wave, then each detailed platform's fate."""
    causes = ", ".join(f"{k} {v}" for k, v in summary["failed_by_cause"].items())
    shares = ", ".join(f"{k} {v:.0%}" for k, v in summary["damage_share"].items() if v >= 0.005)
    lines = [
        f"{summary['industry_platforms']} platforms ({summary['detailed_platforms']} in full "
        f"detail), {summary['industry_investors']:,} investors on {summary['positions']:,} "
        f"positions, {summary['loans_at_peak']:,} loans at the peak",
        f"problem platforms: {summary['problem_platforms']} ({causes}); background alone expected "
        f"{summary['expected_background_failures']:.1f}; winding down: {summary['winding_down']}",
        f"worst month {summary['peak_month']}: {summary['peak_new_problem']} new problem platforms",
        f"investors lost {summary['industry_losses_cny'] / 1e8:,.2f} 亿 CNY (of which 共债 "
        f"{summary['co_debt_losses_cny'] / 1e8:,.2f} 亿) after the reserves paid "
        f"{summary['reserve_payouts_cny'] / 1e8:,.2f} 亿; at the end "
        f"{summary['stuck_at_end_cny'] / 1e8:,.2f} 亿 stuck on failed platforms, "
        f"{summary['winding_down_at_end_cny'] / 1e8:,.2f} 亿 on platforms winding down",
        f"money on failed platforms by cause and reason: {shares or 'none'}",
    ]
    if summary.get("dated_events"):
        lines.append(f"dated events, inputs of the run (the 'named' and 'regulators' failures "
                     f"follow from them; the rest is the model's response): "
                     f"{'; '.join(summary['dated_events'])}")
    if summary.get("dated_events_not_reached"):
        lines.append(f"dated events past the run's end, not reached: "
                     f"{'; '.join(summary['dated_events_not_reached'])}")
    if summary["entrants"] or summary["redeposited_cny"]:
        lines.append(f"{summary['entrants']} new platforms launched; of "
                     f"{summary['withdrawn_cny'] / 1e8:,.2f} 亿 CNY withdrawn, "
                     f"{summary['redeposited_cny'] / 1e8:,.2f} 亿 deposited again with trusted "
                     f"platforms (flight to quality)")
    wave = ", ".join(f"{name.removeprefix('wave_').replace('_', ' ')} {summary[name]:.0%}"
                     for name in ("wave_volume_fall", "wave_balance_fall", "wave_investors_fall")
                     if name in summary and summary[name] == summary[name])
    if wave:
        lines.append(f"around the worst month: {wave}")
    for name, row in summary.get("platforms", {}).items():
        lines.append(f"{name}, in full detail: {fate(row)}; {row['loans_funded']:,} loans funded, "
                     f"cash {row['platform_cash_cny']:,.0f} CNY")
    return "\n".join(lines + target_lines(summary))
