"""Every file a run of a scenario reads, so that kept runs are keyed by all of them.

A study that keeps its runs to resume (an experiment, a plan, a reserve study, a board) records a
hash of each file here in its manifest (:func:`sim.experiments.store.file_hashes`): a rerun after
any of them changed, a ``based_on`` base edited, a user's policy module rewritten, the industry's
platforms table replaced or p2psim itself updated, never resumes the runs made before.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any

from sim.scenario.based_on import MAX_DEPTH

CODE = Path(__file__).resolve().parents[1]
"""The ``sim`` package: its source files are hashed as one input, p2psim's version."""


def files_read(path: str | Path, scenario=None, role: str = "scenario") -> dict[str, Path]:
    """The files a run of the scenario at ``path`` reads, by role.

    The scenario, every file it is ``based_on`` (bases of bases too), an industry's platforms
    table and the calibrated data it draws from, every user's module a policy or decision rule
    names (``package.module:ClassName``), and p2psim's own code (the ``sim`` package, as a folder).
    ``scenario`` is the loaded scenario (it is loaded here when None); ``role`` names the file
    itself (an experiment's is its "base scenario").
    """
    from sim.scenario.loading import load_scenario

    path = Path(path)
    files = {role: path}
    for depth, base in enumerate(bases(path), start=1):
        files[f"base scenario (based_on, level {depth})"] = base
    scenario = load_scenario(path) if scenario is None else scenario
    if scenario.industry is not None:
        files.update(industry_files(scenario))
    for name in sorted(user_modules(scenario.model_dump())):
        where = module_file(name, scenario.source_dir)
        if where is not None:
            files[f"user module {name}"] = where
    files["p2psim code"] = CODE
    return files


def bases(path: Path) -> list[Path]:
    """The files ``path`` is based on, nearest first (:mod:`sim.scenario.based_on`)."""
    found = []
    for _ in range(MAX_DEPTH):
        try:
            tables = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            break  # the scenario's loading reports it
        name = tables.get("based_on")
        if not isinstance(name, str) or not name:
            break
        path = path.parent / name
        found.append(path)
    return found


def industry_files(scenario) -> dict[str, Path]:
    """The industry's platforms table and the calibrated data a run of it reads."""
    from sim.industry.entrants import MOMENTS_FILE
    from sim.industry.hazard import HAZARD_FILE
    from sim.industry.population import PLATFORMS_FILE

    own = scenario.industry.platforms_file
    table = Path(scenario.source_dir or ".") / own if own else PLATFORMS_FILE
    files = {"industry platforms table": table, "industry failure hazard": HAZARD_FILE}
    if scenario.industry.entrants.enabled:
        files["industry launches (moments)"] = MOMENTS_FILE
    return files


def module_file(name: str, source_dir: str | None) -> Path | None:
    """The file of a user's module, as a run imports it (:mod:`sim.policies.registry`).

    The module this process has imported already, else the one found on ``sys.path``, else beside
    the scenario; a package is its folder.
    """
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None)
    if origin is None:
        spec = None
        for path in (sys.path, [source_dir] if source_dir else []):
            try:
                spec = importlib.util.find_spec(name) if path is sys.path else _find(name, path)
            except (ImportError, ValueError):
                spec = None
            if spec is not None:
                break
        origin = getattr(spec, "origin", None)
    if origin is None or not Path(origin).is_file():
        return None
    origin = Path(origin)
    return origin.parent if origin.name == "__init__.py" else origin


def _find(name: str, path: list[str]):
    """The spec of module ``name`` (dotted) searched for under the folders ``path`` only."""
    spec = None
    for depth, part in enumerate(name.split(".")):
        full = ".".join(name.split(".")[: depth + 1])
        spec = PathFinder.find_spec(full, path)
        if spec is None:
            return None
        path = list(spec.submodule_search_locations or [])
    return spec


def user_modules(tables: Any) -> set[str]:
    """The modules of every ``package.module:ClassName`` a ``policy`` or ``rule`` key names."""
    found: set[str] = set()
    if isinstance(tables, dict):
        for key, value in tables.items():
            if key in ("policy", "rule") and isinstance(value, str) and ":" in value:
                found.add(value.partition(":")[0])
            else:
                found |= user_modules(value)
    elif isinstance(tables, list):
        for item in tables:
            found |= user_modules(item)
    return found
