"""A careful trial of hostile inputs over every command, as a new user who tries to break it would.

Each case runs ``p2psim`` in a sandbox of its own (a fresh folder holding the inputs it needs and a
user's file, ``notes.txt``, in the folder and inside the results folder where one is aimed at) and
is judged on what a user would see (every fourth results folder aimed at holds a user's file first,
so the command must refuse it):

* ``traceback``: a Python traceback, or an exit code other than 0, 2 or 130;
* ``lost file``: a user's file (or an input) changed, moved or deleted;
* ``silently wrong``: a case built to be invalid (a number out of its range, a value of the wrong
  type, a name that cannot be a folder, ...) that the command accepted and ran with;
* ``clean``: refused with ``p2psim: error:`` (or argparse's usage message) and exit code 2, or,
  where the input may be valid, run to the end, or interrupted (Ctrl-C after ``--limit`` seconds)
  with exit code 130 and "interrupted" said.

The cases are drawn from the shipped files by seeded mutations (a value replaced by one of a list
of hostile values, a key removed or added, the file's encoding or structure broken) and from option
lists per command; the same ``--seed`` draws the same cases. Files are shrunk first (a short
horizon, few investors, few paths) so a case that is accepted finishes or is interrupted quickly.

    .venv/bin/python benchmarks/hostile_trial.py --cases 400 --workers 2 --out trial.csv

prints the counts by outcome and command and lists every case that is not clean; the CSV holds
every case (command, what was changed, exit code, outcome, the last line of stderr).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTE = "a user's own notes: p2psim must never touch this\n"

# values that no numeric key accepts (refuse), and values that may or may not be valid (any)
INVALID_NUMBERS = ["nan", "inf", "-inf", "1e400", '"12"', "true", "[]", "{}", '"一百"', "1e999"]
DOUBTFUL_NUMBERS = ["-1", "0", "1e15", "-0.0", "0.5", "99999999", "1e-300", "7"]
INVALID_STRINGS = ["42", "true", "[1]", "{}", '"' + "长" * 120 + '"', '"\\u0000"',
                   '"' + "x" * 400 + '"']
DOUBTFUL_STRINGS = ['""', '"   "', '"2018-02-30"', '"../../etc"', '"NaN"', '"月"',
                    '"a///b"']  # a free-text name (a board's scheme) may hold slashes
INVALID_LISTS = ['"oops"', "3", "[[[[1]]]]", "[nan]", '[1, "a"]', "{}"]
DOUBTFUL_LISTS = ["[]", "[0]", "[-1, 2]", "[1e15]", "[0.5, 0.5, 0.5]"]


@dataclass
class Case:
    """One input tried: the command line, the files it needs, what it should do."""

    command: str
    change: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    expect: str = "any"  # "refuse": the input is invalid by construction; "any": may be valid
    aim: str | None = None  # a results folder the case writes to
    user_file_inside: bool = False  # a user's file put in it first (then it must be refused)


# --------------------------------------------------------------------------- shrinking

def _shrunk_scenario(text: str) -> str:
    if "capital_raises" not in text and "[plan]" not in text:  # a plan's dates need its horizon
        text = re.sub(r"(?m)^horizon_days\s*=.*$", "horizon_days = 400", text)
    text = re.sub(r"(?m)^(\[investors\][^\[]*?\n)count\s*=[^\n]*$", r"\1count = 1500", text)
    return text


def _shrunk_industry(text: str) -> str:
    text = re.sub(r"(?m)^platforms\s*=\s*\d+.*$", "platforms = 30", text)
    return re.sub(r"(?m)^investors\s*=\s*\d[\d_]*.*$", "investors = 3000", text)


def _absolute_scenario(text: str, scenario: str) -> str:
    return re.sub(r'(?m)^scenario\s*=.*$', f'scenario = "{scenario}"', text)


def _read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- mutations

VALUE_LINE = re.compile(r'(?m)^(?P<key>[A-Za-z_][\w."]*)\s*=\s*(?P<value>[^#\n]+?)\s*(#.*)?$')


def _kind(value: str) -> str:
    if value.startswith('"') or value.startswith("'"):
        return "string"
    if value.startswith("["):
        return "list"
    if value.startswith("{"):
        return "table"
    if value in ("true", "false"):
        return "bool"
    return "number"


def _mutations(text: str, rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """``count`` mutated copies of ``text``: (change, new text, expect)."""
    lines = [m for m in VALUE_LINE.finditer(text)]
    out = []
    for _ in range(count):
        roll = rng.random()
        match = rng.choice(lines)
        key, value = match.group("key"), match.group("value")
        kind = _kind(value)
        if roll < 0.08:  # the key removed
            new = text[:match.start()] + text[match.end():]
            out.append((f"{key} removed", new, "any"))
            continue
        if roll < 0.14:  # an unknown key beside it
            new = text[:match.start()] + f"{key}_typo = 1\n" + text[match.start():]
            out.append((f"unknown key {key}_typo", new, "refuse"))
            continue
        if roll < 0.18:  # the same key twice: TOML refuses
            new = text[:match.end()] + f"\n{key} = {value}" + text[match.end():]
            out.append((f"{key} given twice", new, "refuse"))
            continue
        invalid, doubtful = {"number": (INVALID_NUMBERS, DOUBTFUL_NUMBERS),
                             "string": (INVALID_STRINGS, DOUBTFUL_STRINGS),
                             "list": (INVALID_LISTS, DOUBTFUL_LISTS),
                             "table": (['"x"', "1", "[1]"], ["{}"]),
                             "bool": (['"yes"', "2", "[]"], ["false", "true"])}[kind]
        if rng.random() < 0.55:
            replacement, expect = rng.choice(invalid), "refuse"
        else:
            replacement, expect = rng.choice(doubtful), "any"
        if kind == "string" and replacement == "42" and key in ("seed",):
            expect = "any"
        new = text[:match.start("value")] + replacement + text[match.end("value"):]
        out.append((f"{key} = {replacement[:40]}", new, expect))
    return out


def _broken_files(rng: random.Random, text: str) -> list[tuple[str, bytes, str]]:
    """Whole-file breakage: encodings, truncation, binary, nesting."""
    cut = rng.randrange(10, max(11, len(text) - 10))
    return [
        ("encoded GBK", text.encode("gbk", errors="replace"), "any"),
        ("encoded UTF-16", text.encode("utf-16"), "refuse"),
        ("truncated mid-file", text[:cut].encode(), "any"),
        ("binary garbage", bytes(rng.randrange(256) for _ in range(600)), "refuse"),
        ("empty file", b"", "refuse"),
        ("a 3,000-deep nested array", (text + "\nzz = " + "[" * 3000 + "]" * 3000).encode(),
         "refuse"),
        ("CRLF line ends and a BOM", ("\ufeff" + text.replace("\n", "\r\n")).encode(), "any"),
    ]


# --------------------------------------------------------------------------- cases by command

def run_cases(rng: random.Random, n: int) -> list[Case]:
    """Scenario files mutated, broken whole, and hostile options of ``p2psim run``."""
    cases = []
    bases = ["scenarios/baseline.toml", "scenarios/fund_pool.toml", "scenarios/layered_protection.toml",
             "scenarios/run_fund_pool.toml", "scenarios/two_platforms.toml",
             "scenarios/seed_business_plan.toml", "scenarios/online_offline.toml"]
    per = max(1, n // len(bases))
    for base in bases:
        text = _shrunk_scenario(_read(base))
        for change, new, expect in _mutations(text, rng, per):
            cases.append(Case("run", f"{base}: {change}", ["run", "s.toml", "--out", "out", "--quiet"],
                              {"s.toml": new.encode()}, expect, aim="out"))
    text = _shrunk_scenario(_read("scenarios/baseline.toml"))
    for change, data, expect in _broken_files(rng, text):
        cases.append(Case("run", f"baseline: {change}", ["run", "s.toml", "--out", "out", "--quiet"],
                          {"s.toml": data}, expect, aim="out"))
    options = [(["--seed", "-5"], "refuse"), (["--seed", "abc"], "refuse"),
               (["--threads", "0"], "refuse"), (["--threads", "999"], "refuse"),
               (["--set", "investors.count=-3"], "refuse"), (["--set", "nokey"], "refuse"),
               (["--set", "run.horizon_days=1e9"], "refuse"), (["--set", "grades.names=[]"], "refuse"),
               (["--out", ""], "refuse"), (["--out", "/proc/p2psim"], "refuse"),
               (["--out", "notes.txt"], "refuse"), (["--out", "/"], "refuse"),
               (["--set", "platforms.0.service_fee=0.5"], "any"),
               (["--audit", "--set", "run.horizon_days=30"], "any")]
    for extra, expect in options:
        argv = ["run", "s.toml", "--quiet", *extra]
        if "--out" not in extra:
            argv += ["--out", "out"]
        cases.append(Case("run", f"option {' '.join(extra)}", argv, {"s.toml": text.encode()},
                          expect, aim="out"))
    return cases


def experiment_cases(rng: random.Random, n: int) -> list[Case]:
    """Experiment files mutated (replications, a grid, a Sobol design)."""
    cases = []
    scenario = _shrunk_scenario(_read("scenarios/baseline.toml"))
    for base in ("experiments/replications.toml", "experiments/policy_grid.toml",
                 "experiments/sobol_profit.toml"):
        text = _absolute_scenario(_read(base), "s.toml")
        text = re.sub(r"(?m)^replications\s*=.*$", "replications = 2", text)
        text = re.sub(r"(?m)^samples\s*=.*$", "samples = 4", text)
        for change, new, expect in _mutations(text, rng, n // 3):
            cases.append(Case("experiment", f"{base}: {change}",
                              ["experiment", "e.toml", "--out", "out", "--quiet", "--workers", "1",
                               "--executor", "local"],
                              {"e.toml": new.encode(), "s.toml": scenario.encode()}, expect,
                              aim="out"))
    return cases


def plan_cases(rng: random.Random, n: int) -> list[Case]:
    """The seed plan's ``[plan]`` table mutated, and hostile options of ``p2psim plan``."""
    text = _shrunk_scenario(_read("scenarios/seed_business_plan.toml"))
    plan_part = text.index("[plan]")
    head, tail = text[:plan_part], text[plan_part:]
    cases = []
    for change, new, expect in _mutations(tail, rng, n - 6):
        cases.append(Case("plan", f"[plan]: {change}",
                          ["plan", "p.toml", "--runs", "2", "--workers", "1", "--executor", "local",
                           "--out", "out", "--quiet"], {"p.toml": (head + new).encode()}, expect,
                          aim="out"))
    for extra, expect in ((["--runs", "0"], "refuse"), (["--runs", "100000000"], "refuse"),
                          (["--workers", "0"], "refuse"), (["--runs", "x"], "refuse"),
                          (["--seed", "-1"], "refuse"), (["--runs", "1"], "any")):
        argv = ["plan", "p.toml", "--workers", "1", "--executor", "local", "--out", "out",
                "--quiet", *extra]
        if "--runs" not in extra:
            argv += ["--runs", "2"]
        cases.append(Case("plan", f"option {' '.join(extra)}", argv, {"p.toml": text.encode()},
                          expect, aim="out"))
    return cases


