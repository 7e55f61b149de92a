"""One run of a plan: its market, its company's statements, and what the plan study keeps of it.

:func:`run_plan_one` is what the executors run (:func:`sim.experiments.runner.execute`); its
record has the keys of an experiment's run (so the same resumable store keeps it) and ``plan``:
each target's figure and whether it was met, the once-per-run figures, the statements by year and
the monthly figures that the fan charts need.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sim.company.report import plain_number
from sim.experiments.runner import describe_failure

FAN_FIGURES = ("cash_cny", "net_income_cny", "revenue_cny", "equity_cny", "daily_volume_cny")
"""Monthly figures kept for the fan charts."""


@dataclass(frozen=True)
class PlanTask:
    """Everything a worker needs to make one run of a plan (plain data)."""

    run: int
    seed: int
    scenario: str
    overrides: dict[str, Any]
    draws: dict[str, float]


def run_plan_one(task: PlanTask) -> dict[str, Any]:
    """Run one market of the plan and return its record."""
    started = time.perf_counter()
    record: dict[str, Any] = {"run": task.run, "point": task.run, "replication": 0,
                              "seed": task.seed, "params": task.draws, "statistics": {},
                              "timeseries": {}}
    model = None
    try:
        from sim.company.report import company_report, yearly_statements
        from sim.model import P2PMarket

        model = P2PMarket(task.scenario, rng=task.seed, audit="off", threads=1, **task.overrides)
        model.run()
        report = company_report(model)
        name = model.config.plan.platform or model.platforms[0].name
        record["status"] = "ok"
        record["plan"] = plan_record(report, yearly_statements(report), name)
        mine = next(p for p in model.platforms if p.name == name)
        record["plan"]["failure"] = failure_of(mine)
    except Exception:  # noqa: BLE001 - any failure inside the model is recorded, not raised
        record["status"] = "failed"
        record["error"] = describe_failure()
    finally:
        if model is not None:
            model.release()
    record["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


def failure_of(platform) -> dict[str, Any] | None:
    """How the plan's platform failed in a run: its day, its exit (清盘 ...) and why; None if it lived."""
    run = platform.run
    if run.failed_day is None:
        return None
    return {"day": int(run.failed_day), "state": run.state.label, "reason": run.failure_reason}


def plan_record(report, yearly, name: str) -> dict[str, Any]:
    """What the study keeps of one run of platform ``name``: targets, figures, statements."""
    mine = yearly[yearly.platform == name]
    years = [c for c in mine.columns if c.startswith("year_")]
    monthly = report.monthly[name]
    return {
        "targets": [{"value": plain_number(t["value"]), "met": t["met"]} for t in report.targets],
        "once": {k: plain_number(v) for k, v in report.once[name].items()},
        "statements": {f"{s}:{line}": [plain_number(v) for v in row]
                       for s, line, row in zip(mine.statement, mine.line, mine[years].to_numpy())},
        "monthly": {k: [plain_number(v) for v in monthly[k].to_numpy()] for k in FAN_FIGURES},
    }
