"""A run's folder: written whole or not at all (see :mod:`sim.outputs`), with the metadata to redo it."""

from __future__ import annotations

import platform as host
import subprocess
import time
from pathlib import Path

import sim
from sim import strict_json
from sim.company.report import company_books, write_company
from sim.folders import atomic_folder
from sim.outputs.charts import plot_overview, plot_platforms, plot_policies, plot_runs
from sim.outputs.flows import platform_monthly
from sim.outputs.statistics import summarise


def git_revision() -> str:
    """The git commit of the code that ran (with ``-dirty`` if it had changes), or ``unknown``."""
    root = Path(sim.__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "sim"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def finished(result: dict) -> dict:
    """What an experiment's or a plan's folder records when it is done: counts, version, revision."""
    return {"runs": result["runs"], "failed": result["failed"], "version": sim.__version__,
            "git_revision": git_revision(),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def metadata(model, scenario_source: str | None, elapsed_s: dict[str, float]) -> dict:
    """Run metadata: enough to reproduce the run."""
    return {
        "scenario_file": scenario_source,
        "scenario": model.config.model_dump(mode="json"),
        "seed": model.seed,
        "package": "p2psim",
        "version": sim.__version__,
        "git_revision": git_revision(),
        "python": host.python_version(),
        "machine": host.platform(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": elapsed_s,
    }


def write_run(model, out_dir: Path, scenario_source: str | None,
              elapsed_s: dict[str, float]) -> Path:
    """Write a finished run to ``out_dir`` atomically; return the folder."""
    with atomic_folder(out_dir, "run") as staging:
        frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        frame.to_parquet(staging / "timeseries.parquet", index=False)
        model.ledger.journal().to_parquet(staging / "journal.parquet", index=False)
        model.book.loans.frame().to_parquet(staging / "loans.parquet", index=False)
        monthly = platform_monthly(model)
        monthly.to_parquet(staging / "platforms.parquet", index=False)
        plot_platforms(monthly, staging / "platforms.png",
                       f"{model.config.run.name} (seed {model.seed}): platforms")
        marketing = model.datacollector.get_table_dataframe("marketing")
        marketing.to_parquet(staging / "marketing.parquet", index=False)
        plot_policies(monthly, marketing, staging / "policies.png",
                      f"{model.config.run.name} (seed {model.seed}): policies")
        if model.runs.enabled:
            runs = model.datacollector.get_table_dataframe("runs")
            runs.to_parquet(staging / "runs.parquet", index=False)
            plot_runs(runs, staging / "runs.png", f"{model.config.run.name} (seed {model.seed}): runs")
        company = company_books(model)  # the one the summary reads too
        write_company(company, staging, f"{model.config.run.name} (seed {model.seed}): company")
        (staging / "summary.json").write_text(strict_json.dumps(summarise(model, company), indent=2))
        meta = metadata(model, scenario_source, elapsed_s)
        (staging / "metadata.json").write_text(strict_json.dumps(meta, indent=2, ensure_ascii=False))
        plot_overview(frame, staging / "overview.png",
                      f"{model.config.run.name} (seed {model.seed})")
    return Path(out_dir)
