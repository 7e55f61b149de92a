"""The workbook as the founder's input: ``p2psim plan plan.xlsx`` runs the plan its Inputs sheet says.

A founder edits the Inputs sheet of a plan's ``plan.xlsx`` (a value, or a source in words) and runs
``p2psim plan plan.xlsx``. The About sheet names the scenario the workbook came from; every input
whose value differs from that scenario's becomes an override (as ``--set`` would give it) and every
source written in words is carried into ``[plan.sources]``, so the next workbook shows it. Each
edited value is read as the scenario's type (a number, a list of numbers, true/false, text) and
checked as the scenario checks it; a cell at fault is named by file, sheet and cell with what is
allowed (:class:`~sim.plan.errors.PlanError`, exit code 2), and nothing is run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.plan.errors import PlanError
from sim.plan.sources import GENERATED_SOURCES, inputs_sheet, leaves

HEADER = ("Input", "Value", "Unit", "Source")


def read_workbook_inputs(path: str | Path) -> tuple[str, dict[str, Any], list[str]]:
    """The scenario a workbook came from, the overrides its Inputs sheet gives, and what changed.

    Returns ``(scenario path, overrides, changes)``; ``changes`` says each edit in words.
    """
    from sim.scenario import ScenarioError, load_scenario

    path = Path(path)
    book = _open(path)
    scenario_path = _scenario_of(book, path)
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as error:
        raise PlanError(f"{path}, sheet About: the scenario it names does not load:\n{error}") \
            from None
    current = inputs_sheet(scenario).set_index("Input")
    values = leaves(scenario.model_dump(mode="json"))
    overrides: dict[str, Any] = {}
    sources = dict(scenario.plan.sources)
    changes = []
    for row, key, value, source in _rows(book, path):
        where = f"{path}, sheet Inputs, cell {{column}}{row} ({key})"
        if key not in current.index:
            raise PlanError(f"{where.format(column='A')}: no such input in {scenario_path}; the "
                            f"Input column holds the scenario's keys as the workbook wrote them")
        if not _same(value, current.at[key, "Value"]):
            parsed = _as_type_of(values[key], value, where.format(column="B"))
            _check(scenario_path, key, parsed, where.format(column="B"))
            overrides[key] = parsed
            changes.append(f"{key}: {current.at[key, 'Value']} -> {value}")
        text = "" if source is None else str(source).strip()
        if text and text not in GENERATED_SOURCES and text != sources.get(key):
            sources[key] = text
            changes.append(f"{key}: source \"{text}\"")
    if sources != scenario.plan.sources:
        overrides["plan.sources"] = sources
    return scenario_path, overrides, changes


def _open(path: Path):
    from openpyxl import load_workbook

    if not path.is_file():
        raise PlanError(f"{path}: no such file")
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise PlanError(f"{path}: not a workbook p2psim can read ({type(error).__name__}: "
                        f"{error}); give a plan.xlsx written by p2psim plan") from None


def _scenario_of(book, path: Path) -> str:
    """The scenario the About sheet names (its "scenario" row)."""
    if "About" not in book.sheetnames or "Inputs" not in book.sheetnames:
        raise PlanError(f"{path}: has no About or Inputs sheet; give a plan.xlsx written by "
                        f"p2psim plan")
    for row, cells in enumerate(book["About"].iter_rows(values_only=True), start=1):
        if cells and cells[0] == "scenario":
            named = Path(str(cells[1] or ""))
            if not named.is_file():
                raise PlanError(f"{path}, sheet About, cell B{row}: the scenario {named} is not "
                                f"there; put the plan's scenario file at that path")
            return str(named)
    raise PlanError(f"{path}, sheet About: no \"scenario\" row naming the plan's scenario file")


def _rows(book, path: Path):
    """(row, key, value, source) of each input of the Inputs sheet."""
    rows = book["Inputs"].iter_rows(values_only=True)
    header = tuple(next(rows, ())[: len(HEADER)])
    if header != HEADER:
        raise PlanError(f"{path}, sheet Inputs, row 1: the columns must start "
                        f"{', '.join(HEADER)}; got {', '.join(map(str, header))}")
    for row, cells in enumerate(rows, start=2):
        if cells and cells[0] is not None:
            yield row, str(cells[0]), cells[1], cells[3] if len(cells) > 3 else None


def _same(value, shown) -> bool:
    """Whether a cell's ``value`` is what the scenario gives (``shown`` as the sheet wrote it)."""
    if isinstance(value, int | float) and isinstance(shown, int | float) \
            and not isinstance(value, bool) and not isinstance(shown, bool):
        return math.isclose(value, shown, rel_tol=1e-12, abs_tol=0.0)
    return str(value) == str(shown) or (value is None and shown in ("", None))


def _as_type_of(original, value, where: str):
    """``value`` read as the type of the scenario's ``original`` value; PlanError otherwise."""
    if isinstance(original, list):
        items = [item.strip() for item in str(value).split(",")] if value not in (None, "") else []
        kind = original[0] if original else ""
        return [_as_type_of(kind, item, where) for item in items]
    try:
        if isinstance(original, bool):
            text = str(value).strip().lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError
            return text in ("true", "1")
        if isinstance(original, int):
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if isinstance(original, float):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
    except (TypeError, ValueError):
        kind = {bool: "true or false", int: "a whole number"}.get(type(original), "a number")
        raise PlanError(f"{where}: {value!r} is not {kind}") from None
    return "" if value is None else str(value)


def _check(scenario_path: str, key: str, value, where: str) -> None:
    """The edited value checked as the scenario checks it: the cell named if it is refused."""
    from sim.scenario import ScenarioError, load_scenario

    try:
        load_scenario(scenario_path, {key: value})
    except ScenarioError as error:
        detail = str(error).split(": ", 1)[-1] if ": " in str(error) else str(error)
        raise PlanError(f"{where}: {value!r} is refused: {detail}") from None
