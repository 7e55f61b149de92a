"""Experiment throughput: baseline runs per minute on 1 and 2 workers, and the parallel efficiency.

    .venv/bin/python benchmarks/experiments.py --runs 8

Runs the full baseline scenario (3 years) ``--runs`` times as an experiment of replications, with
the process-pool executor on 1 worker and then on 2 (and Dask on 2 with ``--dask``), each into a
fresh folder, and reports wall time, runs per minute and the efficiency ``rate(2) / (2 rate(1))``.
Wall time includes starting the workers and writing the results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.experiments import run_experiment  # noqa: E402

EXPERIMENT = """
[experiment]
name = "throughput"
scenario = "{scenario}"
seed = 1
replications = {runs}

[outputs]
statistics = ["platform_profit_cny", "volume_cny"]
"""


def measure(runs: int, executor: str, workers: int) -> float:
    """Wall seconds for ``runs`` baseline runs on the executor."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "throughput.toml"
        path.write_text(EXPERIMENT.format(scenario=ROOT / "scenarios" / "baseline.toml", runs=runs))
        start = time.perf_counter()
        result = run_experiment(path, out=Path(scratch) / "out", executor=executor,
                                workers=workers, quiet=True)
        elapsed = time.perf_counter() - start
        assert result["failed"] == 0
    return elapsed


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--dask", action="store_true", help="also Dask (LocalCluster) on 2 workers")
    args = parser.parse_args()
    cases = [("process", 1), ("process", 2)] + ([("dask", 2)] if args.dask else [])
    rates = {}
    for executor, workers in cases:
        seconds = measure(args.runs, executor, workers)
        rates[(executor, workers)] = args.runs / seconds * 60
        print(f"{executor:8s} {workers} worker(s): {args.runs} runs in {seconds:6.1f} s = "
              f"{rates[(executor, workers)]:5.1f} runs/min", flush=True)
    one, two = rates[("process", 1)], rates[("process", 2)]
    print(f"parallel efficiency on 2 workers: {two / (2 * one):.0%}")


if __name__ == "__main__":
    main()
