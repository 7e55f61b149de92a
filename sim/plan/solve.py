"""``p2psim plan ... --solve KEY --for TARGET``: the input at which a target's odds reach a level.

"How much capital so that cash lasts with 95 % probability?" is ``--solve platforms.0.capital_cny
--for "cash_ran_out <= 0" --probability 0.95``; "what service fee makes year 3 profitable at even
odds?" is ``--solve platforms.0.service_fee --for "net_income_cny[year=3] >= 0"``.

**Common random numbers.** The plan's runs are the runs of ``p2psim plan`` (each its seed and its
draws of the uncertain inputs); every value of the key is tried on the same runs, so two values
differ only by the key. Each run ``k`` then meets the target from some value ``t_k`` of the key on
(or up to it, where a larger value hurts), and the share of runs meeting it, ``P(x)``, is the
empirical distribution of the ``t_k``: monotone in ``x``. The answer is the smallest value with
``P(x) >= probability`` (the largest, where the key hurts): a quantile of the ``t_k``.

**Root-finding.** Every run is tried at both ends of the bracket; that sets the direction and
whether the probability is reached inside it. Then bisection: each run keeps the bracket its own
results give ``t_k`` (the last value it missed at, the first it met at), and at a new value only
the runs whose bracket holds it are run again; the others are decided. The search ends when the
bracket around the answer is within the tolerance; the answer is its end that was run and meets
the level. A run whose results contradict monotonicity (met at a value, missed at a larger one
where larger helps) is counted and reported; it keeps its first results.

**The error.** The answer is a quantile over ``n`` runs: the values where the share meeting the
target is ``probability ± 1.96 sqrt(p (1 - p) / n)`` bound its 95 % interval (the binomial
interval of an order statistic), found by the same search, on runs mostly already decided.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import strict_json
from sim.company.targets import parse_target
from sim.experiments.runner import execute
from sim.loans import DAYS_PER_MONTH
from sim.plan.errors import PlanError
from sim.plan.evaluations import Evaluations, kept_evaluations
from sim.plan.inputs import InputError, base_value
from sim.plan.runs import PlanTask, run_plan_one
from sim.scenario import ScenarioError, load_scenario

Z95 = 1.959963984540054
BRACKET_STEPS = 200  # the default tolerance: the bracket's width / 200


@dataclass(frozen=True)
class SolveRequest:
    """What ``--solve`` was asked: the key, the target, its probability, bracket, tolerance."""

    key: str
    target: str
    probability: float = 0.5
    bracket: tuple[float, float] | None = None
    tolerance: float | None = None


@dataclass
class Trial:
    """One value of the key tried: the share of runs meeting the target there (exact)."""

    value: float
    met: int
    runs: int
    runs_run: int
    sought: str

    @property
    def share(self) -> float:
        """Share of the runs meeting the target at this value."""
        return self.met / self.runs


@dataclass
class Thresholds:
    """Each run's bracket on its threshold ``t_k``, in ``u = direction x`` (met from ``t_k`` up).

    ``missed[k]``: the largest ``u`` run where run ``k`` missed (-inf: none); ``met[k]``: the
    smallest where it met (+inf: none). A run is decided at ``u`` unless ``missed < u < met``.
    ``*_margin``: by how much the target's figure met or missed it there (NaN: no figure).
    """

    missed: np.ndarray
    met: np.ndarray
    missed_margin: np.ndarray
    met_margin: np.ndarray
    before: np.ndarray         # the missed value before ``missed`` (-inf: none)
    before_margin: np.ndarray
    contradictions: int = 0

    @classmethod
    def empty(cls, n: int) -> Thresholds:
        """No run tried yet."""
        return cls(*(np.full(n, value) for value in (-math.inf, math.inf, math.nan, math.nan,
                                                     -math.inf, math.nan)))

    def undecided(self, u: float) -> np.ndarray:
        """The runs whose bracket holds ``u``: to be run there."""
        return np.flatnonzero((self.missed < u) & (u < self.met))

    def share(self, u: float) -> float:
        """Share of runs meeting the target at ``u`` (every run decided there)."""
        return float(np.mean(self.met <= u))

    def record(self, k: int, u: float, met: bool, margin: float) -> None:
        """Run ``k`` met the target at ``u`` or missed it; a contradiction keeps the first."""
        if met and u <= self.missed[k] or not met and u >= self.met[k]:
            self.contradictions += 1  # not monotone in the key on this run
        elif met and u < self.met[k]:
            self.met[k], self.met_margin[k] = u, margin
        elif not met and u > self.missed[k]:
            self.before[k], self.before_margin[k] = self.missed[k], self.missed_margin[k]
            self.missed[k], self.missed_margin[k] = u, margin

    def guesses(self) -> np.ndarray:
        """Each run's threshold as best known, inside its bracket (its upper end where decided).

        Linear in the target figure's margin: between the value it missed at and the one it met
        at where both margins say something (short by 2 M at 10 M, 1 M to spare at 14 M: 12.67 M),
        else through its last two misses (short by 4 M at 8 M and by 2 M at 10 M: 12 M; a
        capital need is flat at 0 once met, so only the misses tell); the middle where the
        figure says nothing (a yes-or-no figure). Guesses only choose where to look: every
        answer is a value run.
        """
        low, high = self.missed, self.met
        with np.errstate(divide="ignore", invalid="ignore"):
            across = -self.missed_margin / (self.met_margin - self.missed_margin)
            slope = (self.missed_margin - self.before_margin) / (low - self.before)
            onward = (low - self.missed_margin / slope - low) / (high - low)
        share = np.where((self.met_margin > 0) & (self.missed_margin < 0), across,
                         np.where((slope > 0) & np.isfinite(onward), onward, 0.5))
        share = np.clip(np.nan_to_num(share, nan=0.5), 0.0, 1.0)
        inside = np.isfinite(low) & np.isfinite(high)
        return np.where(inside, low + share * (high - low), high)


def check_solve(scenario, solve: SolveRequest,
                label: str) -> tuple[float, float, float, float, bool]:
    """The key's value in the scenario, the bracket, the tolerance, whether it is an integer.

    PlanError (exit 2) names the key, the target or the bound that is wrong and what is allowed.
    """
    uncertain = [u.key for u in scenario.plan.uncertain]
    if solve.key in uncertain:
        raise PlanError(f"--solve {solve.key}: {label} draws it in [[plan.uncertain]]; solve "
                        f"another key or remove the draw")
    try:
        value = base_value(scenario.model_dump(), solve.key, 0)
    except InputError as error:
        raise PlanError(f"--solve {solve.key}: {str(error).split(': ', 1)[1]}".replace(
            "plan.uncertain[0].key", "--solve")) from None
    months = math.ceil(scenario.run.horizon_days / DAYS_PER_MONTH)
    try:
        parse_target(solve.target, months)
    except ValueError as error:
        raise PlanError(f"--for: {error}") from None
    if not 0 < solve.probability < 1:
        raise PlanError(f"--probability {solve.probability:g}: must be between 0 and 1 "
                        f"(0.95: met in 95 % of runs)")
    current = float(np.mean(value)) if isinstance(value, list) else float(value)
    if solve.bracket is not None:
        low, high = sorted(map(float, solve.bracket))
    elif current > 0:
        low, high = 0.0, 4 * current
    else:
        raise PlanError(f"--solve {solve.key}: the scenario's value is {current:g}; give "
                        f"--bracket LOW HIGH, the values to search between")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise PlanError(f"--bracket {low:g} {high:g}: give two different finite values")
    tolerance = solve.tolerance if solve.tolerance is not None else (high - low) / BRACKET_STEPS
    if not 0 < tolerance < high - low:
        raise PlanError(f"--tolerance {tolerance:g}: must be above 0 and below the bracket's "
                        f"width {high - low:g}")
    return current, low, high, tolerance, isinstance(value, int) or (
        isinstance(value, list) and all(isinstance(v, int) for v in value))


def keyed(key: str, base, x: float, integer: bool):
    """The override that sets ``key`` to ``x`` (every item of a list; integers rounded)."""
    value = int(round(x)) if integer else float(x)
    return [value] * len(base) if isinstance(base, list) else value


def solve_runs(scenario, request, solve: SolveRequest, tasks: list[PlanTask],
               evaluations: Evaluations | None = None) -> dict[str, Any]:
    """Search the key's value; return the answer, its interval, every trial and each run's bracket.

    ``evaluations`` keeps each evaluation for a resume (default: none kept).
    """
    evaluations = Evaluations() if evaluations is None else evaluations
    label = request.scenario
    current, low, high, tolerance, integer = check_solve(scenario, solve, label)
    base = base_value(scenario.model_dump(), solve.key, 0)
    for end in (low, high):
        try:
            load_scenario(request.scenario, {**request.overrides,
                                             solve.key: keyed(solve.key, base, end, integer)})
        except ScenarioError as error:
            raise PlanError(f"--bracket: {solve.key} = {end:g} is refused by {label}:\n"
                            f"{error}") from None
    targets = list(scenario.plan.targets)
    if solve.target not in targets:  # each run reads it as one of the plan's targets
        targets.append(solve.target)
        tasks = [dataclasses.replace(t, overrides={**t.overrides, "plan.targets": targets})
                 for t in tasks]
    index = targets.index(solve.target)
    n = len(tasks)
    trials: list[Trial] = []

    target = parse_target(solve.target, 10**6)
    sign = 1.0 if target.op in (">=", ">") else -1.0

    def run_at(x: float, which: np.ndarray, sought: str) -> tuple[np.ndarray, np.ndarray]:
        """Whether each run in ``which`` meets the target with the key at ``x``, and by how much."""
        value = keyed(solve.key, base, x, integer)
        batch = [dataclasses.replace(tasks[k], overrides={**tasks[k].overrides,
                                                          solve.key: value}) for k in which]
        met, margin = np.zeros(len(which), dtype=bool), np.full(len(which), math.nan)

        def run_batch(todo):
            by_run = {task.run: (n, task) for n, task in todo}
            for record in execute([task for _, task in todo], request.executor, request.workers,
                                  request.scheduler, function=run_plan_one):
                if record["status"] != "ok":
                    raise PlanError(f"run {record['run']} failed with {solve.key} = {x:g}:\n"
                                    f"{record.get('error', '')}")
                result = record["plan"]["targets"][index]
                yield *by_run[record["run"]], {"met": bool(result["met"]),
                                               "value": result["value"]}

        found = evaluations.evaluate(x, batch, run_batch)
        for i, task in enumerate(batch):
            met[i] = found[task.run]["met"]
            if found[task.run]["value"] is not None:
                margin[i] = sign * (float(found[task.run]["value"]) - target.threshold)
        return met, margin

    # Every run at the low end and at the scenario's value (the middle if it is outside): which
    # way the key helps; then at the high end only the runs it could still change.
    inner = current if low < current < high else (low + high) / 2
    first = {x: run_at(x, np.arange(n), "the bracket" if x == low else "the way it helps")
             for x in (low, inner)}
    shares = {x: float(met.mean()) for x, (met, _) in first.items()}
    if shares[inner] == shares[low]:
        first[high] = run_at(high, np.arange(n), "the bracket")
        shares[high] = float(first[high][0].mean())
    direction = 1.0 if shares.get(high, shares[inner]) >= shares[low] else -1.0
    thresholds = Thresholds.empty(n)
    for x, (met, margin) in first.items():
        for k in range(n):
            thresholds.record(k, direction * x, bool(met[k]), float(margin[k]))
        trials.append(Trial(x, int(met.sum()), n, n, "the bracket" if x != inner
                            else "the way it helps"))
    u_ends = sorted((direction * low, direction * high))
    if high not in first:  # the helpful end: the runs that missed everywhere so far
        which = thresholds.undecided(u_ends[1])
        met, margin = run_at(high, which, "the bracket")
        for k, hit, m in zip(which, met, margin):
            thresholds.record(int(k), u_ends[1], bool(hit), float(m))
        trials.append(Trial(high, round(thresholds.share(u_ends[1]) * n), n, len(which),
                            "the bracket"))
    known = {u: thresholds.share(u) for u in {*u_ends, direction * inner}}
    worst, best = known[u_ends[0]], known[u_ends[1]]
    if not worst < solve.probability <= best:
        reason = ("is met already at both ends" if worst >= solve.probability
                  else "is not reached")
        raise PlanError(f"--solve {solve.key}: P({solve.target}) is "
                        f"{known[direction * low]:.1%} at {low:g} and {known[direction * high]:.1%} "
                        f"at {high:g}; the probability {solve.probability:.0%} {reason} within the "
                        f"bracket: give a --bracket where it is crossed")

    def search(level: float, sought: str) -> float:
        """The smallest ``u`` (to the tolerance) with a share of at least ``level``."""
        width = math.inf
        while True:
            a = max((u for u, p in known.items() if p < level), default=None)
            b = min(u for u, p in known.items() if p >= level)
            if a is None or b - a <= tolerance:
                return b
            slow = b - a > width / 2  # the last step did not halve the bracket: bisect
            width = b - a
            u = (a + b) / 2 if slow else _next_value(a, b, thresholds.guesses(), level, tolerance)
            which = thresholds.undecided(u)
            if len(which):
                met, margin = run_at(direction * u, which, sought)
                for k, hit, m in zip(which, met, margin):
                    thresholds.record(int(k), u, bool(hit), float(m))
            known[u] = thresholds.share(u)
            trials.append(Trial(direction * u, round(known[u] * n), n, len(which), sought))

    se = math.sqrt(solve.probability * (1 - solve.probability) / n)
    u_answer = search(solve.probability, "the answer")
    band = {}
    for name, level in (("low", solve.probability - Z95 * se), ("high", solve.probability + Z95 * se)):
        if level <= worst:
            band[name] = u_ends[0]  # every value in the bracket already reaches it
        elif level > best:
            band[name] = math.inf  # the runs never reach it inside the bracket
        else:
            band[name] = search(level, f"the interval's {name} end")
    ends = sorted(direction * u for u in (band["low"], band["high"]))
    return {
        "key": solve.key, "target": solve.target, "probability": solve.probability,
        "answer": direction * u_answer, "share_at_answer": thresholds.share(u_answer),
        "interval": ends, "interval_open": math.isinf(band["high"]),
        "direction": "larger helps" if direction > 0 else "smaller helps",
        "bracket": [low, high], "tolerance": tolerance, "runs": n,
        "runs_run": sum(t.runs_run for t in trials), "values_tried": len(known),
        "contradictions": thresholds.contradictions, "integer": integer,
        "trials": trials, "thresholds": thresholds, "direction_sign": direction,
    }


def _next_value(a: float, b: float, guesses: np.ndarray, level: float, tolerance: float) -> float:
    """The value where the runs' guessed thresholds reach ``level``, inside ``(a, b)``.

    Kept a tolerance (or half the bracket) from either end, so each step decides something.
    """
    rank = max(1, math.ceil(level * len(guesses) - 1e-9))
    guess = float(np.sort(guesses)[rank - 1])
    step = min(tolerance, (b - a) / 2)
    return min(max(guess if math.isfinite(guess) else (a + b) / 2, a + step), b - step)


def monotone(trials: list[Trial], sign: float) -> bool:
    """Whether the shares tried never fall as the key moves the helpful way (CRN's promise)."""
    order = sorted(trials, key=lambda t: sign * t.value)
    shares = [t.share for t in order]
    return all(b >= a for a, b in zip(shares, shares[1:]))


def run_solve(request, solve: SolveRequest) -> dict[str, Any]:
    """Solve for the key on the plan's runs and write the results folder (whole or not at all)."""
    from sim.folders import atomic_folder, check_output_folder
    from sim.plan.study import plan_tasks

    scenario, tasks = plan_tasks(request, need_targets=False)
    name = scenario.run.name
    out = request.out or f"results/{name}-solve-{solve.key.replace('.', '_')}"
    folder = check_output_folder(out, "solve", "--out" if request.out else "the results folder")
    store = kept_evaluations(folder, request, solve, scenario, len(tasks))  # Ctrl-C resumes
    result = solve_runs(scenario, request, solve, tasks, Evaluations(store))
    result["monotone"] = monotone(result["trials"], result["direction_sign"])
    with atomic_folder(folder, "solve") as staging:
        _write_solve(staging, result, tasks, name)
    store.discard()
    result["folder"] = folder
    return result


def _write_solve(folder, result: dict, tasks: list[PlanTask], name: str) -> None:
    """solve.json (the answer), trials.csv (each value tried), thresholds.csv, solve.png."""
    import pandas as pd

    from sim.plan.charts import plot_solve

    trials = pd.DataFrame([{**dataclasses.asdict(t), "share": t.share} for t in result["trials"]])
    trials.to_csv(folder / "trials.csv", index=False)
    sign, th = result["direction_sign"], result["thresholds"]
    low, high = np.where(sign > 0, th.missed, -th.met), np.where(sign > 0, th.met, -th.missed)
    pd.DataFrame({"run": [t.run for t in tasks], "seed": [str(t.seed) for t in tasks],
                  **{key: [t.draws[key] for t in tasks] for key in (tasks[0].draws if tasks
                                                                   else {})},
                  "threshold_above": low, "threshold_at_most": high}).to_csv(
        folder / "thresholds.csv", index=False)
    summary = {k: v for k, v in result.items() if k not in ("trials", "thresholds",
                                                              "direction_sign")}
    (folder / "solve.json").write_text(strict_json.dumps(summary, indent=2, default=float))
    plot_solve(trials, result, folder / "solve.png", f"{name}: {result['key']} for "
               f"P({result['target']}) >= {result['probability']:.0%}")


def format_solve(result: dict) -> str:
    """The answer as the command prints it: the value, its interval, what it took."""
    low, high = result["interval"]
    shown = (lambda x: f"{x:,.0f}") if result["integer"] or abs(result["answer"]) >= 1000 else (
        lambda x: f"{x:.4g}")
    high_text = "beyond the bracket" if result["interval_open"] else shown(high)
    lines = [f"{result['key']} for P({result['target']}) >= {result['probability']:.0%}: "
             f"{shown(result['answer'])} ({result['direction']}; 95 % interval {shown(low)} to "
             f"{high_text} from the spread of {result['runs']} runs; searched "
             f"{shown(result['bracket'][0])} to {shown(result['bracket'][1])} to "
             f"{shown(result['tolerance'])})",
             f"  met in {result['share_at_answer']:.1%} of the runs at the answer; "
             f"{result['runs_run']} runs over {result['values_tried']} values (common random "
             f"numbers: each value on the same {result['runs']} runs)"]
    if result["contradictions"] or not result["monotone"]:
        lines.append(f"  warning: {result['contradictions']} run results contradict a target "
                     f"that moves one way with {result['key']}; the answer is the search's, read "
                     f"trials.csv and thresholds.csv")
    if result["interval_open"]:
        lines.append("  warning: the interval's upper end lies outside the bracket: more runs or "
                     "a wider --bracket")
    return "\n".join(lines)
