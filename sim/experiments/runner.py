"""Running an experiment: one function per run, three executors, and a store that makes it resumable.

* :func:`run_one` builds and runs one market (on one thread, so a pool of one process per core uses
  the cores once) and returns a plain record; an exception inside the model is caught and recorded
  with its traceback, so one failed run never stops the others.
* Executors: ``local`` (in this process, one run after another), ``process`` (a local process pool,
  the default) and ``dask`` (a ``dask.distributed`` cluster: an existing scheduler, or a
  ``LocalCluster`` started for the experiment). They differ only in where :func:`run_one` runs; the
  records are written here, by one writer, so nothing else changes between them.
* :class:`RunStore`: each finished run is written to ``runs/run-NNNNNN.json`` atomically (a temporary
  file renamed into place). On a restart the runs already there are skipped, so an interrupted
  experiment completes with every run present exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.experiments.design import RunTask
from sim.experiments.spec import ExperimentError

EXECUTORS = ("local", "process", "dask")


def run_one(task: RunTask) -> dict[str, Any]:
    """Run one market of the experiment and return its record (status, statistics, time series)."""
    started = time.perf_counter()
    record: dict[str, Any] = {"run": task.run, "point": task.point,
                              "replication": task.replication, "seed": task.seed,
                              "params": task.params}
    model = None
    try:
        from sim.model import P2PMarket
        from sim.outputs import summarise

        model = P2PMarket(task.scenario, rng=task.seed, audit="off", threads=1, **task.overrides)
        model.run()
        summary = summarise(model)
        frame = model.datacollector.get_model_vars_dataframe()
        month_end = frame[(frame["day"] + 1) % 30 == 0]
        record["status"] = "ok"
        record["statistics"] = {name: float(summary[name]) for name in task.statistics}
        record["timeseries"] = {name: [float(v) for v in month_end[name]] for name in task.timeseries}
    except Exception:  # noqa: BLE001 - any failure inside the model is recorded, not raised
        record["status"] = "failed"
        record["error"] = traceback.format_exc()
        record["statistics"] = {name: None for name in task.statistics}
        record["timeseries"] = {}
    finally:
        if model is not None:
            model.release()  # free its books now (a worker runs many markets)
    record["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


class RunStore:
    """The experiment's folder: a manifest, and one JSON file per finished run."""

    def __init__(self, out: Path, manifest: dict[str, Any]) -> None:
        self.out = Path(out)
        self.runs_dir = self.out / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.out / "experiment.json"
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
        if path.exists() and path.read_text(encoding="utf-8") != text:
            raise ExperimentError(f"{self.out} holds the results of a different experiment (or of "
                                  f"an earlier version of this one); choose another --out")
        _write_atomic(path, text)
        for stale in self.runs_dir.glob(".*.tmp"):  # a write cut short by a kill
            stale.unlink()

    def path(self, run: int) -> Path:
        """Where run ``run`` is kept."""
        return self.runs_dir / f"run-{run:06d}.json"

    def done(self) -> set[int]:
        """Numbers of the runs already written."""
        return {int(p.stem.split("-")[1]) for p in self.runs_dir.glob("run-*.json")}

    def write(self, record: dict[str, Any]) -> None:
        """Keep one finished run (atomically)."""
        _write_atomic(self.path(record["run"]), json.dumps(record, ensure_ascii=False))

    def records(self) -> list[dict[str, Any]]:
        """Every run written, in run order."""
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.runs_dir.glob("run-*.json"))]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- executors

def execute(tasks: list, executor: str, workers: int, scheduler: str | None = None,
            function: Callable[[Any], dict[str, Any]] = run_one) -> Iterator[dict[str, Any]]:
    """Run ``function(task)`` for each task on the executor; yield each record as it finishes.

    ``function`` must be importable by name (a module-level function) for the process pool and Dask.
    """
    if not tasks:
        return iter(())
    if executor == "local":
        return (function(task) for task in tasks)
    if executor == "process":
        return _process_pool(tasks, workers, function)
    if executor == "dask":
        return _dask(tasks, workers, scheduler, function)
    raise ExperimentError(f"--executor {executor!r}: allowed: {', '.join(EXECUTORS)}")


ONE_THREAD = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def one_thread_workers():
    """Start worker processes with one thread each for numba, OpenMP and BLAS.

    A worker runs one market on one core; idle OpenMP threads of several workers would otherwise
    spin on the same cores (measured: two concurrent runs took 3 times as long each).
    """
    saved = {key: os.environ.get(key) for key in ONE_THREAD}
    os.environ.update(ONE_THREAD)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _process_pool(tasks: list, workers: int, function) -> Iterator[dict[str, Any]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # fresh interpreters, started one-threaded
    with one_thread_workers(), ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(function, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


def connect_dask(workers: int, scheduler: str | None):
    """A ``dask.distributed`` client: on the scheduler at ``scheduler``, or on a new LocalCluster.

    Raises
    ------
    ExperimentError
        If the scheduler cannot be reached within 10 seconds.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as error:
            raise ExperimentError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                                  f"({error})") from None
    with one_thread_workers():
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    return Client(cluster), cluster


def _dask(tasks: list, workers: int, scheduler: str | None,
          function) -> Iterator[dict[str, Any]]:
    from distributed import as_completed

    client, cluster = connect_dask(workers, scheduler)
    try:
        futures = client.map(function, tasks, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(store: RunStore, tasks: Iterable[RunTask], executor: str, workers: int,
              scheduler: str | None = None, progress=None) -> tuple[int, int]:
    """Run the tasks not yet in ``store``, writing each record as it comes; return (done, failed).

    ``progress(record)`` is called after each record is written.
    """
    done, failed = 0, 0
    for record in execute(list(tasks), executor, workers, scheduler):
        store.write(record)
        done += 1
        failed += record["status"] != "ok"
        if progress is not None:
            progress(record)
    return done, failed
