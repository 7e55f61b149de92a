"""``p2psim plan SCENARIO``: a business plan's odds, or with ``--solve`` the input that meets one.

The plan's runs go to the one experiment runner (:mod:`sim.plan.study`); ``--solve KEY --for
TARGET`` finds by root-finding the value of an input at which the target is met with
``--probability`` (:mod:`sim.plan.solve`). A user's mistake is a :class:`PlanError` (exit 2).
"""

from __future__ import annotations

import argparse
import os

from sim.plan.errors import PlanError
from sim.scenario.loading import parse_set


def add_parser(sub) -> None:
    """The ``plan`` sub-command of ``p2psim``."""
    plan = sub.add_parser("plan", help="test a business plan: the odds of meeting each [plan] "
                                       "target, statements P10/P50/P90, a spreadsheet")
    plan.add_argument("scenario", help="scenario file with [plan] targets, e.g. "
                                       "scenarios/seed_business_plan.toml, or a plan.xlsx whose "
                                       "Inputs sheet you edited (its values and sources)")
    plan.add_argument("--runs", type=int, default=200, help="runs (default 200)")
    plan.add_argument("--out", default=None, help="results folder (default: results/NAME-plan)")
    plan.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    plan.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override a scenario key")
    plan.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                      help="parallel runs (default: one per core)")
    plan.add_argument("--executor", default="process", choices=["local", "process", "dask"],
                      help="where runs go: this process, a process pool (default), or Dask")
    plan.add_argument("--scheduler", default=None, help="address of a Dask scheduler")
    plan.add_argument("--overwrite", action="store_true",
                      help="start over in a folder that holds another study's runs")
    plan.add_argument("--quiet", action="store_true", help="no progress bar")
    plan.add_argument("--solve", default=None, metavar="KEY",
                      help="find the value of this input (e.g. platforms.0.capital_cny) at which "
                           "the --for target is met with --probability")
    plan.add_argument("--for", dest="target", default=None, metavar="TARGET",
                      help="the target to solve for, as in [plan], e.g. \"cash_ran_out <= 0\"")
    plan.add_argument("--probability", type=float, default=None,
                      help="with --solve: share of runs that must meet it (default 0.5)")
    plan.add_argument("--bracket", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                      help="with --solve: values to search between (default: 0 to 4 x the "
                           "scenario's)")
    plan.add_argument("--tolerance", type=float, default=None,
                      help="with --solve: width the answer is found to (default: the "
                           "bracket's / 200)")
    plan.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the plan, or with ``--solve`` the search, and print what it found."""
    from sim.plan.study import PlanRequest, format_plan, run_plan

    scenario, overrides = args.scenario, {}
    if str(scenario).lower().endswith(".xlsx"):  # the founder's edited workbook
        from sim.plan.from_workbook import read_workbook_inputs

        scenario, overrides, changes = read_workbook_inputs(args.scenario)
        print(f"from {args.scenario}: {scenario}, with {len(changes)} change"
              f"{'' if len(changes) == 1 else 's'} from its Inputs sheet"
              + "".join(f"\n  {change}" for change in changes))
    request = PlanRequest(
        scenario=scenario, runs=args.runs, workers=args.workers, executor=args.executor,
        scheduler=args.scheduler, out=args.out, seed=args.seed, overwrite=args.overwrite,
        overrides={**overrides, **dict(parse_set(item) for item in args.set)}, quiet=args.quiet)
    if args.solve is not None or args.target is not None:
        return _solve(args, request)
    given = [f"--{name}" for name in ("probability", "bracket", "tolerance")
             if getattr(args, name) is not None]
    if given:
        verb = "goes" if len(given) == 1 else "go"
        raise PlanError(f"{' and '.join(given)} {verb} with --solve KEY --for TARGET (the "
                        f"search's settings); an ordinary plan has no use for them")
    results = run_plan(request)
    print(f"{results['runs']} runs ({results['skipped']} already done), {results['failed']} "
          f"stopped with an error")
    print(format_plan(results))
    print(f"results: {results['folder']}/ (plan.xlsx; targets.csv, failures.csv, "
          f"statements_by_year.csv, timing.csv, cash_out.csv, capital_needed.csv, drivers.csv, "
          f"runs.csv; plan.json; fans.png, targets.png)")
    return 0


def _solve(args: argparse.Namespace, request) -> int:
    from sim.plan.solve import SolveRequest, format_solve, run_solve

    if args.solve is None or args.target is None:
        raise PlanError("--solve KEY and --for TARGET go together, e.g. --solve "
                        "platforms.0.capital_cny --for \"cash_ran_out <= 0\" --probability 0.95")
    args.after_interrupt = "rerun the same command to resume"  # its evaluations are kept
    probability = 0.5 if args.probability is None else args.probability
    result = run_solve(request, SolveRequest(args.solve, args.target, probability,
                                             args.bracket, args.tolerance))
    print(format_solve(result))
    print(f"results: {result['folder']}/ (solve.json, trials.csv, thresholds.csv, solve.png)")
    return 0
