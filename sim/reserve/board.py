"""The board's comparison: one book, several protection schemes, what each needs and costs.

``p2psim board FILE`` reads a comparison file (TOML: the scenario, the study's settings and a list of
``[[schemes]]``, each the scenario's protection replaced by ``set`` and the layer to size), runs a
reserve study for each scheme (:mod:`sim.reserve.study`, every one in its own folder, with the same
seed and so the same borrowers and economy) and writes ``board.csv`` and ``board.png``: for each
scheme the size its layer needs at each confidence level with its standard error, the method that
found it, what the scheme costs the platform a year and the probability that the scheme as
configured runs short within the horizon.

The cost a year: the capital the sized layer ties up times ``cost_of_capital`` (annual), plus
what the platform itself pays into the scheme a year on average over the paths (its fee share,
top-ups net of releases, insurance premiums). Borrowers' contributions and guarantee fees are the
borrowers' cost, not the platform's.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.folders import atomic_folder, check_output_folder
from sim.reserve.request import LAYERS, ReserveError, ReserveRequest, check
from sim.reserve.study import run_reserve_study, size_label

KEYS = {"scenario", "paths", "horizon_months", "confidence", "cost_of_capital", "seed", "schemes",
        "method"}
SCHEME_KEYS = {"name", "layer", "set", "solver"}


@dataclass
class Scheme:
    """One protection scheme of the comparison."""

    name: str
    layer: str = "reserve_fund"
    overrides: dict[str, Any] = field(default_factory=dict)
    solver: str = "auto"


@dataclass
class Board:
    """A comparison file, checked."""

    scenario: str
    schemes: list[Scheme]
    paths: int = 200
    horizon_months: int | None = None
    confidence: tuple[float, ...] = (0.99, 0.999)
    cost_of_capital: float = 0.08
    seed: int | None = None
    method: str = "importance"


def load_board(path: str | Path) -> Board:
    """Read and check a comparison file; :class:`ReserveError` names the file and the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReserveError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ReserveError(f"{path}: not valid TOML: {error}") from None
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ReserveError(f"{path}: {unknown[0]}: unknown key; allowed: {', '.join(sorted(KEYS))}")
    if "scenario" not in raw:
        raise ReserveError(f"{path}: scenario: missing (the scenario file whose book is compared)")
    schemes = raw.get("schemes")
    if not isinstance(schemes, list) or not schemes:
        raise ReserveError(f"{path}: schemes: give at least one [[schemes]] table (name, layer, set)")
    checked = [_scheme(path, i, scheme) for i, scheme in enumerate(schemes)]
    names = [s.name for s in checked]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ReserveError(f"{path}: schemes[{i}].name: {name!r} is used twice")
    cost = raw.get("cost_of_capital", 0.08)
    if not (isinstance(cost, float | int) and 0.0 <= cost <= 1.0):
        raise ReserveError(f"{path}: cost_of_capital: {cost!r}: an annual rate from 0 to 1")
    scenario = (path.parent / raw["scenario"]).resolve()
    return Board(scenario=str(scenario), schemes=checked, paths=raw.get("paths", 200),
                 horizon_months=raw.get("horizon_months"),
                 confidence=tuple(raw.get("confidence", (0.99, 0.999))),
                 cost_of_capital=float(cost), seed=raw.get("seed"),
                 method=raw.get("method", "importance"))


def _scheme(path: Path, i: int, scheme: Any) -> Scheme:
    if not isinstance(scheme, dict):
        raise ReserveError(f"{path}: schemes[{i}]: must be a table (name, layer, set)")
    unknown = sorted(set(scheme) - SCHEME_KEYS)
    if unknown:
        raise ReserveError(f"{path}: schemes[{i}].{unknown[0]}: unknown key; allowed: "
                           f"{', '.join(sorted(SCHEME_KEYS))}")
    if not isinstance(scheme.get("name"), str) or not scheme["name"].strip():
        raise ReserveError(f"{path}: schemes[{i}].name: give the scheme a name")
    layer = scheme.get("layer", "reserve_fund")
    if layer not in LAYERS:
        raise ReserveError(f"{path}: schemes[{i}].layer: {layer!r}; allowed: {', '.join(LAYERS)}")
    overrides = scheme.get("set", {})
    if not isinstance(overrides, dict):
        raise ReserveError(f"{path}: schemes[{i}].set: must be a table of scenario keys")
    return Scheme(scheme["name"], layer, dict(overrides), scheme.get("solver", "auto"))


def run_board(path: str | Path, out: str | Path | None = None, workers: int = 2,
              executor: str = "process", paths: int | None = None,
              quiet: bool = False) -> dict[str, Any]:
    """Run every scheme's study and write the comparison; return its rows."""
    board = load_board(path)
    out = Path(out) if out else Path("results") / f"board-{Path(path).stem}"
    check_output_folder(out, "board")
    requests = board_requests(board, path, paths=paths, workers=workers, executor=executor,
                              quiet=quiet)
    with atomic_folder(out, "board") as staging:
        rows = []
        for scheme, request in zip(board.schemes, requests, strict=True):
            request.out = str(staging / "schemes" / _slug(scheme.name))
            results = run_reserve_study(request)
            rows.append(board_row(scheme, results, board.cost_of_capital))
        table = pd.DataFrame(rows)
        table.to_csv(staging / "board.csv", index=False)
        plot_board(table, board, staging / "board.png")
    return {"folder": str(out), "rows": rows, "board": board}


