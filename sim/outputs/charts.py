"""The run's charts (PNG): the overview, the platforms side by side, what the policies did.

Chinese names (platforms, 流标) draw with the first CJK font found (:func:`use_cjk_font`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sim.loans import DAYS_PER_MONTH  # noqa: E402

CJK_FONTS = (  # Debian's fonts-wqy-microhei (the README installs it), then other common places
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


def use_cjk_font() -> str | None:
    """Let charts draw Chinese (platform names, 流标) with the first CJK font found; return its name.

    Matplotlib falls back from DejaVu Sans to this font for characters DejaVu lacks. Without one,
    Chinese characters draw as empty boxes (the README says which package to install).
    """
    from matplotlib import font_manager

    for path in CJK_FONTS:
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
            plt.rcParams["font.family"] = ["DejaVu Sans", name]
            return name
    return None


CJK_FONT = use_cjk_font()


def plain_numbers(ax, axes: str = "xy") -> None:
    """Tick labels of ``ax`` as plain numbers with thousands separated: no "1e8" offset."""
    for name in axes:
        getattr(ax, f"{name}axis").set_major_formatter(
            FuncFormatter(lambda value, _: f"{value:,.6g}"))


def cjk_titles(fig) -> None:
    """Titles and y tick labels of ``fig`` in the CJK font, where there is one (Chinese names)."""
    if CJK_FONT:
        for axis in fig.axes:
            axis.title.set_fontfamily(CJK_FONT)
            for label in axis.get_yticklabels():
                label.set_fontfamily(CJK_FONT)


def plot_overview(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Four panels: lending, arrears and defaults, platform cash and revenue, investors' return."""
    month = frame["day"] / DAYS_PER_MONTH
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    ax = axes[0, 0]
    ax.plot(month, frame["outstanding_principal_cny"] / 1e6, label="outstanding principal")
    ax.set_ylabel("M CNY")
    ax2 = ax.twinx()
    lent_30_days = frame["volume_cny"].rolling(DAYS_PER_MONTH, min_periods=1).sum()
    ax2.plot(month, lent_30_days / 1e6, color="tab:orange", label="volume lent, last 30 days")
    ax2.set_ylabel("M CNY / 30 days")
    ax.set_title("Loan book")
    ax.legend(loc="upper left", handles=ax.lines + ax2.lines)
    ax = axes[0, 1]
    ax.stackplot(month, frame["arrears_m1"], frame["arrears_m2"], frame["arrears_m3"],
                 labels=["M1 (1-30 dpd)", "M2 (31-60)", "M3 (61-90)"], alpha=0.8)
    ax.set_ylabel("loans in arrears")
    ax2 = ax.twinx()
    ax2.plot(month, frame["defaults"].cumsum(), color="black", label="defaults, cumulative")
    ax2.set_ylabel("defaults")
    ax.set_title("Arrears and defaults")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles + ax2.lines, labels + ["defaults, cumulative"], loc="upper left")
    ax = axes[1, 0]
    ax.plot(month, frame["platform_cash_cny"] / 1e6, label="platform cash")
    ax.plot(month, frame["platform_fees_cny"].cumsum() / 1e6, label="fees collected, cumulative")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("M CNY")
    ax.set_title("Platform")
    ax.legend(loc="upper left")
    ax = axes[1, 1]
    ax.plot(month, 100 * frame["investor_return_annual"], label="realised return, a year")
    ax.set_ylabel("%")
    ax.set_title("Investors")
    ax2 = ax.twinx()
    ax2.plot(month, frame["investor_cash_cny"] / 1e6, color="tab:green", label="idle cash")
    ax2.set_ylabel("M CNY")
    ax.legend(loc="upper left", handles=ax.lines + ax2.lines)
    for ax in axes.flat:
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_platforms(monthly: pd.DataFrame, path: Path, title: str) -> None:
    """Outstanding principal, cash and revenue of each platform by month."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
    for name, rows in monthly.groupby("platform", sort=False):
        revenue = rows[["service_fee_cny", "management_fee_cny", "collection_fee_cny"]].sum(axis=1)
        axes[0].plot(rows["month"], rows["outstanding_principal_cny"] / 1e6, label=name)
        axes[1].plot(rows["month"], rows["platform_cash_cny"] / 1e6, label=name)
        axes[2].plot(rows["month"], revenue / 1e6, label=name)
    for ax, label in zip(axes, ["outstanding principal", "platform cash", "revenue in the month"]):
        ax.set_title(label)
        ax.set_xlabel("month")
        ax.set_ylabel("M CNY")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[1].axhline(0, color="grey", lw=0.5)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_policies(monthly: pd.DataFrame, marketing: pd.DataFrame, path: Path, title: str) -> None:
    """What the policies did, month by month: one panel for each policy the scenario uses.

    Investors won and lost (always); guarantee funds and payouts (with a reserve, a guarantor or
    payouts); cost per acquired user by channel (with marketing channels); a fund pool's
    liabilities against its assets (with a pool). A policy not in use has no panel.
    """
    drawers = [_investors_panel]
    if (monthly[["reserve_fund_cny", "guarantor_capital_cny", "guarantee_payout_cny"]] != 0
            ).any().any():
        drawers.insert(0, _guarantee_panel)
    if len(marketing):
        drawers.append(lambda ax, rows: _marketing_panel(ax, marketing))
    if monthly["pool_liabilities_cny"].any():
        drawers.append(_pool_panel)
    columns = 2 if len(drawers) > 1 else 1
    rows_ = (len(drawers) + 1) // 2
    fig, axes = plt.subplots(rows_, columns, figsize=(6.5 * columns, 4.2 * rows_ + 0.6),
                             constrained_layout=True, squeeze=False)
    for ax, draw in zip(axes.ravel(), drawers):
        draw(ax, monthly)
        ax.set_xlabel("month of the run")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, ncol=2,
                  frameon=False)
    for ax in axes.ravel()[len(drawers):]:
        ax.set_visible(False)
    fig.suptitle(title)
    save_figure(fig, path)


def _guarantee_panel(ax, monthly: pd.DataFrame) -> None:
    for name, rows in monthly.groupby("platform", sort=False):
        fund = rows["reserve_fund_cny"] + rows["guarantor_capital_cny"]
        line, = ax.plot(rows["month"], fund / 1e6, label=f"{name}: reserve / capital")
        ax.plot(rows["month"], rows["guarantee_payout_cny"].cumsum() / 1e6, ls="--",
                color=line.get_color(), label=f"{name}: payouts, cumulative")
        if rows["guarantee_unpaid_cny"].any():
            ax.plot(rows["month"], rows["guarantee_unpaid_cny"] / 1e6, ls=":",
                    color=line.get_color(), label=f"{name}: claims left unpaid, cumulative")
    ax.set_title("guarantee: fund and payouts")
    ax.set_ylabel("M CNY")


def _investors_panel(ax, monthly: pd.DataFrame) -> None:
    for name, rows in monthly.groupby("platform", sort=False):
        line, = ax.plot(rows["month"], rows["active_investors"], label=f"{name}: active")
        ax.bar(rows["month"], rows["new_investors"], alpha=0.4, color=line.get_color(),
               label=f"{name}: new in the month")
    ax.set_title("investors")
    ax.set_ylabel("investors")


def _marketing_panel(ax, marketing: pd.DataFrame) -> None:
    for (name, channel), rows in marketing.groupby(["platform", "channel"], sort=False):
        ax.plot(rows["month"], rows["cost_per_user_cny"], marker=".", label=f"{name}: {channel}")
    ax.set_title("marketing: cost per acquired user")
    ax.set_ylabel("CNY per user")


def _pool_panel(ax, monthly: pd.DataFrame) -> None:
    for name, rows in monthly.groupby("platform", sort=False):
        if not rows["pool_liabilities_cny"].any():
            continue
        assets = rows["pool_cash_cny"] + rows["held_claims_cny"]
        line, = ax.plot(rows["month"], rows["pool_liabilities_cny"] / 1e6,
                        label=f"{name}: owed to investors")
        ax.plot(rows["month"], assets / 1e6, ls="--", color=line.get_color(),
                label=f"{name}: pool cash + loans")
        ax.plot(rows["month"], rows["pool_overdue_cny"] / 1e6, ls=":", color=line.get_color(),
                label=f"{name}: redemptions overdue")
    ax.set_title("fund pool")
    ax.set_ylabel("M CNY")


def save_figure(fig, path: Path) -> Path:
    """Save a figure as PNG (110 dpi) and close it."""
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_runs(runs: pd.DataFrame, path: Path, title: str) -> None:
    """A run day by day, per platform: trust, the queue, the secondary market and the state."""
    use_cjk_font()
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
    for name, rows in runs.groupby("platform", sort=False):
        line = axes[0, 0].plot(rows.day, rows.trust_mean, label=f"{name} mean")[0]
        axes[0, 0].fill_between(rows.day, rows.trust_p10, rows.trust_p90, alpha=0.2,
                                color=line.get_color())
        axes[0, 1].plot(rows.day, rows.queued_cny / 1e6, label=name)
        axes[1, 0].plot(rows.day, rows.transfer_price, label=name)
        axes[1, 1].step(rows.day, rows.state, where="post", label=name)
    axes[0, 0].set_title("trust (mean, P10-P90 band)")
    axes[0, 1].set_title("withdrawals queued, M CNY")
    axes[1, 0].set_title("债权转让 clearing price, share of par")
    axes[1, 1].set_title("state")
    axes[1, 1].set_yticks(range(5), ["normal", "提现困难", "良性退出", "清盘", "跑路"])
    for ax in axes.flat:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("day")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
