"""The plan's figures: fan charts of the monthly figures and the targets' odds with their errors."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

FAN_TITLES = {"cash_cny": "own cash at the month's end, M CNY",
              "net_income_cny": "net income in the month, M CNY",
              "revenue_cny": "revenue in the month, M CNY",
              "daily_volume_cny": "lent a day, M CNY"}


def plot_fans(fans: dict[str, pd.DataFrame], path: Path, title: str,
              minimum_cash_cny: float | None = None) -> None:
    """P10-P90 bands and the median of the monthly figures, over the runs.

    The own-cash panel is the plan's cash runway: with the plan's minimum cash (its
    ``min_cash_cny >= X`` target) as a red line where it sets one.
    """
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6), constrained_layout=True)
    for ax, (name, label) in zip(axes.flat, FAN_TITLES.items()):
        fan = fans[name] / 1e6
        ax.fill_between(fan.index, fan.p10, fan.p90, alpha=0.3, label="P10-P90 of the runs")
        ax.plot(fan.index, fan.p50, label="median")
        ax.axhline(0, color="grey", linewidth=0.8)
        if name == "cash_cny" and minimum_cash_cny is not None:
            ax.axhline(minimum_cash_cny / 1e6, color="tab:red", linewidth=1.0,
                       label=f"the plan's minimum cash, {minimum_cash_cny / 1e6:,.1f} M")
        ax.set_title(label)
        ax.set_ylabel(label.rsplit(", ", 1)[-1])
        ax.set_xlabel("month of the plan")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8,
                  frameon=False)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_targets(odds: pd.DataFrame, path: Path, title: str) -> None:
    """Each target's probability of being met, with its 95 % interval."""
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(odds) + 1.5), constrained_layout=True)
    y = range(len(odds))
    errors = [(odds.probability - odds.ci95_low).clip(lower=0),
              (odds.ci95_high - odds.probability).clip(lower=0)]
    ax.barh(y, odds.probability, xerr=errors, color="tab:blue", alpha=0.7, capsize=3)
    ax.set_yticks(list(y), odds.target)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability of meeting the target (bars: 95 % interval)")
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_solve(trials: pd.DataFrame, result: dict, path: Path, title: str) -> None:
    """The share of runs meeting the target at each value tried, the level and the answer."""
    fig, ax = plt.subplots(figsize=(9, 5), constrained_layout=True)
    order = trials.sort_values("value")
    value, share = order["value"].to_numpy(float), order["share"].to_numpy(float) * 100
    ax.step(value, share, where="post", color="tab:blue",
            label="share of runs meeting the target (values tried)")
    ax.plot(value, share, "o", color="tab:blue", markersize=3)
    ax.axhline(result["probability"] * 100, color="grey", linestyle="--",
               label=f"probability asked: {result['probability']:.0%}")
    ax.axvline(float(result["answer"]), color="tab:red",
               label=f"answer: {result['answer']:,.4g}")
    low, high = result["interval"]
    if not result["interval_open"]:
        ax.axvspan(low, high, color="tab:red", alpha=0.15, label="95 % interval")
    ax.set_xlabel(result["key"])
    ax.set_ylabel("runs meeting the target, %")
    ax.set_ylim(0, 100)
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    ax.legend(loc="best")
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
