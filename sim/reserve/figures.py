"""The reserve study's figures: losses, the reserve's balance, exhaustion by month, the frontier."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.outputs import save_figure  # noqa: E402
from sim.reserve.analysis import weighted_quantile  # noqa: E402

MILLION = 1e6


def plot_losses(columns: dict[str, np.ndarray], weights: np.ndarray, confidences: list[float],
                path: Path, title: str) -> None:
    """Weighted histograms (density under the true law) with the mean and quantiles marked."""
    fig, axes = plt.subplots(1, len(columns), figsize=(5.2 * len(columns), 4.0))
    for ax, (name, values) in zip(np.atleast_1d(axes), columns.items()):
        values = values / MILLION
        finite = np.isfinite(values)  # a path no size is enough for has an infinite need
        ax.hist(values[finite], bins=40, weights=weights[finite] / weights.sum(),
                color="#8fb3d9", edgecolor="white")
        if not finite.all():
            share = float(weights[~finite].sum() / weights.sum())
            ax.text(0.98, 0.6, f"no size is enough: {share:.1%}", transform=ax.transAxes,
                    ha="right", fontsize=8)
        mean = float(np.sum(weights * values) / weights.sum())
        if np.isfinite(mean):
            ax.axvline(mean, color="black", lw=1.2, label=f"mean {mean:,.1f}")
        for level, colour in zip(confidences, ["#d95f02", "#7570b3", "#e7298a", "#66a61e"]):
            q = weighted_quantile(values, weights, level)
            if np.isfinite(q):
                ax.axvline(q, color=colour, lw=1.4, ls="--",
                           label=f"{level:.4g} quantile {q:,.1f}")
        ax.set_xlabel(f"{name}, million CNY")
        ax.set_ylabel("probability (weighted)")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_balance_fan(balance: np.ndarray, weights: np.ndarray, confidences: list[float],
                     path: Path, title: str) -> None:
    """Fan chart of the reserve's balance by month (weighted quantile bands), zero marked."""
    months = np.arange(1, balance.shape[1] + 1)
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    bands = {q: np.array([weighted_quantile(balance[:, m], weights, q) for m in range(len(months))])
             for q in levels + [1.0 - c for c in confidences]}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(months, bands[0.05] / MILLION, bands[0.95] / MILLION, color="#c6dbef",
                    label="5-95 %")
    ax.fill_between(months, bands[0.25] / MILLION, bands[0.75] / MILLION, color="#6baed6",
                    label="25-75 %")
    ax.plot(months, bands[0.5] / MILLION, color="#08306b", lw=1.5, label="median")
    for level in confidences:
        ax.plot(months, bands[1.0 - level] / MILLION, ls="--", lw=1.2,
                label=f"{(1 - level) * 100:.3g} % quantile")
    ax.axhline(0.0, color="#cb181d", lw=1.0, label="empty")
    ax.set_xlabel("month")
    ax.set_ylabel("reserve balance, million CNY (below 0: short)")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_exhaustion(rows: list[dict], month_rows: list[dict], confidences: list[float],
                    path: Path, title: str) -> None:
    """Probability of having run dry by each month (95 % band), and the month it happens."""
    months = np.array([r["month"] for r in rows])
    p = np.array([r["estimate"] for r in rows])
    low = np.array([r["low"] for r in rows])
    high = np.array([r["high"] for r in rows])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.fill_between(months, low, high, color="#fcbba1", label="95 % interval")
    left.plot(months, p, color="#cb181d", lw=1.6, label="probability")
    for level in confidences:
        left.axhline(1.0 - level, color="grey", ls=":", lw=1.0)
        left.text(months[0], 1.0 - level, f" {(1 - level):.3g}", va="bottom", fontsize=8)
    left.set_yscale("symlog", linthresh=1e-4)
    left.set_ylim(0.0, 1.05)
    left.set_xlabel("month")
    left.set_ylabel("P(reserve has run dry)")
    left.legend(fontsize=8)
    dated = [r for r in month_rows if r["month"] != "never"]
    right.bar([r["month"] for r in dated], [r["probability"] for r in dated], color="#fb6a4a")
    right.set_xlabel("month the reserve runs dry")
    right.set_ylabel("probability")
    never = next(r["probability"] for r in month_rows if r["month"] == "never")
    right.set_title(f"never within the horizon: {never:.4f}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_frontier(rows: list[dict], confidences: list[float], current_rate: float, path: Path,
                  title: str) -> None:
    """Contribution rate against the probability that the reserve runs dry (95 % band)."""
    rate = np.array([r["contribution_rate"] for r in rows]) * 100
    p = np.array([r["estimate"] for r in rows])
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.fill_between(rate, [r["low"] for r in rows], [r["high"] for r in rows], color="#c7e9c0",
                    label="95 % interval")
    ax.plot(rate, p, color="#238b45", lw=1.6, label="P(runs dry within the horizon)")
    for level in confidences:
        ax.axhline(1.0 - level, color="grey", ls=":", lw=1.0)
        ax.text(rate[-1], 1.0 - level, f"{1 - level:.3g} ", ha="right", va="bottom", fontsize=8)
    ax.axvline(current_rate * 100, color="black", ls="--", lw=1.0, label="scenario's rate")
    ax.set_yscale("symlog", linthresh=1e-4)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("contribution rate, % of each loan's principal")
    ax.set_ylabel("probability")
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)
