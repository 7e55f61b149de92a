"""Fingerprints of every market scenario's outputs, to show a refactor changed no number.

    .venv/bin/python benchmarks/fingerprints.py > before.json      # on the old revision
    .venv/bin/python benchmarks/fingerprints.py --compare before.json

Runs each market scenario of ``scenarios/`` (and ``examples/``) with its own seed in this process
and hashes what a user reads: the daily time series, the platforms' monthly table, the statements,
the end-of-run summary, the loan book, and the journal (its rows sorted, so a change in the order
postings are made within a day does not count, a change of any amount does). ``--days`` shortens
every run (the default runs each scenario's whole horizon).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SKIP = {"thunderstorm_2018.toml", "seed_plan_in_2018.toml"}  # industries: their results may change


def market_scenarios() -> list[Path]:
    """Every scenario file of a single market."""
    files = sorted((ROOT / "scenarios").rglob("*.toml")) + sorted((ROOT / "examples").glob("*.toml"))
    return [f for f in files if f.name not in SKIP and "[industry]" not in f.read_text()]


def digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's values and column names, row order kept.

    Integer columns are read as int64, so a column stored narrower (the loan book's int32 money
    columns) hashes as the same numbers.
    """
    frame = frame.astype({c: "int64" for c in frame.columns
                          if pd.api.types.is_integer_dtype(frame[c].dtype)})
    data = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).values
    return hashlib.sha256(data.tobytes() + ",".join(map(str, frame.columns)).encode()).hexdigest()[:16]


def fingerprint(path: Path, days: int | None) -> dict[str, str]:
    """Hashes of one scenario's outputs."""
    from sim.company.report import company_report
    from sim.model import P2PMarket
    from sim.outputs.flows import platform_monthly
    from sim.outputs.statistics import summarise

    overrides = {"run__horizon_days": days} if days else {}
    model = P2PMarket(path, audit="step", **overrides)
    model.run()
    journal = model.ledger.journal()
    journal = journal.sort_values(list(journal.columns)).reset_index(drop=True)
    company = company_report(model)
    summary = summarise(model, company)
    return {
        "timeseries": digest(model.datacollector.get_model_vars_dataframe()),
        "platforms": digest(platform_monthly(model)),
        "journal": digest(journal),
        "loans": digest(model.book.loans.frame()),
        "statements": digest(company.statements),
        "summary": hashlib.sha256(json.dumps(summary, sort_keys=True, default=str)
                                  .encode()).hexdigest()[:16],
    }


def main() -> None:
    """Print the fingerprints as JSON, or compare them with a file of earlier ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="a JSON file this script wrote before")
    parser.add_argument("--days", type=int, default=None, help="run each scenario this many days")
    parser.add_argument("--only", nargs="*", default=None, help="scenario file names to run")
    args = parser.parse_args()
    prints = {}
    for path in market_scenarios():
        if args.only and path.name not in args.only:
            continue
        started = time.perf_counter()
        prints[str(path.relative_to(ROOT))] = fingerprint(path, args.days)
        print(f"{path.relative_to(ROOT)}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.compare is None:
        print(json.dumps(prints, indent=1, sort_keys=True))
        return
    before = json.loads(args.compare.read_text())
    moved = [(name, part) for name, parts in prints.items() for part, value in parts.items()
             if before.get(name, {}).get(part) != value]
    for name, part in moved:
        print(f"MOVED {name}: {part}")
    print(f"{len(prints)} scenarios, {len(moved)} outputs moved")
    sys.exit(1 if moved else 0)


if __name__ == "__main__":
    main()
