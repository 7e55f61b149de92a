"""The evaluations of ``p2psim plan --solve``, kept as they finish so that Ctrl-C resumes.

The search (:mod:`sim.plan.solve`) evaluates the plan's runs at one value of the key after another;
each (value, run) is written to a store beside the results folder (kind ``paths``, like a reserve
study's), keyed by everything the scenario reads, and deleted once the results are written.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from sim.experiments.store import RunStore, input_hashes, kept_runs_folder
from sim.folders import check_output_folder


class Evaluations:
    """Every (value, run) the search evaluated, kept as it finishes so that Ctrl-C resumes.

    The search is deterministic: the ``i``-th evaluation of a rerun is the ``i``-th of the
    interrupted one, so a kept record (run number ``i`` of a :class:`RunStore`) answers it once
    its value and run are checked to be the same. ``store`` None keeps nothing.
    """

    def __init__(self, store=None) -> None:
        self.store, self.next = store, 0
        self.kept = {r["run"]: r for r in store.records()} if store is not None else {}

    def evaluate(self, x: float, batch: list, run_batch) -> dict[int, dict]:
        """Each task's ``{"met", "value"}`` at ``x``, by plan run; ``run_batch`` runs the rest."""
        numbers = range(self.next, self.next + len(batch))
        self.next += len(batch)
        found, todo = {}, []
        for number, task in zip(numbers, batch, strict=True):
            record = self.kept.get(number)
            if record is not None and record["value"] == x and record["plan_run"] == task.run:
                found[task.run] = record["result"]
            else:
                todo.append((number, task))
        for number, task, result in run_batch(todo):
            found[task.run] = result
            if self.store is not None:
                self.store.write({"run": number, "status": "ok", "value": x,
                                  "plan_run": task.run, "result": result})
        return found


MAX_EVALUATIONS = 1000  # a search's evaluations, in plans' runs: a bound for the kept records


def kept_evaluations(folder, request, solve, scenario, runs: int) -> RunStore:
    """The search's kept evaluations beside its results, keyed by everything it reads.

    ``solve`` is the :class:`sim.plan.solve.SolveRequest`; ``runs`` the plan's runs.
    """
    kept = check_output_folder(kept_runs_folder(folder), "paths", "the folder of kept runs")
    path = Path(request.scenario)
    manifest = {"study": "solve", "solve": dataclasses.asdict(solve), "runs": runs * MAX_EVALUATIONS,
                "plan_runs": runs, "seed": request.seed, "overrides": request.overrides,
                "inputs": input_hashes(path, path, scenario)}
    store = RunStore(kept, manifest, overwrite=True, kind="paths",
                     required=frozenset({"value", "plan_run", "result"}))
    if not request.quiet and store.started_over:
        print(f"--solve: starting over: {store.started_over}", file=sys.stderr)
    if not request.quiet and store.done():
        print(f"--solve: resuming; {len(store.done())} evaluations kept in {kept} are not run "
              f"again", file=sys.stderr)
    return store
