"""The board's comparison: one book, several protection schemes, what each needs and costs.

``p2psim board FILE`` reads a comparison file (TOML: the scenario, the study's settings and a list of
``[[schemes]]``, each the scenario's protection replaced by ``set`` and the layer to size), runs a
reserve study for each scheme (:mod:`sim.reserve.study`, every one in its own folder, with the same
seed and so the same applicants and economy) and writes ``board.csv`` and ``board.png``: for each
scheme the book it sized (its own: borrowers who see a dearer scheme borrow less), the size its
layer needs at each confidence level with its standard error and as a share of that book, the
method that found it, what the scheme costs the platform a year and the probability that the
scheme as configured runs short within the horizon. With ``equal_lending = true`` the schemes whose
book differs are sized again at the first scheme's lending (:mod:`sim.reserve.equal_lending`).

The cost a year: the capital the sized layer ties up times ``cost_of_capital`` (annual), plus
what the platform itself pays into the scheme a year on average over the paths (its fee share,
top-ups net of releases, insurance premiums). Borrowers' contributions and guarantee fees are the
borrowers' cost, not the platform's.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tqdm import tqdm

from sim.experiments.store import discard_store, kept_runs_folder
from sim.folders import atomic_folder, check_output_folder
from sim.money import estimate_text
from sim.reserve.caveats import probability_text
from sim.reserve.equal_lending import BOOK, equal_lending_rows
from sim.reserve.request import MAX_PATHS, ReserveError, ReserveRequest, check
from sim.reserve.sampling import METHODS
from sim.reserve.study import run_reserve_study
from sim.reserve.text import book_lines, closed_form_lines, size_label
from sim.scenario.files import file_fault, read_toml_file, shortened
from sim.scenario.messages import describe_errors

NAME_LENGTH = 80
"""The longest scheme name (characters): its folder name must fit the file system's 255 bytes."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class SchemeConfig(_Table):
    """One ``[[schemes]]`` table: its name, the layer sized and the scenario keys it sets."""

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    layer: Literal["reserve_fund", "guarantor"] = "reserve_fund"
    set: dict[str, Any] = Field(default_factory=dict)
    solver: Literal["auto", "one-run", "root-finding"] = "auto"

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("give the scheme a name")
        if any(not character.isprintable() for character in name):
            raise ValueError("a control character (a tab, a new line, NUL) in the name; use "
                             "letters, digits, spaces and punctuation")
        if not re.sub(r"[^\w]+", "", name):
            raise ValueError("no letter or digit in the name: it names the scheme's folder")
        return name


