"""One docstring convention (numpy) and the code style, checked by ruff."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ROOT


def test_ruff_passes():
    ruff = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    if not shutil.which(ruff):
        pytest.skip("ruff is not installed")
    done = subprocess.run([ruff, "check", "sim", "tests", "benchmarks", "calibration", "examples"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


SIM = ROOT / "sim"
PUBLIC_UNDERSCORED = {"_replace", "_fields", "_asdict", "_make", "_exit"}  # namedtuple's and os's API
MAX_MODULE_LINES = 400


def _modules() -> dict:
    """Every module of the engine by its dotted name."""
    modules = {}
    for path in SIM.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def test_no_module_of_the_engine_is_over_400_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def _imports(path, modules) -> set[str]:
    """The engine's modules that ``path`` imports (at any depth of the file, but not for type checking)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules}


def _packages_entered(module: str, imported: str, modules: dict) -> set[str]:
    """The packages whose ``__init__`` importing ``imported`` from ``module`` runs first.

    Python runs ``sim/scenario/__init__.py`` before ``sim.scenario.loading``; a module inside
    the package has its package entered already, and ``sim`` itself is everyone's.
    """
    parts = imported.split(".")
    entered = set()
    for depth in range(2, len(parts)):
        package = ".".join(parts[:depth])
        if package in modules and not module.startswith(package + "."):
            entered.add(package)
    return entered


def test_the_import_graph_of_the_engine_has_no_cycle():
    """No module reaches itself again, through a package's ``__init__`` included.

    Importing ``sim.scenario.keys`` runs ``sim/scenario/__init__.py`` and everything it imports;
    so an import is an edge to the module and to each package it enters. A package's ``__init__``
    importing its own modules is an edge too: ``sim.plan.inputs -> sim.scenario (__init__) ->
    sim.scenario.loading -> sim.plan.inputs`` is a cycle, lazy import or not.
    """
    import graphlib

    modules = _modules()
    graph = {}
    for name, path in modules.items():
        graph[name] = set()
        for imported in _imports(path, modules) - {name}:
            if name.startswith(imported + "."):  # ``from sim.reserve import analysis`` inside it
                continue
            graph[name] |= {imported} | _packages_entered(name, imported, modules)
        graph[name].discard(name)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_no_file_reaches_into_another_modules_private_names():
    """``obj._name`` only on ``self`` or ``cls``; no ``from module import _name`` across modules."""
    import ast

    reaches = []
    for folder in ("sim", "tests", "benchmarks", "calibration", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                        and not node.attr.startswith("__") and node.attr not in PUBLIC_UNDERSCORED
                        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
                    reaches.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                    reaches += [f"{path.relative_to(ROOT)}:{node.lineno}: import {alias.name}"
                                for alias in node.names
                                if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not reaches, "\n".join(reaches)


WRITERS = {  # a record's fields, by the attribute name written, and the modules that may write them
    # every platform's run state: the one machine (RunStates) alone; ``state`` is also the
    # policies' monthly figures of a detailed platform (PlatformState), set where it is built
    "state": {"sim/runs/states.py", "sim/agents/platform.py"},
    "difficulty_since": {"sim/runs/states.py"},
    "failed_day": {"sim/runs/states.py", "sim/policies/guarantee.py"},  # and a guarantor's own
    # the industry's record of its problem platforms (问题平台): failures.py, built in part.py
    "problem_day": {"sim/industry/failures.py", "sim/industry/part.py"},
    "failure_type": {"sim/industry/failures.py", "sim/industry/part.py"},
    "cause": {"sim/industry/failures.py", "sim/industry/part.py"},
    "causes": {"sim/industry/failures.py", "sim/industry/part.py"},
    "failing": {"sim/industry/failures.py", "sim/industry/part.py"},
    "banned": {"sim/industry/failures.py", "sim/industry/part.py"},
    # money: the ledger's balances only through its postings
    "accounts": {"sim/ledger.py"},
    # withdrawal queues: the detailed investors' and the positions' (pooled), each by its owner
    "queued_fen": {"sim/runs/queue.py", "sim/agents/positions.py", "sim/industry/withdrawals.py"},
    "queued_since": {"sim/runs/queue.py", "sim/agents/positions.py",
                     "sim/industry/withdrawals.py"},
    # in an industry, what a detailed platform's investors asked for and their cash has not yet
    # covered: the industry's one rule of flows alone
    "asked_fen": {"sim/runs/flows.py", "sim/agents/investors.py"},
    # borrowers' strikes (逃废债): built by the risk tables, moved by the one in_trouble rule, a
    # stress event, and an industry failure's type
    "strike_multiplier": {"sim/market/risk_tables.py", "sim/runs/part.py", "sim/market/month.py"},
    "strike_floor": {"sim/market/risk_tables.py", "sim/industry/failures.py"},
}


def _written_attributes(path) -> set[tuple[str, int]]:
    """(attribute, line) for each ``x.attr = ...``, ``x.attr[...] = ...`` or ``x.attr += ...``."""
    import ast

    written = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in targets:
            for one in (target.elts if isinstance(target, ast.Tuple) else [target]):
                while isinstance(one, ast.Subscript):
                    one = one.value
                if isinstance(one, ast.Attribute):
                    written.add((one.attr, node.lineno))
    return written


def test_a_platform_s_state_is_written_only_by_the_part_that_owns_it():
    """Run states, the industry's failure record, balances, queues and strikes: one writer each."""
    stray = []
    for path in SIM.rglob("*.py"):
        module = str(path.relative_to(ROOT))
        for attribute, line in _written_attributes(path):
            if attribute in WRITERS and module not in WRITERS[attribute]:
                stray.append(f"{module}:{line} writes .{attribute}")
    assert not stray, "\n".join(sorted(stray))


def test_the_writers_check_sees_a_stray_write(tmp_path):
    """The check above is not blind: a write of a run state from elsewhere is found."""
    stray = tmp_path / "stray.py"
    stray.write_text("def f(market):\n    market.run_states.state[0] = 3\n"
                     "    market.industry.failing[2] = True\n", encoding="utf-8")
    assert {name for name, _ in _written_attributes(stray)} == {"state", "failing"}
