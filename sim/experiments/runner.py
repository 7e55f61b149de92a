"""Running an experiment: one function per run, three executors, and a store that makes it resumable.

* :func:`run_one` builds and runs one market (on one thread, so a pool of one process per core uses
  the cores once) and returns a plain record; an exception inside the model is caught and recorded
  with its traceback, so one failed run never stops the others.
* Executors: ``local`` (in this process, one run after another), ``process`` (a local process pool,
  the default) and ``dask`` (a ``dask.distributed`` cluster: an existing scheduler, or a
  ``LocalCluster`` started for the experiment). They differ only in where :func:`run_one` runs; the
  records are written here, by one writer, so nothing else changes between them.
* The records are kept by :class:`sim.experiments.store.RunStore`, so an interrupted experiment
  resumes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sim.experiments.design import RunTask
from sim.experiments.spec import ExperimentError
from sim.experiments.store import RunStore

EXECUTORS = ("local", "process", "dask")


def describe_failure() -> str:
    """The exception being handled, as a failed run's record keeps it.

    A user's policy fault gives its message and the user's own traceback; anything else gives the
    full traceback. An exception that Ctrl-C caused is no failure of the run: KeyboardInterrupt is
    raised, and the study stops as interrupted (resumable), not with a failed run.
    """
    from sim.policies.checks import PolicyFault

    error = sys.exc_info()[1]
    if _interrupted(error):  # Ctrl-C inside a compiled kernel comes out as a SystemError
        raise KeyboardInterrupt from None
    if isinstance(error, PolicyFault):
        where = f"\nwhere, in your code:\n{error.user_traceback}" if error.user_traceback else ""
        return f"{error}{where}"
    return traceback.format_exc()


def _interrupted(error: BaseException | None) -> bool:
    """Whether ``error`` was caused, however indirectly, by Ctrl-C (a KeyboardInterrupt)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def run_one(task: RunTask) -> dict[str, Any]:
    """Run one market of the experiment and return its record (status, statistics, time series)."""
    started = time.perf_counter()
    record: dict[str, Any] = {"run": task.run, "point": task.point,
                              "replication": task.replication, "seed": task.seed,
                              "params": task.params}
    model = None
    try:
        from sim.company.report import company_books
        from sim.company.targets import figure_value
        from sim.model import P2PMarket
        from sim.outputs import summarise

        model = P2PMarket(task.scenario, rng=task.seed, audit="off", threads=1, **task.overrides)
        model.run()
        summary = summarise(model)
        from sim.reporters import monthly

        frame = model.datacollector.get_model_vars_dataframe()
        record["status"] = "ok"
        record["statistics"] = {name: float(summary[name]) if name in summary
                                else figure_value(company_books(model), name, plan_platform(model))
                                for name in task.statistics}  # a statement's figure otherwise
        record["timeseries"] = {name: industry_series(model, name) if name.startswith("industry.")
                                else monthly(frame, name) for name in task.timeseries}
    except Exception:  # noqa: BLE001 - any failure inside the model is recorded, not raised
        record["status"] = "failed"
        record["error"] = describe_failure()
        record["statistics"] = {name: None for name in task.statistics}
        record["timeseries"] = {}
    finally:
        if model is not None:
            model.release()  # free its books now (a worker runs many markets)
    record["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


def industry_series(model, name: str) -> list[float]:
    """A column of the industry's monthly table (``industry.new_problem``), month by month."""
    column = name.removeprefix("industry.")
    return [float(v) for v in model.industry.tracker.frame()[column]]


def plan_platform(model) -> str | None:
    """The platform whose statements a figure reads: the plan's, else the first."""
    return model.config.plan.platform or (model.platforms[0].name if model.platforms else None)


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

    context = multiprocessing.get_context("spawn")  # fresh interpreters, started one-threaded
    with one_thread_workers(), workers_born_deaf_to_ctrl_c():
        pool = context.Pool(processes=min(workers, len(tasks)), initializer=worker_setup,
                            initargs=(os.getpid(),))
    try:
        yield from pool.imap_unordered(function, tasks, chunksize=1)
        pool.close()
    finally:
        pool.terminate()  # on Ctrl-C or an error too: no worker outlives the experiment
        pool.join()


@contextlib.contextmanager
def workers_born_deaf_to_ctrl_c():
    """Start worker processes that ignore Ctrl-C from their first instruction.

    An ignored signal stays ignored across ``exec``, and Python then installs no KeyboardInterrupt
    handler: a Ctrl-C while a worker is still importing prints no traceback from it. The parent
    ignores Ctrl-C only for the milliseconds it takes to start the workers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def worker_setup(parent_pid: int) -> None:
    """Start a worker process: Ctrl-C is the parent's to handle, and it dies with its parent.

    Ctrl-C reaches every process of the terminal's group; the parent stops the workers itself, so
    they ignore it (no traceback from each). If the parent is killed outright (``kill -9``), a
    watcher thread ends the worker within a second instead of leaving it running.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True,
                     name="p2psim-parent-watch").start()


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


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
        except (OSError, TimeoutError, ValueError) as error:  # ValueError: not an address
            raise ExperimentError(f"--scheduler {scheduler}: cannot reach the Dask scheduler, "
                                  f"e.g. tcp://10.0.0.5:8786 "
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
