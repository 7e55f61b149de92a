"""The company chart of a run (``company.png``): income, cash and the balance sheet, by month."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_company(report, path: Path, title: str) -> None:
    """Per platform (up to four, side by side): revenue, costs and net income; cash; equity."""
    names = list(report.monthly)[:4]
    fig, axes = plt.subplots(3, len(names), figsize=(5 * len(names) + 2, 11), squeeze=False,
                             constrained_layout=True)
    for column, name in enumerate(names):
        monthly = report.monthly[name]
        month = monthly.index.to_numpy()
        ax = axes[0, column]
        ax.plot(month, monthly.revenue_cny / 1e6, label="revenue")
        ax.plot(month, monthly.costs_cny / 1e6, label="costs before tax")
        ax.bar(month, monthly.net_income_cny / 1e6, color="tab:green", alpha=0.4,
               label="net income")
        ax.set_title(f"{name}: income a month")
        ax.set_ylabel("M CNY a month")
        ax = axes[1, column]
        ax.plot(month, monthly.cash_cny / 1e6, label="own cash, month end")
        ax.plot(month, np.cumsum(monthly.net_income_cny) / 1e6, label="net income since month 1")
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title("cash and cumulative profit")
        ax.set_ylabel("M CNY")
        ax = axes[2, column]
        ax.plot(month, monthly.equity_cny / 1e6, label="equity")
        ax.plot(month, monthly.volume_cny / 1e6, label="lent in the month")
        ax.set_title("equity and volume")
        ax.set_ylabel("M CNY")
    fig.supxlabel("month of the plan")
    for ax in axes.ravel():  # legends under the panels, never over the lines
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8,
                  frameon=False)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