def reserve_cases(rng: random.Random, n: int) -> list[Case]:
    """A reserve scenario mutated, and hostile options of ``p2psim reserve``."""
    text = _shrunk_scenario(_read("scenarios/reserve_fund.toml"))
    cases = []
    for change, new, expect in _mutations(text, rng, n // 2):
        cases.append(Case("reserve", f"reserve_fund: {change}",
                          ["reserve", "r.toml", "--paths", "3", "--workers", "1", "--executor",
                           "local", "--out", "out", "--quiet"], {"r.toml": new.encode()}, expect,
                          aim="out"))
    options = [(["--paths", "0"], "refuse"), (["--paths", "-4"], "refuse"),
               (["--paths", "100000000"], "refuse"), (["--confidence", "1.5"], "refuse"),
               (["--confidence", "0"], "refuse"), (["--confidence", "nan"], "refuse"),
               (["--horizon-months", "0"], "refuse"), (["--horizon-months", "999"], "refuse"),
               (["--initial-reserve", "-1"], "refuse"), (["--initial-reserve", "inf"], "refuse"),
               (["--platform", "nobody"], "refuse"), (["--layer", "guarantor"], "refuse"),
               (["--method", "magic"], "refuse"), (["--solve", "fee_share"], "any"),
               (["--workers", "0"], "refuse"), (["--set", "macro.asset_correlation=1.0"], "refuse"),
               (["--confidence", "0.5"], "any"), (["--seed", "1e3"], "refuse")]
    for extra, expect in options[: max(0, n - len(cases))]:
        argv = ["reserve", "r.toml", "--workers", "1", "--executor", "local", "--out", "out",
                "--quiet", *extra]
        if "--paths" not in extra:
            argv += ["--paths", "3"]
        cases.append(Case("reserve", f"option {' '.join(extra)}", argv, {"r.toml": text.encode()},
                          expect, aim="out"))
    return cases


def board_cases(rng: random.Random, n: int) -> list[Case]:
    """The protection board's file mutated, and hostile options of ``p2psim board``."""
    scenario = _shrunk_scenario(_read("scenarios/layered_protection.toml"))
    text = _absolute_scenario(_read("experiments/protection_board.toml"), "s.toml")
    text = re.sub(r"(?m)^paths\s*=.*$", "paths = 2", text)
    cases = []
    for change, new, expect in _mutations(text, rng, n - 4):
        cases.append(Case("board", f"protection_board: {change}",
                          ["board", "b.toml", "--workers", "1", "--executor", "local", "--out",
                           "out", "--quiet"], {"b.toml": new.encode(), "s.toml": scenario.encode()},
                          expect, aim="out"))
    for extra, expect in ((["--paths", "0"], "refuse"), (["--paths", "-1"], "refuse"),
                          (["--workers", "0"], "refuse"), (["--out", "notes.txt"], "refuse")):
        argv = ["board", "b.toml", "--workers", "1", "--executor", "local", "--quiet", *extra]
        if "--out" not in extra:
            argv += ["--out", "out"]
        cases.append(Case("board", f"option {' '.join(extra)}", argv,
                          {"b.toml": text.encode(), "s.toml": scenario.encode()}, expect,
                          aim="out"))
    return cases


def industry_cases(rng: random.Random, n: int) -> list[Case]:
    """The 2018 wave's scenario mutated, and a platforms file with bad cells."""
    text = _shrunk_industry(_read("scenarios/thunderstorm_2018.toml"))
    cases = []
    for change, new, expect in _mutations(text, rng, n - 12):
        cases.append(Case("industry", f"thunderstorm_2018: {change}",
                          ["industry", "i.toml", "--out", "out", "--quiet"],
                          {"i.toml": new.encode()}, expect, aim="out"))
    rows = (ROOT / "data" / "wdzj_platforms.csv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    scenario = text.replace("[industry]\n", '[industry]\nplatforms_file = "p.csv"\n', 1)
    for value, column, expect in (("50", "annual_yield", "refuse"), ("-1", "annual_yield", "refuse"),
                                  ("garbage", "launch_month", "refuse"),
                                  ("2030-01", "launch_month", "refuse"),
                                  ("nan", "outstanding_cny", "refuse"),
                                  ("-5", "investors", "refuse"), ("alien", "owner_type", "refuse"),
                                  ("", "name", "any"), ("1e300", "monthly_volume_cny", "refuse"),
                                  ("0.1", "annual_yield", "any")):
        broken = list(rows)
        cells = broken[3].split(",")
        cells[header.index(column)] = value
        broken[3] = ",".join(cells)
        cases.append(Case("industry", f"platforms file: {column} = {value!r}",
                          ["industry", "i.toml", "--out", "out", "--quiet"],
                          {"i.toml": scenario.encode(), "p.csv": "\n".join(broken).encode()},
                          expect, aim="out"))
    cases.append(Case("industry", "platforms file: header only",
                      ["industry", "i.toml", "--out", "out", "--quiet"],
                      {"i.toml": scenario.encode(), "p.csv": (rows[0] + "\n").encode()}, "refuse",
                      aim="out"))
    cases.append(Case("industry", "platforms file: GBK",
                      ["industry", "i.toml", "--out", "out", "--quiet"],
                      {"i.toml": scenario.encode(),
                       "p.csv": "\n".join(rows).encode("gbk", errors="replace")}, "any", aim="out"))
    return cases


def estimation_cases(rng: random.Random, n: int) -> list[Case]:
    """The estimation file mutated, on a small industry (30 platforms, few points)."""
    scenario = _shrunk_industry(_read("scenarios/thunderstorm_2018.toml"))
    text = _absolute_scenario(_read("estimation/wave_2018.toml"), "s.toml")
    for key, value in (("points", 16), ("replications", 1), ("check_replications", 2),
                       ("refine_points", 0)):
        text = re.sub(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
    cases = []
    for change, new, expect in _mutations(text, rng, n):
        cases.append(Case("estimate", f"wave_2018: {change}",
                          ["estimate", "e.toml", "--out", "out", "--quiet", "--workers", "1",
                           "--executor", "local"],
                          {"e.toml": new.encode(), "s.toml": scenario.encode()}, expect,
                          aim="out"))
    return cases


def report_cases(rng: random.Random, folders: dict[str, Path]) -> list[Case]:
    """Tampered copies of real results folders, and hostile --out targets."""
    cases = []
    tampers = [
        ("summary.json", b"{not json"), ("summary.json", b'{"a": NaN, "b": Infinity}'),
        ("summary.json", b"[]"), ("summary.json", b""), ("metadata.json", b"{}"),
        ("monthly.csv", b"\x00\x01garbage"), ("requirements.csv", b""), ("board.csv", b"a,b\n1"),
        ("experiment.json", b'{"inputs": [1, 2], "runs": 2}'), (".p2psim.json", b"{}"),
        (".p2psim.json", b'{"kind": "martian"}'), ("timeseries.parquet", b"PAR1garbage"),
        ("paths.parquet", b""), ("statements.csv", "金额,年\n一,二\n".encode("gbk")),
    ]
    for kind, folder in folders.items():
        for name, data in tampers:
            if not (folder / name).exists() and name != ".p2psim.json":
                continue
            cases.append(Case("report", f"{kind} folder with {name} = {data[:20]!r}",
                              ["report", f"copy-{kind}", "--out", "r.html"],
                              {f"@copy-{kind}": str(folder).encode(), f"copy-{kind}/{name}": data},
                              # the report reads no Parquet file (its figures are the PNGs)
                              "any" if name == "statements.csv" or name.endswith(".parquet")
                              else "refuse"))
    some = next(iter(folders.items()))
    for target, expect in (("notes.txt", "refuse"), ("/dev/null", "refuse"), ("", "refuse"),
                           ("/proc/x.html", "refuse"), (f"copy-{some[0]}/summary.json", "refuse"),
                           ("nowhere/deep/r.html", "any"), ("r.html", "any")):
        cases.append(Case("report", f"{some[0]} report --out {target!r}",
                          ["report", f"copy-{some[0]}", "--out", target],
                          {f"@copy-{some[0]}": str(some[1]).encode()}, expect))
    cases.append(Case("report", "report of a folder that is a file", ["report", "notes.txt"], {},
                      "refuse"))
    return cases


def other_cases() -> list[Case]:
    """``schedule``, ``dashboard`` and the command line itself."""
    cases = []
    for values, expect in ((["100000", "0.1", "12"], "any"), (["-5", "0.1", "12"], "refuse"),
                           (["1e30", "0.1", "12"], "refuse"), (["1000", "nan", "12"], "refuse"),
                           (["1000", "0.1", "0"], "refuse"), (["0.001", "0.1", "12"], "refuse"),
                           (["1000", "5", "12"], "refuse"), (["1000", "0.1", "1.5"], "refuse")):
        extra = [f"--{flag}={value}" for flag, value in zip(("principal", "rate", "term"), values,
                                                              strict=True)]
        cases.append(Case("schedule", " ".join(extra), ["schedule", *extra], {}, expect))
    cases.append(Case("schedule", "--method x", ["schedule", "--principal", "1000", "--rate",
                                                 "0.1", "--term", "12", "--method", "x"], {},
                      "refuse"))
    for extra, expect in ((["--host", "999.1.1.1"], "refuse"), (["--host", "8.8.8.8"], "refuse"),
                          (["--port", "0"], "refuse"), (["--port", "70000"], "refuse"),
                          (["--port", "-1"], "refuse"), (["nofile.toml"], "refuse")):
        cases.append(Case("dashboard", " ".join(extra), ["dashboard", *extra], {}, expect))
    for argv, expect in ((["frobnicate"], "refuse"), ([], "refuse"), (["run"], "refuse"),
                         (["run", "nofile.toml"], "refuse"), (["run", "."], "refuse"),
                         (["experiment", "s.toml"], "refuse"), (["board", "s.toml"], "refuse"),
                         (["industry", "s.toml"], "refuse")):
        cases.append(Case("cli", " ".join(argv) or "(nothing)", argv,
                          {"s.toml": _shrunk_scenario(_read("scenarios/baseline.toml")).encode()},
                          expect))
    return cases + hardening_iii_cases()


def hardening_iii_cases() -> list[Case]:
    """The classes of the third trial, each a refusal.

    Names that cannot be folders, settings that were ignored, files given to the wrong command,
    keys at fault in the base they come from.
    """
    seed, wave = "scenarios/seed_business_plan.toml", "scenarios/thunderstorm_2018.toml"
    base = _shrunk_scenario(_read("scenarios/baseline.toml"))
    cases = [Case("run", "--out of 300 characters", ["run", "s.toml", "--out", "x" * 300],
                  {"s.toml": base.encode()}, "refuse"),
             Case("run", "an estimation file", ["run", str(ROOT / "estimation/wave_2018.toml")],
                  {}, "refuse"),
             Case("industry", "an estimation file",
                  ["industry", str(ROOT / "estimation/wave_2018.toml")], {}, "refuse"),
             Case("run", "a base with a bad key", ["run", "child.toml"],
                  {"base.toml": base.replace("count = 1500", "count = -5", 1).encode(),
                   "child.toml": b'based_on = "base.toml"\n'}, "refuse"),
             Case("plan", "--probability without --solve",
                  ["plan", str(ROOT / seed), "--runs", "2", "--probability", "0.9"], {}, "refuse")]
    for key, value, command, scenario in (
            ("platforms.0.liquidity.capital_call_limit_cny", "-0.5", "run",
             "scenarios/custody_vs_none.toml"),
            ("platforms.0.guarantee.unearned_fee_share", "0.3", "run",
             "scenarios/guarantor_p2b.toml"),
            ("industry.mean_platforms_per_investor", "20", "run", wave),
            ("run.horizon_days", "20", "run", wave),
            ("platforms.0.industry.launch", '"2099-01"', "run", "scenarios/seed_plan_in_2018.toml"),
            ("platforms.0.name", '"industry-3"', "run", "scenarios/seed_plan_in_2018.toml"),
            ("plan.targets", '["revenue_growth[year=1] >= 0.1"]', "run", seed)):
        extra = ["--set", f"{key}={value}"] + (["--set", "industry.platforms=20"]
                                                if "mean_platforms" in key else [])
        cases.append(Case(command, f"{key}={value}", [command, str(ROOT / scenario), *extra], {},
                          "refuse"))
    return cases


# --------------------------------------------------------------------------- running one case

def _digest(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink()}


def _sandbox(case: Case, root: Path) -> None:
    for name, data in case.files.items():
        if name.startswith("@"):  # a copy of a folder
            shutil.copytree(data.decode(), root / name[1:])
    for name, data in case.files.items():
        if not name.startswith("@"):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    (root / "notes.txt").write_text(NOTE)
    if case.aim and case.user_file_inside:
        (root / case.aim).mkdir(exist_ok=True)
        (root / case.aim / "notes.txt").write_text(NOTE)


def run_case(case: Case, limit: float) -> dict[str, str]:
    """Run one case in a sandbox of its own and judge what the user saw."""
    root = Path(tempfile.mkdtemp(prefix="p2psim-trial-"))
    try:
        _sandbox(case, root)
        inputs = {name: digest for name, digest in _digest(root).items()}
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1"}
        process = subprocess.Popen([sys.executable, "-m", "sim.cli", *case.argv], cwd=root, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   errors="replace", start_new_session=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        interrupted = False
        try:
            out, err = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            interrupted = True
            os.killpg(process.pid, signal.SIGINT)
            try:
                out, err = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                out, err = process.communicate()
        code = process.returncode
        after = _digest(root)
        lost = [name for name, digest in inputs.items()
                if after.get(name) != digest and not name.startswith("copy-")]
        inside = f"{case.aim}/notes.txt" if case.aim and case.user_file_inside else None
        lost += [name for name in ("notes.txt", inside)
                 if name and after.get(name) != hashlib.sha256(NOTE.encode()).hexdigest()]
        outcome = _judge(case, code, err, interrupted, lost)
        last = (err.strip().splitlines() or [""])[-1][:200]
        first = next((line for line in err.splitlines() if "error" in line), last)[:300]
        return {"command": case.command, "change": case.change, "argv": " ".join(case.argv),
                "expect": case.expect, "exit": str(code), "interrupted": str(interrupted),
                "outcome": outcome, "lost": ";".join(sorted(set(lost))), "message": first}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _judge(case: Case, code: int, err: str, interrupted: bool, lost: list[str]) -> str:
    if lost:
        return "lost file"
    if "Traceback" in err or code not in (0, 2, 130):
        return "traceback"
    if code == 130 and "interrupted" not in err:
        return "traceback"
    if code == 2 and not ("p2psim: error:" in err or "usage:" in err):
        return "unclear"
    if (case.expect == "refuse" or case.user_file_inside) and code != 2:
        return "silently wrong"
    return "clean"


def results_folders(work: Path) -> dict[str, Path]:
    """Small real results folders of each kind, for the report cases."""
    scenario = work / "s.toml"
    scenario.write_text(_shrunk_scenario(_read("scenarios/reserve_fund.toml")), encoding="utf-8")
    plan = work / "p.toml"
    plan.write_text(_shrunk_scenario(_read("scenarios/seed_business_plan.toml")), encoding="utf-8")
    experiment = work / "e.toml"
    experiment.write_text(_absolute_scenario(re.sub(r"(?m)^replications\s*=.*$", "replications = 2",
                                                    _read("experiments/replications.toml")),
                                             str(scenario)), encoding="utf-8")
    commands = {"run": ["run", str(scenario), "--out", str(work / "run")],
                "reserve": ["reserve", str(scenario), "--paths", "3", "--out", str(work / "reserve"),
                            "--workers", "1", "--executor", "local"],
                "plan": ["plan", str(plan), "--runs", "2", "--out", str(work / "plan"),
                         "--workers", "1", "--executor", "local"],
                "experiment": ["experiment", str(experiment), "--out", str(work / "experiment"),
                               "--workers", "1", "--executor", "local"]}
    for kind, argv in commands.items():
        subprocess.run([sys.executable, "-m", "sim.cli", *argv, "--quiet"], cwd=ROOT, check=True,
                       capture_output=True)
    return {kind: work / kind for kind in commands}


def main() -> int:
    """Draw the cases, run them, write the CSV and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=400, help="about this many cases")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=float, default=25.0,
                        help="seconds a case may run before it is interrupted (Ctrl-C)")
    parser.add_argument("--out", default="trial.csv")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="p2psim-trial-folders-"))
    n = args.cases
    cases = (run_cases(rng, int(n * 0.30)) + experiment_cases(rng, int(n * 0.09))
             + plan_cases(rng, int(n * 0.10)) + reserve_cases(rng, int(n * 0.09))
             + board_cases(rng, int(n * 0.09)) + industry_cases(rng, int(n * 0.12))
             + estimation_cases(rng, int(n * 0.04))
             + report_cases(rng, results_folders(work)) + other_cases())
    for i, case in enumerate(cases):  # every fourth results folder holds a user's file first
        case.user_file_inside = case.aim is not None and i % 4 == 0
    print(f"{len(cases)} cases on {args.workers} workers", file=sys.stderr)
    started = time.perf_counter()
    rows = []
    with ThreadPoolExecutor(args.workers) as pool:
        for i, row in enumerate(pool.map(lambda c: run_case(c, args.limit), cases)):
            rows.append(row)
            if row["outcome"] != "clean":
                print(f"[{i}] {row['outcome']}: {row['command']}: {row['change']} -> exit "
                      f"{row['exit']}: {row['message']}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    print(f"{len(rows)} cases in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0 if counts.get("clean", 0) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
