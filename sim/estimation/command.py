"""``p2psim estimate FILE``: estimate an industry's behavioural parameters (docs/industry.md)."""

from __future__ import annotations

import argparse
import os


def add_parser(sub) -> None:
    """The ``estimate`` sub-command of ``p2psim``."""
    cmd = sub.add_parser("estimate", help="estimate an industry's behavioural parameters from the "
                                          "WDZJ data (simulated method of moments)")
    cmd.add_argument("file", help="estimation file (TOML), e.g. estimation/wave_2018.toml")
    cmd.add_argument("--out", default=None, help="results folder (default: results/NAME)")
    cmd.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="parallel runs (default: one per core)")
    cmd.add_argument("--executor", default="process", choices=["local", "process", "dask"],
                     help="where the runs go: this process, a process pool (default), or Dask")
    cmd.add_argument("--scheduler", default=None,
                     help="a Dask scheduler's address (tcp://host:8786) for --executor dask")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the estimation and print its estimates and moments."""
    from sim.estimation import format_result, run_estimation
    from sim.estimation.spec import EstimationError

    if args.workers < 1:
        raise EstimationError(f"--workers {args.workers}: must be at least 1")
    result = run_estimation(args.file, out=args.out, executor=args.executor,
                            workers=args.workers, scheduler=args.scheduler, quiet=args.quiet)
    print(format_result(result))
    return 0