class BoardFile(_Table):
    """A comparison file as written: checked for types, ranges and unknown keys."""

    scenario: str = Field(min_length=1)
    paths: int = Field(200, ge=2, le=MAX_PATHS)
    horizon_months: int | None = Field(None, ge=1, le=1200)
    confidence: list[float] = Field(default_factory=lambda: [0.99, 0.999], min_length=1,
                                    max_length=20)
    cost_of_capital: float = Field(0.08, ge=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    method: Literal[METHODS] = "importance"  # type: ignore[valid-type]
    equal_lending: bool = Field(False, description="also size each scheme at the first's lending")
    schemes: list[SchemeConfig] = Field(min_length=1)

    @field_validator("confidence")
    @classmethod
    def _levels(cls, levels: list[float]) -> list[float]:
        for level in levels:
            if not 0.0 < level < 1.0:
                raise ValueError(f"{level}: each level strictly between 0 and 1 (0.99 for 99 %)")
        return levels


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
    equal_lending: bool = False


def load_board(path: str | Path) -> Board:
    """Read and check a comparison file; :class:`ReserveError` names the file, the line and the key."""
    path = Path(path)
    text, raw = read_toml_file(path, "board", ReserveError)
    if "experiment" in raw and "schemes" not in raw:
        raise ReserveError(f"{path}: experiment: this is an experiment file; run it with "
                           f"`p2psim experiment {path}` (a board file holds scenario = ... and "
                           f"[[schemes]] tables)")
    if "schemes" not in raw:
        raise ReserveError(f"{path}: schemes: give at least one [[schemes]] table (name, layer, set)")
    try:
        checked = BoardFile.model_validate(raw)
    except ValidationError as error:
        raise ReserveError(describe_errors(error, str(path), text, {}, BoardFile)) from None
    _distinct_folders(path, [scheme.name for scheme in checked.schemes])
    scenario = path.parent / checked.scenario
    fault = file_fault(scenario)
    if fault:
        raise ReserveError(f"{path}: scenario: {fault}: {shortened(scenario)}; give the scenario "
                           f"file's path, relative to the board's file")
    scenario = scenario.resolve()
    schemes = [Scheme(s.name, s.layer, dict(s.set), s.solver) for s in checked.schemes]
    return Board(scenario=str(scenario), schemes=schemes, paths=checked.paths,
                 horizon_months=checked.horizon_months, confidence=tuple(checked.confidence),
                 cost_of_capital=checked.cost_of_capital, seed=checked.seed,
                 method=checked.method, equal_lending=checked.equal_lending)


def _distinct_folders(path: Path, names: list[str]) -> None:
    """Every scheme gets its own folder: names must differ after :func:`_slug` (case, punctuation)."""
    folders: dict[str, str] = {}
    for i, name in enumerate(names):
        if name in folders.values():
            raise ReserveError(f"{path}: schemes[{i}].name: {name!r} is used twice")
        folder = _slug(name)
        if folder in folders:
            raise ReserveError(f"{path}: schemes[{i}].name: {name!r} and {folders[folder]!r} "
                               f"differ only in case or punctuation, and both would be written "
                               f"to schemes/{folder}/; give the schemes names that differ in "
                               f"letters or digits")
        folders[folder] = name


def run_board(path: str | Path, out: str | Path | None = None, workers: int = 2,
              executor: str = "process", paths: int | None = None,
              quiet: bool = False) -> dict[str, Any]:
    """Run every scheme's study and write the comparison; return its rows."""
    board = load_board(path)
    out = Path(out) if out else Path("results") / f"board-{Path(path).stem}"
    kept = kept_runs_folder(check_output_folder(out, "board"))
    requests = board_requests(board, path, paths=paths, workers=workers, executor=executor,
                              quiet=quiet)
    total = sum(request.paths for request in requests)  # root-finding's rounds add to it
    with atomic_folder(out, "board") as staging, tqdm(total=total, unit="path", disable=quiet,
                                                      file=sys.stderr, desc="board") as bar:
        rows, warnings, first = [], {}, None

        def run_scheme(scheme, request, suffix=""):
            folder = _slug(scheme.name) + (f"_{suffix}" if suffix else "")
            request.out = str(staging / "schemes" / folder)
            results = run_reserve_study(request, kept_at=kept / folder, progress=bar)
            warnings[scheme.name + (f" ({suffix})" if suffix else "")] = results["warnings"]
            return results

        for number, (scheme, request) in enumerate(zip(board.schemes, requests, strict=True), 1):
            bar.set_description(f"board: scheme {number} of {len(requests)} ({scheme.name})")
            results = run_scheme(scheme, request)  # its paths kept until the board is written
            rows.append(board_row(scheme, results, board.cost_of_capital))
            first = first or results  # the first scheme's book: the equal-lending reference
        if board.equal_lending:
            def again(scheme, overrides, suffix):
                request = replace(requests[board.schemes.index(scheme)], overrides=overrides)
                bar.total += request.paths
                return board_row(scheme, run_scheme(scheme, request, suffix),
                                 board.cost_of_capital)
            rows += equal_lending_rows(rows, again, board.scenario, board.schemes)
        table = pd.DataFrame(rows)
        table.to_csv(staging / "board.csv", index=False)
        plot_board(table, board, staging / "board.png")
    for folder in sorted(kept.iterdir()) if kept.is_dir() else []:  # a renamed scheme's too
        discard_store(folder, "paths")
    with contextlib.suppress(OSError):  # not empty: something not p2psim's is left alone
        kept.rmdir()
    return {"folder": str(out), "rows": rows, "board": board, "warnings": warnings,
            "first": first}


def board_requests(board: Board, path: str | Path, paths: int | None = None, workers: int = 2,
                   executor: str = "process", quiet: bool = False) -> list[ReserveRequest]:
    """One study request a scheme, every one checked before any path runs.

    Raises
    ------
    ReserveError
        Naming the file, the scheme and the key at fault.
    """
    requests = [ReserveRequest(
        scenario=board.scenario, paths=board.paths if paths is None else paths,
        horizon_months=board.horizon_months,
        confidence=board.confidence, method=board.method, seed=board.seed, workers=workers,
        executor=executor, overrides=scheme.overrides, quiet=quiet, layer=scheme.layer,
        solver=scheme.solver, label=scheme.name) for scheme in board.schemes]
    for scheme, request in zip(board.schemes, requests, strict=True):
        try:
            check(request)
        except (ReserveError, ValueError) as error:
            raise ReserveError(f"{path}: scheme {scheme.name!r}: {error}") from None
    return requests


def board_row(scheme: Scheme, results: dict[str, Any], cost_of_capital: float) -> dict[str, Any]:
    """One scheme's line: size at each confidence with its error, cost a year, P(short)."""
    row: dict[str, Any] = {"scheme": scheme.name, "layer sized": size_label(results),
                           "method": results["solver"]["method"], "basis": "its own book"}
    row["book sized (CNY)"] = results["book"]["exposure_cny"]
    for need in results["requirements"]:
        level = f"{need['confidence']:.4g}"
        row[f"size {level} (CNY)"] = need["initial_reserve_cny"]
        row[f"size {level} se"] = need["initial_reserve_se"]
        row[f"size {level} share of the book"] = need["initial_reserve_cny_share"]
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
    row["effective paths"] = results["effective_sample_size"]
    row["paths"] = results["paths"]
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


READABLE_COLUMNS = ("scheme", "layer sized", "P(short within horizon) as configured",
                    "P(short) se", "effective paths", "paths")  # what readable_board reads


def readable_board(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The comparison as people read it: sizes rounded to their errors, shares of the book.

    P(short) as configured, or, where every path agrees, its one-sided 95 % bound.
    """
    shown = []
    for row in rows:
        line = {"scheme": row["scheme"], "layer sized": row["layer sized"],
                "book (lent over the horizon and opening)": estimate_text(row[BOOK]),
                "basis": row.get("basis", "its own book")}
        for column in row:
            if column.startswith("size ") and column.endswith("(CNY)"):
                level = column.split()[1]
                label = f"{float(level) * 100:.10g} %"
                line[f"size for {label}"] = estimate_text(row[column], row[f"size {level} se"])
                share = row.get(f"size {level} share of the book", math.nan)
                line[f"of the book ({label})"] = f"{share:.1%}" if math.isfinite(share) else "-"
        cost = next((c for c in row if c.startswith("cost a year")), None)
        if cost:
            level = cost.removeprefix("cost a year at ").removesuffix(" (CNY)")
            line[f"cost a year at {float(level) * 100:.10g} %"] = estimate_text(row[cost])
        line["P(short) as configured"] = probability_text(
            {"estimate": row["P(short within horizon) as configured"], "se": row["P(short) se"]},
            row["effective paths"], row["paths"])
        shown.append(line)
    return pd.DataFrame(shown)


def format_board(rows: list[dict[str, Any]], warnings: dict[str, list[str]] | None = None,
                 first: dict[str, Any] | None = None) -> str:
    """The comparison for the terminal (:func:`readable_board`), then each scheme's warnings.

    ``first``: the first scheme's results, for its book and the closed form beside its loss. Each
    scheme's own book is in the table: the schemes share the applicants and the economy, not the
    book (borrowers who see a dearer scheme borrow less).
    """
    text = readable_board(rows).to_string(index=False)
    if first is not None:
        text = "\n".join([f"the first scheme ({rows[0]['scheme']}): its own book; each scheme's "
                          f"is in the table, sizes are shares of a scheme's own book"]
                         + book_lines(first["book"]) + closed_form_lines(first) + ["", text])
    notes = [f"  - {scheme}: {item}" for scheme, items in (warnings or {}).items()
             for item in items]
    return text + ("\n\nWarnings:\n" + "\n".join(notes) if notes else "")


def _slug(name: str) -> str:
    return re.sub(r"[^\w\-]+", "_", name.strip()).strip("_").lower() or "scheme"