def board_requests(board: Board, path: str | Path, paths: int | None = None, workers: int = 2,
                   executor: str = "process", quiet: bool = False) -> list[ReserveRequest]:
    """One study request a scheme, every one checked before any path runs.

    Raises
    ------
    ReserveError
        Naming the file, the scheme and the key at fault.
    """
    requests = [ReserveRequest(
        scenario=board.scenario, paths=paths or board.paths, horizon_months=board.horizon_months,
        confidence=board.confidence, method=board.method, seed=board.seed, workers=workers,
        executor=executor, overrides=scheme.overrides, quiet=quiet, layer=scheme.layer,
        solver=scheme.solver) for scheme in board.schemes]
    for scheme, request in zip(board.schemes, requests, strict=True):
        try:
            check(request)
        except (ReserveError, ValueError) as error:
            raise ReserveError(f"{path}: scheme {scheme.name!r}: {error}") from None
    return requests


def board_row(scheme: Scheme, results: dict[str, Any], cost_of_capital: float) -> dict[str, Any]:
    """One scheme's line: size at each confidence with its error, cost a year, P(short)."""
    row: dict[str, Any] = {"scheme": scheme.name, "layer sized": size_label(results),
                           "method": results["solver"]["method"]}
    for need in results["requirements"]:
        level = f"{need['confidence']:.4g}"
        row[f"size {level} (CNY)"] = need["initial_reserve_cny"]
        row[f"size {level} se"] = need["initial_reserve_se"]
        row[f"size {level} low"] = need["initial_reserve_low"]  # 95 % interval (bootstrap)
        row[f"size {level} high"] = need["initial_reserve_high"]
    first = results["requirements"][0]
    years = results["horizon_months"] / 12
    funding = results["platform_funding_cny"] / years
    row["cost a year at " + f"{first['confidence']:.4g} (CNY)"] = (
        cost_of_capital * first["initial_reserve_cny"] + funding)
    row["platform pays in a year (CNY)"] = funding
    short = results["exhaustion_probability"]
    row["P(short within horizon) as configured"] = short["estimate"]
    row["P(short) se"] = short["se"]
    row["configured size (CNY)"] = results["initial_reserve_cny"]
    return row


def plot_board(table: pd.DataFrame, board: Board, path: Path) -> None:
    """Three panels: size at each confidence (error bars), cost a year, P(short as configured)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    y = np.arange(len(table))
    levels = [f"{c:.4g}" for c in sorted(board.confidence)]
    height = 0.8 / len(levels)
    for k, level in enumerate(levels):
        sizes = table[f"size {level} (CNY)"].to_numpy() / 1e6
        low = table[f"size {level} low"].fillna(table[f"size {level} (CNY)"]).to_numpy() / 1e6
        high = table[f"size {level} high"].fillna(table[f"size {level} (CNY)"]).to_numpy() / 1e6
        errors = np.vstack([np.maximum(sizes - low, 0), np.maximum(high - sizes, 0)])
        axes[0].barh(y + k * height, sizes, height, xerr=errors, label=f"{float(level):.1%}",
                     capsize=3)
    axes[0].set_yticks(y + height * (len(levels) - 1) / 2, table["scheme"])
    axes[0].set_xlabel("size needed, M CNY (95 % interval)")
    axes[0].legend(title="confidence")
    cost = [c for c in table.columns if c.startswith("cost a year")][0]
    axes[1].barh(y, table[cost] / 1e6, color="tab:orange")
    axes[1].set_yticks(y, [])
    axes[1].set_xlabel(f"{cost.replace('(CNY)', '')}, M CNY")
    p, se = table["P(short within horizon) as configured"], table["P(short) se"].fillna(0)
    axes[2].barh(y, p, xerr=1.96 * se, color="tab:red", capsize=3)
    axes[2].set_yticks(y, [])
    axes[2].set_xlim(0, 1)
    axes[2].set_xlabel("P(runs short within the horizon), as configured")
    for ax in axes:
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{Path(board.scenario).stem}: protection schemes compared "
                 f"(cost of capital {board.cost_of_capital:.0%} a year)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_board(rows: list[dict[str, Any]]) -> str:
    """The comparison as a table for the terminal."""
    table = pd.DataFrame(rows)
    table = table[[c for c in table.columns if not c.endswith((" low", " high"))]]
    money = [c for c in table.columns if "(CNY)" in c or c.endswith(" se") and "size" in c]
    for column in money:
        table[column] = table[column].map(lambda v: "-" if not math.isfinite(v) else f"{v:,.0f}")
    for column in ("P(short within horizon) as configured", "P(short) se"):
        table[column] = table[column].map(lambda v: f"{v:.3f}")
    return table.to_string(index=False)


def _slug(name: str) -> str:
    return re.sub(r"[^\w\-]+", "_", name.strip()).strip("_").lower() or "scheme"
