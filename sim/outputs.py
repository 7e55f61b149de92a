"""What a run leaves behind: time series (Parquet), the ledger's journal, metadata and figures.

A run's folder is written whole or not at all: everything goes to a temporary folder beside the
target, which is renamed into place at the end (an earlier folder of the same name is replaced).

Files
-----
timeseries.parquet  one row per day, the model reporters (amounts in CNY)
journal.parquet     the ledger's journal: day, source, target, memo, amount_fen
loans.parquet       the loan book at the end of the run (one row per loan, amounts in fen)
platforms.parquet   per platform and month: month-end balances and the month's flows (CNY)
marketing.parquet   per platform, channel and month: spend, units, new users, cost per user
summary.json        the end-of-run summary table
metadata.json       scenario, seed, package version, git revision, timings
overview.png        volume, outstanding book, arrears, defaults, platform cash, investor return
platforms.png       outstanding principal and cash of each platform, month by month
policies.png        guarantee funds and payouts, investors won and lost, cost per user, fund pool
"""

from __future__ import annotations

import json
import platform as host
import subprocess
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import sim  # noqa: E402
from sim.folders import atomic_folder  # noqa: E402

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


def git_revision() -> str:
    """The git commit of the code that ran (with ``-dirty`` if it had changes), or ``unknown``."""
    root = Path(sim.__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "sim"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def summarise(model) -> dict:
    """End-of-run figures a person reads first (amounts in CNY, rates as fractions)."""
    frame = model.datacollector.get_model_vars_dataframe()
    volume = frame["volume_cny"].sum()
    listings = frame["funded_listings"].sum() + frame["failed_listings"].sum()
    years = max(model.day, 1) / 360.0
    average_book = frame["outstanding_principal_cny"].mean() if len(frame) else 0.0
    defaulted = frame["default_principal_cny"].sum()
    return {
        "days": int(model.day),
        "applications": int(frame["applications"].sum()),
        "loans_funded": int(frame["funded_listings"].sum()),
        "failed_listing_share": float(frame["failed_listings"].sum() / listings) if listings else 0.0,
        "volume_cny": float(volume),
        "outstanding_principal_cny": float(model.outstanding_fen() / 100),
        "outstanding_loans": int(model.totals["loans_outstanding"]),
        "defaults": int(frame["defaults"].sum()),
        "defaulted_principal_cny": float(defaulted),
        "annual_default_rate": float(defaulted / average_book / years) if average_book else 0.0,
        "recoveries_cny": float(frame["recoveries_cny"].sum()),
        "investor_loss_cny": float(frame["investor_loss_cny"].sum()),
        "guarantee_payout_cny": float(frame["guarantee_payout_cny"].sum()),
        "guarantee_unpaid_cny": float(frame["guarantee_unpaid_cny"].sum()),
        "reserve_fund_cny": float(model.account_total("reserve_fund") / 100),
        "guarantor_capital_cny": float(model.account_total("guarantor_capital") / 100),
        "marketing_spend_cny": float(sum(p.marketing_spend_total_fen for p in model.platforms) / 100),
        "active_investors": int(model.investors.active.sum()),
        "platform_revenue_cny": float(frame["platform_revenue_cny"].sum()),
        "platform_cash_cny": float(model.account_total("platform_cash") / 100),
        "platform_profit_cny": platform_profit_fen(model) / 100,
        "investor_return_annual": float(model.investor_return_annual()),
        "loan_months": int(model.totals["loan_months"]),
        "platforms": platform_summary(model),
    }


OWNER_MEMOS = ("capital_injection", "reserve_initial")  # the owners' money, not income or cost


def platform_profit_fen(model) -> int:
    """The platforms' profit over the run (fen).

    Every flow into or out of their cash except the owners' capital and what they moved into their
    own reserve fund; costs they could not pay are subtracted too.
    """
    journal = model.ledger.journal()
    flows = journal[~journal.memo.isin(OWNER_MEMOS)]
    cash = [p.account("platform_cash") for p in model.platforms]
    income = flows[flows.target.isin(cash)].amount_fen.sum()
    spent = flows[flows.source.isin(cash)].amount_fen.sum()
    return int(income - spent - sum(p.unpaid_costs_fen for p in model.platforms))


REVENUE_MEMOS = ("service_fee", "management_fee", "collection_fee", "withdrawal_fee",
                 "transfer_fee")
# flows of the month per platform: (column, memo, side of the posting that names the platform)
MONTHLY_FLOWS = [
    ("volume_cny", ("disbursement", "pool_disbursement"), "target"),
    ("principal_repaid_cny", "repayment_principal", "source"),
    ("interest_to_investors_cny", "repayment_interest", "target"),
    ("defaulted_principal_cny", "default_write_off", "source"),
    ("recoveries_cny", "recovery", "target"),
    ("service_fee_cny", "service_fee", "target"),
    ("management_fee_cny", "management_fee", "target"),
    ("collection_fee_cny", "collection_fee", "target"),
    ("operating_cost_cny", "operating_cost", "source"),
    ("withdrawal_fee_cny", "withdrawal_fee", "target"),
    ("deposits_cny", "deposit", "target"),
    ("withdrawals_cny", "withdrawal", "source"),
    ("guarantee_payout_cny", "guarantee_payout", "target"),
    ("reserve_contribution_cny", "reserve_contribution", "target"),
    ("guarantee_fee_cny", "guarantee_fee", "target"),
    ("insurance_premium_cny", "insurance_premium", "source"),
    ("collection_cost_cny", "collection_cost", "source"),
    ("marketing_cny", "marketing:", "source"),
    ("product_subscription_cny", "product_subscription", "target"),
    ("product_redemption_cny", "product_redemption", "source"),
]


def platform_monthly(model) -> pd.DataFrame:
    """Per platform and month: the month-end balances and the month's flows from the journal."""
    table = model.datacollector.get_table_dataframe("platforms")
    journal = model.ledger.journal()
    journal["month"] = journal["day"] // 30
    for column, memo, side in MONTHLY_FLOWS:
        if isinstance(memo, tuple):
            match = journal["memo"].isin(memo)
        elif memo.endswith(":"):
            match = journal["memo"].str.startswith(memo)
        else:
            match = journal["memo"] == memo
        rows = journal[match]
        platform = rows[side].str.split(":", n=1).str[1]
        sums = (rows.assign(platform=platform).groupby(["month", "platform"])["amount_fen"].sum()
                / 100.0).rename(column)
        table = table.merge(sums, left_on=["month", "platform"], right_index=True, how="left")
        table[column] = table[column].fillna(0.0)
    return table


def platform_summary(model) -> dict[str, dict]:
    """Per platform: loans funded in the run, book, defaults, revenue and cash (CNY)."""
    loans = model.book.loans
    journal = model.ledger.journal()
    revenue = journal[journal.memo.isin(REVENUE_MEMOS)].groupby("target").amount_fen.sum()
    result = {}
    for p, platform in enumerate(model.platforms):
        mine = loans.platform == p
        defaulted = mine & (loans.default_day >= 0)
        balance = model.ledger.balance
        result[platform.name] = {
            "policies": {family: getattr(platform.config, family)["policy"]
                         for family in ("pricing", "risk", "guarantee", "marketing")},
            "funding": platform.config.funding,
            "loans_funded": int((mine & (loans.orig_day >= 0)).sum()),
            "outstanding_principal_cny": (balance(platform.account("investor_claims"))
                                          + balance(platform.account("held_claims"))) / 100,
            "defaulted_principal_cny": float(loans.principal[defaulted].sum() / 100),
            "defaults": int(defaulted.sum()),
            "revenue_cny": float(revenue.get(platform.account("platform_cash"), 0) / 100),
            "platform_cash_cny": model.ledger.balance(platform.account("platform_cash")) / 100,
            "unpaid_costs_cny": platform.unpaid_costs_fen / 100,
            "guarantee_paid_cny": platform.guarantee.paid_fen / 100,
            "guarantee_unpaid_cny": platform.guarantee.unpaid_fen / 100,
            "guarantee_failed_day": platform.guarantee.failed_day,
            "marketing_spend_cny": platform.marketing_spend_total_fen / 100,
            "pool_overdue_cny": platform.pool_overdue_fen / 100,
        }
    return result


def format_summary(summary: dict) -> str:
    """The summary as an aligned two-column table."""
    labels = {
        "days": "days simulated", "applications": "loan applications",
        "loans_funded": "loans funded", "failed_listing_share": "failed listings (流标) share",
        "volume_cny": "volume lent, CNY", "outstanding_principal_cny": "outstanding principal, CNY",
        "outstanding_loans": "outstanding loans", "defaults": "defaults (written off)",
        "defaulted_principal_cny": "defaulted principal, CNY",
        "annual_default_rate": "annual default rate (of avg book)",
        "recoveries_cny": "recoveries, CNY",
        "investor_loss_cny": "investors' principal lost, CNY",
        "guarantee_payout_cny": "guarantee payouts (代偿), CNY",
        "guarantee_unpaid_cny": "guarantee claims unpaid, CNY",
        "reserve_fund_cny": "reserve fund at the end, CNY",
        "guarantor_capital_cny": "guarantor capital at the end, CNY",
        "marketing_spend_cny": "marketing spend, CNY",
        "active_investors": "active investors at the end",
        "platform_revenue_cny": "platform revenue, CNY", "platform_cash_cny": "platform cash, CNY",
        "platform_profit_cny": "platform profit over the run, CNY",
        "investor_return_annual": "investors' realised return, a year",
        "loan_months": "loan-months serviced",
    }
    only_if_any = {"guarantee_payout_cny", "guarantee_unpaid_cny", "reserve_fund_cny",
                   "guarantor_capital_cny", "marketing_spend_cny"}
    lines = []
    for key, label in labels.items():
        value = summary[key]
        if key in only_if_any and not value:
            continue
        if key.endswith("_share") or key.endswith("_rate") or key.endswith("_annual"):
            text = f"{value:.2%}"
        elif isinstance(value, float):
            text = f"{value:,.2f}"
        else:
            text = f"{value:,}"
        lines.append(f"  {label:<38} {text:>20}")
    platforms = summary.get("platforms", {})
    for name, row in platforms.items():
        policies = ", ".join(f"{k} {v}" for k, v in row["policies"].items())
        lines.append(f"  {name}: {policies}; funding {row['funding']}"
                     + (f"; guarantee failed on day {row['guarantee_failed_day']}"
                        if row["guarantee_failed_day"] is not None else "")
                     + (f"; redemptions overdue {row['pool_overdue_cny']:,.2f} CNY"
                        if row["pool_overdue_cny"] else ""))
    if len(platforms) > 1:
        lines.append(f"  {'platform':<14}{'loans':>10}{'defaults':>10}{'revenue, CNY':>18}"
                     f"{'cash, CNY':>18}")
        for name, row in platforms.items():
            lines.append(f"  {name:<14}{row['loans_funded']:>10,}{row['defaults']:>10,}"
                         f"{row['revenue_cny']:>18,.2f}{row['platform_cash_cny']:>18,.2f}")
    return "\n".join(lines)


def metadata(model, scenario_source: str | None, elapsed_s: dict[str, float]) -> dict:
    """Run metadata: enough to reproduce the run."""
    return {
        "scenario_file": scenario_source,
        "scenario": model.config.model_dump(mode="json"),
        "seed": model.seed,
        "package": "p2psim",
        "version": sim.__version__,
        "git_revision": git_revision(),
        "python": host.python_version(),
        "machine": host.platform(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": elapsed_s,
    }


def plot_overview(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Four panels: lending, arrears and defaults, platform cash and revenue, investors' return."""
    month = frame["day"] / 30.0
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    ax = axes[0, 0]
    ax.plot(month, frame["outstanding_principal_cny"] / 1e6, label="outstanding principal")
    ax.set_ylabel("M CNY")
    ax2 = ax.twinx()
    ax2.plot(month, frame["volume_cny"].rolling(30, min_periods=1).sum() / 1e6, color="tab:orange",
             label="volume lent, last 30 days")
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
    ax.plot(month, frame["platform_revenue_cny"].cumsum() / 1e6, label="revenue, cumulative")
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
        ax.legend(loc="upper left")
    axes[1].axhline(0, color="grey", lw=0.5)
    fig.suptitle(title)
    save_figure(fig, path)


def plot_policies(monthly: pd.DataFrame, marketing: pd.DataFrame, path: Path, title: str) -> None:
    """What the policies did, month by month, in four panels.

    Guarantee funds and payouts, investors won and lost, cost per acquired user by channel, and a
    fund pool's liabilities against its assets.
    """
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), constrained_layout=True)
    for name, rows in monthly.groupby("platform", sort=False):
        fund = rows["reserve_fund_cny"] + rows["guarantor_capital_cny"]
        line, = axes[0, 0].plot(rows["month"], fund / 1e6, label=f"{name}: reserve / capital")
        axes[0, 0].plot(rows["month"], rows["guarantee_payout_cny"].cumsum() / 1e6, ls="--",
                        color=line.get_color(), label=f"{name}: payouts, cumulative")
        if rows["guarantee_unpaid_cny"].any():
            axes[0, 0].plot(rows["month"], rows["guarantee_unpaid_cny"] / 1e6, ls=":",
                            color=line.get_color(), label=f"{name}: claims left unpaid, cumulative")
        line, = axes[0, 1].plot(rows["month"], rows["active_investors"], label=f"{name}: active")
        axes[0, 1].bar(rows["month"], rows["new_investors"], alpha=0.4, color=line.get_color(),
                       label=f"{name}: new in the month")
        if rows["pool_liabilities_cny"].any():
            assets = rows["pool_cash_cny"] + rows["held_claims_cny"]
            line, = axes[1, 1].plot(rows["month"], rows["pool_liabilities_cny"] / 1e6,
                                    label=f"{name}: owed to investors")
            axes[1, 1].plot(rows["month"], assets / 1e6, ls="--", color=line.get_color(),
                            label=f"{name}: pool cash + loans")
            axes[1, 1].plot(rows["month"], rows["pool_overdue_cny"] / 1e6, ls=":",
                            color=line.get_color(), label=f"{name}: redemptions overdue")
    for (name, channel), rows in marketing.groupby(["platform", "channel"], sort=False):
        axes[1, 0].plot(rows["month"], rows["cost_per_user_cny"], marker=".",
                        label=f"{name}: {channel}")
    panels = [(axes[0, 0], "guarantee: fund and payouts", "M CNY"),
              (axes[0, 1], "investors", "investors"),
              (axes[1, 0], "marketing: cost per acquired user", "CNY"),
              (axes[1, 1], "fund pool", "M CNY")]
    for ax, label, unit in panels:
        ax.set_title(label)
        ax.set_xlabel("month")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(loc="upper left", fontsize=8)
        else:
            ax.text(0.5, 0.5, "not in this scenario", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    fig.suptitle(title)
    save_figure(fig, path)


def write_run(model, out_dir: Path, scenario_source: str | None,
              elapsed_s: dict[str, float]) -> Path:
    """Write a finished run to ``out_dir`` atomically; return the folder."""
    with atomic_folder(out_dir, "run") as staging:
        frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        frame.to_parquet(staging / "timeseries.parquet", index=False)
        model.ledger.journal().to_parquet(staging / "journal.parquet", index=False)
        model.book.loans.frame().to_parquet(staging / "loans.parquet", index=False)
        monthly = platform_monthly(model)
        monthly.to_parquet(staging / "platforms.parquet", index=False)
        plot_platforms(monthly, staging / "platforms.png",
                       f"{model.config.run.name} (seed {model.seed}): platforms")
        marketing = model.datacollector.get_table_dataframe("marketing")
        marketing.to_parquet(staging / "marketing.parquet", index=False)
        plot_policies(monthly, marketing, staging / "policies.png",
                      f"{model.config.run.name} (seed {model.seed}): policies")
        (staging / "summary.json").write_text(json.dumps(summarise(model), indent=2))
        meta = metadata(model, scenario_source, elapsed_s)
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        plot_overview(frame, staging / "overview.png",
                      f"{model.config.run.name} (seed {model.seed})")
    return Path(out_dir)


def save_figure(fig, path: Path) -> Path:
    """Save a figure as PNG (110 dpi) and close it."""
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
