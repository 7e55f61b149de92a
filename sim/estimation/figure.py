"""The estimation's figure: each moment, the data's value and the model's at the estimate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def fit_figure(moments: pd.DataFrame, path: Path, title: str) -> None:
    """One row a moment: data ± 2 se (black) and the model ± 2 se (blue, red where it misses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 0.55 * len(moments) + 1.6))
    for y, row in enumerate(moments.itertuples()):
        scale = max(abs(row.data), abs(row.simulated), 1e-9)
        ax.errorbar(row.data / scale, y + 0.12, xerr=2 * row.data_se / scale, fmt="o",
                    color="black", capsize=3, label="data ± 2 se" if y == 0 else None)
        colour = "tab:blue" if row.fits else "tab:red"
        ax.errorbar(row.simulated / scale, y - 0.12, xerr=2 * row.simulated_se / scale, fmt="s",
                    color=colour, capsize=3, label="model at the estimate ± 2 se" if y == 0
                    else None)
        ax.text(1.02, y, f"z {row.z:+.1f}" + ("" if row.fits else "  does not fit"),
                transform=ax.get_yaxis_transform(), va="center", fontsize=8, color=colour)
    ax.set_yticks(range(len(moments)),
                  [f"{m} ({r.replace('_', ' ')})" for m, r in zip(moments.moment, moments.role,
                                                                   strict=True)], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("value over the larger of |data| and |model| (each moment on its own scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
