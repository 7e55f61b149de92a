"""``p2psim industry FILE``: run an industry scenario, or an industry experiment over variants.

A scenario file (``scenarios/thunderstorm_2018.toml``) runs once with a progress bar and writes
monthly.csv, platforms.csv, journal.csv, summary.json and wave.png; an experiment file (one with an
``[experiment]`` table, ``experiments/thunderstorm_channels.toml``) runs every variant with the same
seeds and writes runs.csv, summary.csv and comparison.png. Everything is checked before anything
runs: a bad key is one message, exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from pathlib import Path

from sim.scenario.schema import ScenarioError


def add_parser(sub) -> None:
    """The ``industry`` sub-command of ``p2psim``."""
    cmd = sub.add_parser("industry", help="an industry of platforms and investors across them: "
                                          "contagion and the 2018 wave (a scenario or an experiment)")
    cmd.add_argument("file", help="industry scenario or experiment (TOML), e.g. "
                                  "scenarios/thunderstorm_2018.toml")
    cmd.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    cmd.add_argument("--out", default=None, help="results folder (default: results/NAME-seedN, "
                                                 "results/NAME for an experiment)")
    cmd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key, e.g. --set channels.network.enabled=false")
    cmd.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="an experiment's parallel runs (default: one per core)")
    cmd.add_argument("--audit", action="store_true",
                     help="check the ledger and every position to the fen after each day")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(func=run_command)


def _parse_set(items: list[str]) -> dict:
    overrides = {}
    for item in items:
        if "=" not in item:
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. channels.network.enabled=false")
        key, value = item.split("=", 1)
        try:
            overrides[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key.strip()] = value
    return overrides


def run_command(args: argparse.Namespace) -> int:
    """Run the file given to ``p2psim industry``."""
    from sim.industry.experiment import is_experiment

    path = Path(args.file)
    if is_experiment(path):
        if args.set or args.seed is not None:
            raise ScenarioError("--set and --seed apply to a scenario; an experiment sets its keys "
                                "in its [experiment] and [[variants]] tables")
        return _experiment(path, args)
    return _scenario(path, args)


def _scenario(path: Path, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.folders import check_output_folder
    from sim.industry.market import IndustryMarket
    from sim.industry.results import format_summary, summarise, write_industry

    started = time.perf_counter()
    model = IndustryMarket(path, rng=args.seed, audit=args.audit, **_parse_set(args.set))
    built = time.perf_counter()
    out = Path(args.out) if args.out else Path("results") / f"{model.config.run.name}-seed{model.seed}"
    check_output_folder(out, "industry")
    with tqdm(total=model.horizon_days, unit="day", disable=args.quiet, file=sys.stderr,
              desc=model.config.run.name) as bar:
        model.run(progress=lambda day: bar.update(day - bar.n))
    elapsed = {"build": round(built - started, 2), "run": round(time.perf_counter() - built, 2)}
    write_industry(model, out, str(path), elapsed)
    print(f"{model.config.run.name}: seed {model.seed}, {model.day} days, built in "
          f"{elapsed['build']:.1f} s, ran in {elapsed['run']:.1f} s")
    print(format_summary(summarise(model)))
    print(f"results: {out}/ (monthly.csv, platforms.csv, journal.csv, summary.json, wave.png)")
    return 0


def _experiment(path: Path, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.industry.experiment import run_experiment

    with tqdm(unit="run", disable=args.quiet, file=sys.stderr, desc=path.stem) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        result = run_experiment(path, args.out, workers=max(1, args.workers), progress=progress)
    shown = ["variant", "runs", "failed", "failed_se", "failed_vs_first", "failed_vs_first_se",
             "damage_100m_cny", "damage_100m_cny_vs_first"]
    print(result["summary"][shown].to_string(index=False, float_format="%.3g"))
    print(f"results: {result['folder']}/ (runs.csv, summary.csv, comparison.png)")
    return 0
