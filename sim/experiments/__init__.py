"""Experiments: sweeps, Monte-Carlo replications and sensitivity analysis, on any executor.

``p2psim experiment FILE`` reads an experiment file (:mod:`sim.experiments.spec`), plans its runs
(:mod:`sim.experiments.design`), runs those not yet done on the chosen executor, writing each as it
finishes (:mod:`sim.experiments.runner`), and combines them into tables and figures
(:mod:`sim.experiments.results`). See docs/experiments.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim import strict_json
from sim.experiments.design import RunTask, design_points, plan_runs, run_seeds
from sim.experiments.runner import EXECUTORS, run_one, run_tasks
from sim.experiments.spec import Experiment, ExperimentError, load_experiment
from sim.experiments.store import RunStore, input_hashes
from sim.outputs.run_folder import finished

__all__ = ["EXECUTORS", "Experiment", "ExperimentError", "RunTask", "design_points",
           "format_result", "load_experiment", "plan_runs", "run_experiment", "run_one",
           "run_seeds"]


def run_experiment(path: str | Path, out: str | Path | None = None, executor: str = "process",
                   workers: int = 2, scheduler: str | None = None, quiet: bool = False,
                   overwrite: bool = False) -> dict:
    """Run (or finish) an experiment and write its results; return a short summary.

    ``overwrite`` starts over in a folder that holds the runs of another experiment, or of this one
    before its files changed; without it such a folder is refused. A folder that p2psim did not
    make is refused either way.

    Raises
    ------
    ExperimentError, OutputFolderError
        On a bad experiment file, design, executor, scheduler or folder, before any run starts.
    """
    from tqdm import tqdm

    from sim.experiments.results import write_results
    from sim.folders import check_output_folder, seal, snapshot

    if executor not in EXECUTORS:
        raise ExperimentError(f"--executor {executor!r}: allowed: {', '.join(EXECUTORS)}")
    if workers < 1:
        raise ExperimentError(f"--workers {workers}: must be at least 1")
    spec, scenario = load_experiment(path)
    tasks = plan_runs(spec, scenario, str(path), workers)
    folder = Path(out or spec.experiment.out or Path("results") / spec.experiment.name)
    folder = check_output_folder(folder, "experiment", "--out" if out else "the results folder")
    if executor == "dask" and scheduler:
        from sim.experiments.runner import connect_dask
        client, _ = connect_dask(workers, scheduler)  # fail now, before anything is written
        client.close()
    manifest = {"experiment": spec.model_dump(mode="json"), "scenario": str(scenario),
                "runs": len(tasks), "seeds": [str(t.seed) for t in tasks[:3]],
                "inputs": input_hashes(Path(path), scenario)}
    store = RunStore(folder, manifest, overwrite=overwrite)
    done = store.done()
    todo = [t for t in tasks if t.run not in done]
    failed = sum(1 for r in store.records() if r["status"] != "ok") if done else 0
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), unit="run", disable=quiet,
              file=sys.stderr, desc=spec.experiment.name) as bar:
        bar.set_postfix(failed=failed)

        def progress(record):
            nonlocal failed
            failed += record["status"] != "ok"
            bar.update(1)
            bar.set_postfix(failed=failed)

        run_tasks(store, todo, executor, workers, scheduler, progress)
    before = snapshot(folder)
    result = write_results(folder, spec, store.records())
    (folder / "done.json").write_text(strict_json.dumps(finished(result)))
    seal(folder, "experiment", before)
    result["folder"] = folder
    result["skipped"] = len(tasks) - len(todo)
    return result


def format_result(result: dict, shown: int = 40) -> str:
    """What ``p2psim experiment`` prints: the runs, each point's statistics, sensitivity, differences."""
    lines = [f"{result['runs']} runs ({result['skipped']} already done), {result['failed']} failed; "
             f"results: {result['folder']}/"]
    summary = result["summary"].drop(columns=["q05", "q95"])
    if len(summary):
        lines.append(summary.head(shown).to_string(index=False, float_format="%.4g"))
        if len(summary) > shown:
            lines.append(f"... {len(summary) - shown} more rows in {result['folder']}/summary.csv")
    if len(result["sensitivity"]):
        lines.append(result["sensitivity"].to_string(index=False, float_format="%.3f"))
    differences = result.get("differences")
    if differences is not None and len(differences):
        lines.append("each point minus the first, paired (same draws):")
        lines.append(differences.drop(columns=["point", "ci95_low", "ci95_high"]).head(shown)
                     .to_string(index=False, float_format="%.4g"))
    return "\n".join(lines)
