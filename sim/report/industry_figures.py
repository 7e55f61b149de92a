"""An industry report's own figures: the contagion network and failures by province.

Drawn from the run's ``platforms.csv`` and ``links.csv`` (:mod:`sim.industry.results`) into PNG
bytes the page embeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.figures import png_bytes

CAUSE_COLOURS = {"background": "#8c6d31", "regulators": "#3b6ea5", "named": "#7b4173",
                 "run": "#b3261e", "": "#bdbdbd"}
LINKS_DRAWN = 400  # the strongest links: more would hide the nodes


def contagion_png(platforms: pd.DataFrame, folder) -> tuple[bytes, str]:
    """The contagion network as (png, caption).

    Platforms on a circle by when they failed, sized by money, coloured by cause; the links of
    shared investors between them (the channel a run spreads by).
    """
    table = platforms.fillna({"cause": ""}).copy()
    failed = table.problem_day >= 0
    order = np.lexsort((-table.investors_money_cny.to_numpy(),
                        np.where(failed, table.problem_day, np.iinfo(np.int64).max)))
    angle = np.empty(len(table))
    angle[order] = np.pi / 2 - 2 * np.pi * np.arange(len(table)) / max(1, len(table))
    x, y = np.cos(angle), np.sin(angle)
    position = dict(zip(table.platform, zip(x, y)))
    fig = Figure(figsize=(8, 7.2), dpi=100)
    axis = fig.subplots()
    links = folder.table("links.csv", ("platform_a", "platform_b", "shared_investors")) \
        if folder.has("links.csv") else pd.DataFrame()
    drawn = links.head(LINKS_DRAWN)
    both = set(table.platform[failed])
    if len(drawn):
        widest = float(drawn.shared_investors.max())
        for a, b, shared in drawn.itertuples(index=False):
            (xa, ya), (xb, yb) = position[a], position[b]
            hot = a in both and b in both
            axis.plot([xa, xb], [ya, yb], color="#b3261e" if hot else "0.6",
                      linewidth=0.3 + 2.0 * shared / widest, alpha=0.7 if hot else 0.25,
                      zorder=1)
    money = np.maximum(table.investors_money_cny, table.outstanding_cny).clip(lower=0) / 1e8
    sizes = 10 + 400 * np.sqrt(money / max(float(money.max()), 1e-12))
    for cause, colour in CAUSE_COLOURS.items():
        chosen = (table.cause == cause).to_numpy()
        if chosen.any():
            axis.scatter(x[chosen], y[chosen], s=sizes[chosen], color=colour, zorder=2,
                         edgecolor="white", linewidth=0.5,
                         label=f"failed: {cause} ({chosen.sum()})" if cause
                         else f"did not fail ({chosen.sum()})")
    axis.set_aspect("equal")
    axis.axis("off")
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="platforms")
    axis.set_title("Contagion: platforms (size: money or loans at the end) and the investors "
                   "they share", fontsize=10)
    fig.subplots_adjust(left=0.02, right=0.72, top=0.93, bottom=0.02)
    caption = (f"The contagion network: {len(table):,} platforms, failed ones first clockwise from "
               f"the top by failure day; lines join platforms with investors in common (the "
               f"{len(drawn):,} strongest links, width by investors shared), red between two "
               f"that failed")
    return png_bytes(fig), caption


def provinces_png(platforms: pd.DataFrame) -> bytes:
    """Problem platforms by province, with the share of each province's platforms that failed."""
    failed = platforms.problem_day >= 0
    counts = pd.DataFrame({"platforms": platforms.groupby("province").size(),
                           "failed": failed.groupby(platforms.province).sum()})
    counts = counts.sort_values("failed", ascending=True)
    fig = Figure(figsize=(8, 0.9 + 0.28 * len(counts)), dpi=100)
    axis = fig.subplots()
    axis.barh(counts.index, counts.failed, color="#b3261e", label="problem platforms")
    for y, (total, bad) in enumerate(zip(counts.platforms, counts.failed)):
        axis.annotate(f"{bad / total:.0%} of {total:,}", (bad, y), xytext=(3, 0),
                      textcoords="offset points", va="center", fontsize=7)
    axis.set_xlabel("problem platforms (问题平台) in the run")
    axis.set_ylabel("province")
    axis.set_title("Failures by province", fontsize=10)
    fig.subplots_adjust(left=0.2, right=0.9, top=1 - 0.4 / fig.get_figheight(),
                        bottom=0.5 / fig.get_figheight())
    return png_bytes(fig)
