"""``p2psim industry FILE``: the front end of the one engine for a scenario with an ``[industry]``.

A scenario file (``scenarios/thunderstorm_2018.toml``, ``scenarios/seed_plan_in_2018.toml``) runs
once with a progress bar and writes the industry's folder (:mod:`sim.industry.results`); an
experiment file (``experiments/thunderstorm_channels.toml``) goes to the one experiment runner, as
``p2psim experiment`` would send it (resumable, on any executor). Everything is checked before
anything runs: a bad key is one message, exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sim.scenario.files import is_industry, read_toml_file
from sim.scenario.loading import parse_set
from sim.scenario.schema import ScenarioError


def add_parser(sub) -> None:
    """The ``industry`` sub-command of ``p2psim``."""
    cmd = sub.add_parser("industry", help="an industry of platforms and investors across them: "
                                          "contagion and the 2018 wave (a scenario or an experiment)")
    cmd.add_argument("file", help="scenario with an [industry] table, or an experiment on one "
                                  "(TOML), e.g. scenarios/thunderstorm_2018.toml")
    cmd.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    cmd.add_argument("--out", default=None, help="results folder (default: results/NAME-seedN, "
                                                 "results/NAME for an experiment)")
    cmd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key, e.g. --set industry.channels.network.enabled=false")
    cmd.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="an experiment's parallel runs (default: one per core)")
    cmd.add_argument("--executor", default="process", choices=["local", "process", "dask"],
                     help="an experiment's runs: this process, a process pool (default), or Dask")
    cmd.add_argument("--overwrite", action="store_true",
                     help="an experiment: start over in a folder of another version's runs")
    cmd.add_argument("--audit", action="store_true",
                     help="check the ledger, every loan and every position to the fen each day")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the file given to ``p2psim industry``."""
    path = Path(args.file)
    _, raw = read_toml_file(path, "scenario or experiment", ScenarioError)
    if "experiment" in raw:
        if args.set or args.seed is not None:
            raise ScenarioError("--set and --seed apply to a scenario; an experiment sets its keys "
                                "in its [experiment] fixed table and its [[variants]]")
        return _experiment(path, args)
    if not is_industry(path, raw, ScenarioError):
        raise ScenarioError(f"{path}: no [industry] table: this is a market scenario; run it with "
                            f"`p2psim run {path}`")
    return run_scenario(path, args)


def run_scenario(path: Path, args: argparse.Namespace) -> int:
    """Run an industry scenario and write its folder (``p2psim run`` or ``p2psim industry``)."""
    from tqdm import tqdm

    from sim.folders import check_output_folder
    from sim.industry.results import format_summary, write_industry
    from sim.model import P2PMarket

    started = time.perf_counter()
    overrides = dict(parse_set(item) for item in args.set)
    audit = "full" if getattr(args, "audit", False) else "off"
    model = P2PMarket(path, rng=args.seed, audit=audit, **overrides)
    built = time.perf_counter()
    out = Path(args.out) if args.out else Path("results") / f"{model.config.run.name}-seed{model.seed}"
    check_output_folder(out, "industry")
    with tqdm(total=model.horizon_days, unit="day", disable=args.quiet, file=sys.stderr,
              desc=model.config.run.name) as bar:
        model.run(progress=lambda day: bar.update(day - bar.n))
    elapsed = {"build": round(built - started, 2), "run": round(time.perf_counter() - built, 2)}
    folder, summary = write_industry(model, out, str(path), elapsed)
    print(f"{model.config.run.name}: seed {model.seed}, {model.day} days, built in "
          f"{elapsed['build']:.1f} s, ran in {elapsed['run']:.1f} s")
    print(format_summary(summary))
    detailed = ", statements.csv, company.png" if model.platforms else ""
    print(f"results: {folder}/ (monthly.csv, platforms.csv, fates.csv, links.csv, journal.csv, "
          f"summary.json, wave.png, fates.png{detailed})")
    return 0


def _experiment(path: Path, args: argparse.Namespace) -> int:
    from sim.experiments import format_result, run_experiment

    args.after_interrupt = "rerun the same command to resume"  # its runs are kept as they finish
    result = run_experiment(path, out=args.out, executor=args.executor, workers=args.workers,
                            quiet=args.quiet, overwrite=args.overwrite)
    print(format_result(result))
    return 0
