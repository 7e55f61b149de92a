"""An industry run's results folder: monthly.csv, platforms.csv, journal.csv, summary.json, wave.png.

Written atomically (``sim.folders.atomic_folder``): all of it or nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import __version__  # noqa: E402
from sim.folders import atomic_folder  # noqa: E402
from sim.industry.hazard import FAILURE_TYPES  # noqa: E402
from sim.industry.tracker import DAMAGE, platform_table  # noqa: E402
from sim.outputs import git_revision  # noqa: E402

KIND = "industry"


def summarise(model) -> dict:
    """The run in a few numbers: failures by cause and type, money lost, damage by channel (CNY)."""
    monthly = model.tracker.frame()
    platforms = platform_table(model)
    failed = platforms[platforms.state == "failed"]
    peak = monthly.loc[monthly.new_problem.idxmax()] if len(monthly) else None
    damage = {c: float(monthly[f"damage_{c}_cny"].sum()) for c in DAMAGE}
    total_damage = sum(damage.values())
    return {
        "name": model.config.run.name, "seed": model.seed, "months": len(monthly),
        "platforms": len(platforms), "investors": model.positions.investors,
        "positions": len(model.positions), "loans_at_peak": int(monthly.loans_outstanding.max()),
        "failed": len(failed), "winding_down": int((platforms.state == "winding_down").sum()),
        "failed_by_cause": failed.cause.value_counts().to_dict(),
        "failed_by_type": failed.failure_type.value_counts().to_dict(),
        "expected_background_failures": round(model.expected_background, 2),
        "peak_month": None if peak is None else peak.month,
        "peak_new_problem": 0 if peak is None else int(peak.new_problem),
        "investors_losses_cny": float(monthly.losses_cny.sum()),
        "co_debt_losses_cny": float(monthly.co_debt_losses_cny.sum()),
        "recoveries_cny": float(monthly.recoveries_cny.sum()),
        "stuck_at_end_cny": float(monthly.stuck_cny.iloc[-1]) if len(monthly) else 0.0,
        "damage_cny": damage,
        "damage_share": {c: (v / total_damage if total_damage else 0.0) for c, v in damage.items()},
    }


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
    ax.legend(fontsize=8)
    axes[0, 1].plot(x, monthly.operating, label="operating")
    axes[0, 1].plot(x, monthly.winding_down, label="winding down")
    axes[0, 1].set_title("platforms")
    axes[0, 1].legend(fontsize=8)
    axes[1, 0].plot(x, monthly.investors_money_cny / 1e8, label="investors' money on live platforms")
    axes[1, 0].plot(x, monthly.stuck_cny / 1e8, label="stuck on failed platforms")
    axes[1, 0].set_title("100 M CNY (亿元)")
    axes[1, 0].legend(fontsize=8)
    axes[1, 1].plot(x, monthly.sentiment, color="tab:red")
    axes[1, 1].set_title("sentiment, mean of the month (0 calm, 1 panic)")
    for ax in axes.ravel():
        ax.set_xticks(ticks, monthly.month.iloc[ticks], rotation=45, fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_industry(model, out: Path, scenario: str, elapsed: dict) -> Path:
    """Write the run's results into ``out`` (checked before the run); returns the folder."""
    monthly = model.tracker.frame()
    with atomic_folder(Path(out), KIND) as staging:
        monthly.to_csv(staging / "monthly.csv", index=False)
        platform_table(model).to_csv(staging / "platforms.csv", index=False)
        model.ledger.journal().to_csv(staging / "journal.csv", index=False)
        summary = summarise(model) | {
            "scenario": scenario, "elapsed_s": elapsed, "version": __version__,
            "git_revision": git_revision(), "config": model.config.model_dump(by_alias=True)}
        (staging / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False,
                                                         default=_plain), encoding="utf-8")
        wave_figure(monthly, staging / "wave.png", f"{model.config.run.name}, seed {model.seed}")
    return Path(out)


def _plain(value):
    return value.item() if hasattr(value, "item") else str(value)


def format_summary(summary: dict) -> str:
    """A few lines for the terminal."""
    causes = ", ".join(f"{k} {v}" for k, v in summary["failed_by_cause"].items())
    shares = ", ".join(f"{k} {v:.0%}" for k, v in summary["damage_share"].items() if v >= 0.005)
    return "\n".join([
        f"{summary['platforms']} platforms, {summary['investors']:,} investors on "
        f"{summary['positions']:,} positions, {summary['loans_at_peak']:,} loans at the peak",
        f"failed: {summary['failed']} ({causes}); background alone expected "
        f"{summary['expected_background_failures']:.1f}; winding down: {summary['winding_down']}",
        f"worst month {summary['peak_month']}: {summary['peak_new_problem']} new problem platforms",
        f"investors lost {summary['investors_losses_cny'] / 1e8:,.2f} 亿 CNY (of which 共债 "
        f"{summary['co_debt_losses_cny'] / 1e8:,.2f} 亿), recovered "
        f"{summary['recoveries_cny'] / 1e8:,.2f} 亿, still stuck {summary['stuck_at_end_cny'] / 1e8:,.2f} 亿",
        f"money on failed platforms by cause and channel: {shares}",
    ])
