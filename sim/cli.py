"""The ``p2psim`` command line.

``p2psim run SCENARIO [--seed N] [--out DIR]``
    Run a scenario with a progress bar, print a summary, write results to DIR.
``p2psim experiment FILE [--out DIR] [--workers N] [--executor local|process|dask] [--scheduler ADDR]``
    Run an experiment (sweep, replications, sensitivity), resumably; write its tables and figures.
``p2psim reserve SCENARIO [--paths N] [--horizon-months M] [--confidence 0.99 0.999] [--out DIR]``
    Size a reserve fund (风险准备金): loss and payout distributions, exhaustion by month, the
    initial reserve and contribution rate each confidence needs, with Monte-Carlo errors.
``p2psim board FILE [--paths N] [--out DIR]``
    Compare protection schemes on one book: the size each needs at each confidence, its cost a
    year, the probability it runs short as configured (a table and a figure for a board).
``p2psim plan SCENARIO [--runs N]``
    Test a business plan: the odds of meeting each target, statements P10/P50/P90, a spreadsheet.
``p2psim report RESULTS_DIR [RESULTS_DIR ...] [--out FILE]``
    One self-contained HTML report of a run, an experiment, a plan or a reserve study; of two or
    more folders of one kind, their comparison (key numbers with differences, series overlaid).
``p2psim dashboard [SCENARIO] [--port N]``
    Mesa's Solara dashboard on localhost: inputs, step / play / reset, live charts.
``p2psim industry FILE [--seed N] [--out DIR] [--set KEY=VALUE] [--workers N]``
    An industry of platforms and investors across them (contagion, the 2018 wave), or an
    experiment that runs it under variants (a channel off, a policy on).
``p2psim estimate FILE [--out DIR] [--workers N] [--executor local|process|dask]``
    Estimate an industry's behavioural parameters from the WDZJ data (simulated method of
    moments): estimates with errors, the moments fitted and held out, what does not fit.
``p2psim schedule --principal CNY --rate R --term N [--method M]``
    Print a loan's repayment schedule (还款计划).

A user's mistake (a bad scenario, a bad argument) prints one clear message and exits with code 2,
writing nothing; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sim import strict_json
from sim.dashboard.server import DashboardError
from sim.estimation import command as estimation_command
from sim.estimation.spec import EstimationError
from sim.experiments.spec import ExperimentError
from sim.folders import OutputFolderError
from sim.industry import command as industry_command
from sim.plan import command as plan_command
from sim.plan.errors import PlanError
from sim.policies.checks import PolicyFault
from sim.report.folder import ReportError
from sim.reserve.study import ReserveError
from sim.scenario import ScenarioError
from sim.scenario.loading import parse_set

USAGE_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
MAX_SEED = 2**63 - 1
MIN_PRINCIPAL_CNY = 0.01          # one fen
MAX_PRINCIPAL_CNY = 10_000_000_000.0  # every column exact to the fen (10^12 fen < 2^53)
AFTER_INTERRUPT = {command: "rerun the same command to resume"  # the runs finished are kept
                   for command in ("experiment", "plan", "reserve", "board", "estimate")}


class UsageError(Exception):
    """A mistake in what the user asked for."""


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.folders import check_output_folder
    from sim.model import P2PMarket
    from sim.outputs import format_summary, write_run
    from sim.scenario.files import is_industry, read_toml_file

    path = Path(args.scenario)
    if is_industry(path, read_toml_file(path, "scenario", ScenarioError)[1], UsageError):
        from sim.industry.command import run_scenario  # one command for any scenario

        return run_scenario(Path(args.scenario), args)
    started = time.perf_counter()
    overrides = dict(parse_set(item) for item in args.set)
    model = P2PMarket(args.scenario, rng=args.seed, threads=args.threads, **overrides)
    built = time.perf_counter()
    out = Path(args.out) if args.out else Path("results") / f"{model.config.run.name}-seed{model.seed}"
    check_output_folder(out, "run")  # before the run, not after it
    with tqdm(total=model.horizon_days, unit="day", disable=args.quiet, file=sys.stderr,
              desc=model.config.run.name) as bar:
        model.run(progress=lambda day: bar.update(day - bar.n))
    ran = time.perf_counter()
    elapsed = {"build": round(built - started, 3), "run": round(ran - built, 3)}
    try:
        folder = write_run(model, out, str(args.scenario), elapsed)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot write there ({error.strerror or error}); "
                         f"nothing written") from None
    print(f"{model.config.run.name}: seed {model.seed}, {model.day} days, "
          f"built in {elapsed['build']:.2f} s, ran in {elapsed['run']:.2f} s")
    print(format_summary(strict_json.loads((Path(folder) / "summary.json").read_text())))
    runs = ", runs.parquet and runs.png" if model.config.runs.enabled else ""
    print(f"results: {folder}/ (timeseries, platforms, journal, loans and statements as Parquet; "
          f"statements.csv by year; summary.json, metadata.json, overview.png, platforms.png, "
          f"policies.png, company.png{runs})")
    return 0


def _experiment(args: argparse.Namespace) -> int:
    from sim.experiments import format_result, run_experiment

    result = run_experiment(args.file, out=args.out, executor=args.executor, workers=args.workers,
                            scheduler=args.scheduler, quiet=args.quiet, overwrite=args.overwrite)
    print(format_result(result))
    return 0


def _reserve(args: argparse.Namespace) -> int:
    from sim.reserve import ReserveRequest, format_results, run_reserve_study

    request = ReserveRequest(
        scenario=args.scenario, out=args.out, paths=args.paths, horizon_months=args.horizon_months,
        confidence=tuple(args.confidence), method=args.method, stratify=not args.no_stratify,
        initial_reserve_cny=args.initial_reserve, platform=args.platform, seed=args.seed,
        workers=args.workers, executor=args.executor, scheduler=args.scheduler,
        overrides=dict(parse_set(item) for item in args.set), quiet=args.quiet,
        layer=args.layer, solve=args.solve, solver=args.solver,
        refine=args.refine, effects=args.effects)
    results = run_reserve_study(request)
    print(format_results(results))
    print(f"results: {results['folder']}/ (summary.json, requirements.csv, statistics.csv, "
          f"book.csv, closed_form.csv, closed_form_inputs.csv, tail_contributions.csv, "
          f"{'effects.csv, ' if args.effects else ''}exhaustion.csv, frontier.csv, "
          f"paths.parquet, monthly.parquet, losses.png, balance_fan.png, exhaustion.png, "
          f"frontier.png)")
    return 0


def _board(args: argparse.Namespace) -> int:
    from sim.reserve.board import format_board, run_board

    result = run_board(args.file, out=args.out, workers=args.workers, executor=args.executor,
                       paths=args.paths, quiet=args.quiet)
    print(format_board(result["rows"], result["warnings"], result["first"]))
    print(f"results: {result['folder']}/ (board.csv, board.png; schemes/NAME/: each scheme's "
          f"reserve study)")
    return 0


def _report(args: argparse.Namespace) -> int:
    from sim.report import write_comparison, write_report

    if len(args.results) > 1:
        path = write_comparison(args.results, args.out)
    else:
        path = write_report(args.results[0], args.out)
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, self-contained: open it in a "
          f"browser)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from sim.dashboard.server import serve

    return serve(args.scenario, args.host, args.port, not args.no_browser)


def _schedule(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.loans import parse_method, schedule

    if not MIN_PRINCIPAL_CNY <= args.principal <= MAX_PRINCIPAL_CNY:  # NaN fails too
        raise UsageError(f"--principal {args.principal:g}: must be {MIN_PRINCIPAL_CNY} (one fen) to "
                         f"{MAX_PRINCIPAL_CNY:,.0f} CNY")
    if not 0.0 <= args.rate <= 1.0:
        raise UsageError(f"--rate {args.rate:g}: an annual rate from 0 to 1 (0.12 for 12 %)")
    try:
        method = parse_method(args.method)
        frame = schedule(args.principal, args.rate, args.term, method)
    except ValueError as error:
        raise UsageError(str(error)) from None
    shown = frame[["month", "payment", "principal", "interest", "balance"]]
    with pd.option_context("display.max_rows", None, "display.float_format", "{:,.2f}".format):
        print(f"{args.principal:,.2f} CNY at {args.rate:.2%} a year over {args.term} months, "
              f"{method.name.lower()}")
        print(shown.to_string(index=False))
    print(f"total paid {frame.payment.sum():,.2f} CNY, interest {frame.interest.sum():,.2f} CNY")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``p2psim``."""
    parser = argparse.ArgumentParser(prog="p2psim", description="Agent-based P2P lending simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario file (a market, or an industry with its "
                                     "[industry] table)")
    run.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/baseline.toml")
    run.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    run.add_argument("--out", default=None, help="results folder (default: results/NAME-seedN)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key, e.g. --set platforms.0.service_fee=0.02")
    run.add_argument("--threads", type=int, default=None,
                     help="threads for servicing loans (default: one per core; results do not change)")
    run.add_argument("--audit", action="store_true",
                     help="an industry: check the ledger, every loan and every position to the fen "
                          "each day")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)
    exp = sub.add_parser("experiment", help="run an experiment file (sweep, replications, "
                                            "sensitivity); resumes where it stopped")
    exp.add_argument("file", help="experiment file (TOML), e.g. experiments/policy_grid.toml")
    exp.add_argument("--out", default=None, help="results folder (default: the file's or "
                                                 "results/NAME)")
    exp.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="parallel runs (default: one per core)")
    exp.add_argument("--executor", default="process", choices=["local", "process", "dask"],
                     help="where runs go: this process, a local process pool (default), or Dask")
    exp.add_argument("--scheduler", default=None,
                     help="address of a Dask scheduler (with --executor dask; default: a "
                          "LocalCluster of --workers processes)")
    exp.add_argument("--overwrite", action="store_true",
                     help="start over in a folder that holds another experiment's (or an earlier "
                          "version's) runs; never writes into a folder p2psim did not make")
    exp.add_argument("--quiet", action="store_true", help="no progress bar")
    exp.set_defaults(func=_experiment)
    res = sub.add_parser("reserve", help="size a reserve fund (风险准备金) or a guarantor's capital: "
                                         "losses, payouts, exhaustion probability, requirements")
    res.add_argument("scenario", help="scenario file with a reserve_fund platform, e.g. "
                                      "scenarios/reserve_fund.toml")
    res.add_argument("--layer", default="reserve_fund", choices=["reserve_fund", "guarantor"],
                     help="the protection layer sized (default: the reserve fund)")
    res.add_argument("--solver", default="auto", choices=["auto", "one-run", "root-finding"],
                     help="one run for every size, or root-finding over it where the layer's path "
                          "depends on its size (default auto: chosen, and said why)")
    res.add_argument("--refine", default="near-quantiles",
                     choices=["near-quantiles", "every-path"],
                     help="root-finding for a size: solve only the paths that can move a quantile "
                          "asked for (default; the others keep a bound), or every path")
    res.add_argument("--solve", default="size", choices=["size", "principal_share", "fee_share"],
                     help="root-finding's unknown: the layer's size (initial reserve, guarantor "
                          "capital; default) or a reserve's principal or fee share")
    res.add_argument("--out", default=None, help="results folder (default: results/reserve-NAME)")
    res.add_argument("--paths", type=int, default=400, help="market paths to run (default 400)")
    res.add_argument("--horizon-months", type=int, default=None,
                     help="months studied (default: the scenario's horizon)")
    res.add_argument("--confidence", type=float, nargs="+", default=[0.99, 0.999],
                     help="confidence levels (default 0.99 0.999)")
    res.add_argument("--method", default="importance", choices=["importance", "plain"],
                     help="importance sampling of the macro factor's tail (default) or plain MC")
    res.add_argument("--no-stratify", action="store_true",
                     help="draw the macro factor without strata")
    res.add_argument("--initial-reserve", type=float, default=None, metavar="CNY",
                     help="initial reserve for the exhaustion probabilities and the contribution "
                          "rate (default: the scenario's initial_cny)")
    res.add_argument("--platform", default=None, help="platform studied (if several keep a "
                                                      "reserve)")
    res.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    res.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key")
    res.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="parallel paths (default: one per core)")
    res.add_argument("--effects", action="store_true",
                     help="also run one side study per effect that separates the simulation from "
                          "the closed form (a fixed downturn, the economy moving, dispersion, "
                          "cures, late recoveries), each switched off: effects.csv")
    res.add_argument("--executor", default="process", choices=["local", "process", "dask"],
                     help="where paths run: this process, a process pool (default), or Dask")
    res.add_argument("--scheduler", default=None, help="address of a Dask scheduler")
    res.add_argument("--quiet", action="store_true", help="no progress bar")
    res.set_defaults(func=_reserve)
    board = sub.add_parser("board", help="compare protection schemes on one book: size needed, "
                                         "cost a year, probability of running short")
    board.add_argument("file", help="comparison file, e.g. experiments/protection_board.toml")
    board.add_argument("--paths", type=int, default=None,
                       help="paths per scheme (default: the file's)")
    board.add_argument("--out", default=None, help="results folder (default: results/board-NAME)")
    board.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="parallel paths (default: one per core)")
    board.add_argument("--executor", default="process", choices=["local", "process", "dask"],
                       help="where paths run (default: a process pool)")
    board.add_argument("--quiet", action="store_true", help="no progress bars")
    board.set_defaults(func=_board)
    plan_command.add_parser(sub)
    rep = sub.add_parser("report", help="one self-contained HTML report of a results folder, or "
                                        "several of one kind side by side")
    rep.add_argument("results", metavar="RESULTS_DIR", nargs="+",
                     help="folder of a run, an experiment, a plan or a reserve study; two or "
                          "more: their comparison")
    rep.add_argument("--out", default=None, help="HTML file (default: RESULTS_DIR/report.html; "
                                                 "for a comparison ./comparison.html)")
    rep.set_defaults(func=_report)
    dash = sub.add_parser("dashboard", help="Mesa's Solara dashboard of a scenario, in a browser")
    dash.add_argument("scenario", nargs="?", default="scenarios/baseline.toml",
                      help="scenario file (default: scenarios/baseline.toml)")
    dash.add_argument("--port", type=int, default=8765, help="port on localhost (default 8765)")
    dash.add_argument("--host", default="localhost", help="address to serve on (default localhost)")
    dash.add_argument("--no-browser", action="store_true", help="do not open a browser")
    dash.set_defaults(func=_dashboard)
    sched = sub.add_parser("schedule", help="print a loan's repayment schedule")
    sched.add_argument("--principal", type=float, required=True, help="amount, CNY")
    sched.add_argument("--rate", type=float, required=True, help="annual rate, e.g. 0.12")
    sched.add_argument("--term", type=int, required=True, help="months, 1-60")
    sched.add_argument("--method", default="annuity",
                       help="annuity (等额本息), equal_principal (等额本金), interest_only (先息后本), "
                            "bullet (到期还本付息)")
    sched.set_defaults(func=_schedule)
    industry_command.add_parser(sub)
    estimation_command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    if getattr(args, "seed", None) is not None and not 0 <= args.seed <= MAX_SEED:
        print(f"p2psim: error: --seed must be 0 to {MAX_SEED:,}", file=sys.stderr)
        return USAGE_ERROR
    if getattr(args, "out", None) is not None and not args.out.strip():
        print("p2psim: error: --out '': give a folder (or, for report, a file) name, or leave "
              "--out out for the default", file=sys.stderr)
        return USAGE_ERROR
    if getattr(args, "threads", None) is not None and not 1 <= args.threads <= os.cpu_count():
        print(f"p2psim: error: --threads must be 1..{os.cpu_count()}", file=sys.stderr)
        return USAGE_ERROR
    try:
        return args.func(args)
    except (ScenarioError, UsageError, ExperimentError, ReserveError, OutputFolderError,
            PlanError, ReportError, DashboardError, EstimationError) as error:
        print(f"p2psim: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except PolicyFault as fault:
        print(f"p2psim: error: {fault}", file=sys.stderr)
        if fault.user_traceback:
            print(f"\nwhere, in your code:\n{fault.user_traceback}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        after = getattr(args, "after_interrupt", None) or AFTER_INTERRUPT.get(args.command,
                                                                              "nothing written")
        print(f"\np2psim: interrupted; {after}", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
