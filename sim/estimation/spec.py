"""Estimation files (TOML): the scenario, the parameters to estimate, the moments, the periods.

```toml
[estimation]
name = "wave_2018"
scenario = "../scenarios/thunderstorm_2018.toml"   # relative to this file
seed = 2018                  # the runs' seeds: children of SeedSequence(seed), the same at every point
points = 40                  # design points (a Latin hypercube in the bounds), plus the start
replications = 2             # runs a point (common random numbers)
check_replications = 8       # runs at the estimate, for its moments and their simulation error
refine_points = 20           # a second design around the first estimate (0: none)
fit_months = ["2017-02", "2017-04"]        # the monthly moments' fitting period (first, last)
held_out_months = ["2017-05", "2017-06"]   # kept out of the fit, checked afterwards
fixed = { "industry.platforms" = 300 }     # overrides applied to every run

[[parameters]]
key = "industry.channels.sentiment.wear_multiplier"
start = 6.8
bounds = [2.0, 14.0]

[moments]
fit = ["balance_change", "wave_problem_ratio"]
held_out = ["balance_change", "investor_change"]
```

A ``[synthetic]`` section (``seed``, ``truth``: every parameter's value) replaces the data by one
run of the scenario at those values, for a recovery check (``estimation/recovery_2018.toml``).

Everything is checked before a run starts (:class:`EstimationError`, exit code 2 from the command
line, nothing written): a moment that is not in the registry (:data:`sim.estimation.moments.
MOMENTS`), a month outside the data's, bounds that exclude the start, a held-out period that
overlaps the fitting period, a parameter key the scenario does not have or a value it refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.estimation.moments import MOMENTS, data_months
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.files import file_fault, read_toml_file, shortened
from sim.scenario.industry import MONTH_PATTERN, month_index
from sim.scenario.messages import file_errors
from sim.scenario.schema import fits_a_folder_name


class EstimationError(ValueError):
    """An estimation that cannot run; ``str(error)`` is the message for the user."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


Month = Annotated[str, Field(pattern=MONTH_PATTERN)]


class EstimationConfig(_Section):
    """What is run: the scenario, the seeds, the design's size, the periods."""

    name: Annotated[str, AfterValidator(fits_a_folder_name)] = Field(pattern=r"^[\w\-]+$",
                                                                     max_length=100)
    scenario: str
    seed: int = Field(0, ge=0)
    points: int = Field(40, ge=4, le=10_000, description="design points besides the start")
    replications: int = Field(2, ge=1, le=1000, description="runs a point, common random numbers")
    check_replications: int = Field(8, ge=2, le=1000, description="runs at the estimate")
    refine_points: int = Field(0, ge=0, le=10_000, description="a second design's points, in a box "
                               "around the first estimate (0: none)")
    fit_months: list[Month] = Field(min_length=2, max_length=2)
    held_out_months: list[Month] = Field(min_length=2, max_length=2)
    fixed: dict[str, Any] = Field(default_factory=dict)
    out: str | None = None

    @model_validator(mode="after")
    def _periods(self):
        allowed = data_months()
        for key in ("fit_months", "held_out_months"):
            first, last = getattr(self, key)
            if month_index(first) > month_index(last):
                raise ValueError(f"{key}: {first} comes after {last}; give [first, last]")
            for month in (first, last):
                if month not in allowed:
                    raise ValueError(f"{key}: {month}: the data's monthly moments are for "
                                     f"{allowed[0]} to {allowed[-1]}")
        fit, held = self.fit_months, self.held_out_months
        if month_index(held[0]) <= month_index(fit[1]) and month_index(fit[0]) <= month_index(held[1]):
            raise ValueError(f"held_out_months {held[0]}..{held[1]} overlaps the fitting period "
                             f"{fit[0]}..{fit[1]}: a held-out period must lie outside it")
        return self


class ParameterConfig(_Section):
    """One parameter to estimate: a scenario key, where the search starts, its bounds."""

    key: str
    start: float
    bounds: list[float] = Field(min_length=2, max_length=2)

    @model_validator(mode="after")
    def _start_within(self):
        low, high = self.bounds
        if not low < high:
            raise ValueError(f"bounds [{low}, {high}]: the first must be below the second")
        if not low <= self.start <= high:
            raise ValueError(f"start {self.start} is outside bounds [{low}, {high}]")
        return self


class MomentsConfig(_Section):
    """The moments fitted and those held out (names from the registry)."""

    fit: list[str] = Field(min_length=1)
    held_out: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known(self):
        for key in ("fit", "held_out"):
            for i, name in enumerate(getattr(self, key)):
                if name not in MOMENTS:
                    raise ValueError(f"{key}[{i}]: unknown moment or series {name!r}; allowed: "
                                     f"{', '.join(MOMENTS)}")
            if len(set(getattr(self, key))) < len(getattr(self, key)):
                raise ValueError(f"{key}: a moment is named twice")
        both = [n for n in self.held_out if n in self.fit and not MOMENTS[n].monthly]
        if both:
            raise ValueError(f"held_out: {both[0]} is fitted, and has no months to hold out "
                             f"(only a monthly moment can be held out in other months)")
        return self


class SyntheticConfig(_Section):
    """A recovery check: the "data" are one run of the scenario at known values, not WDZJ's.

    ``truth`` gives every estimated parameter's value; ``seed`` the run's (its own, not one of the
    design's). The estimation then says whether each value is inside its 95 % interval.
    """

    seed: int = Field(ge=0)
    truth: dict[str, float]


class Estimation(_Section):
    """A whole estimation file."""

    estimation: EstimationConfig
    parameters: list[ParameterConfig] = Field(min_length=1)
    moments: MomentsConfig
    synthetic: SyntheticConfig | None = None

    @model_validator(mode="after")
    def _truth(self):
        if self.synthetic is None:
            return self
        keys = [p.key for p in self.parameters]
        if sorted(self.synthetic.truth) != sorted(keys):
            raise ValueError(f"synthetic.truth: give exactly the estimated parameters' values "
                             f"({', '.join(keys)}); it has {', '.join(self.synthetic.truth)}")
        for p in self.parameters:
            value = self.synthetic.truth[p.key]
            if not p.bounds[0] <= value <= p.bounds[1]:
                raise ValueError(f"synthetic.truth: {p.key} = {value} is outside its bounds "
                                 f"[{p.bounds[0]}, {p.bounds[1]}]")
        if self.synthetic.seed == self.estimation.seed:
            raise ValueError(f"synthetic.seed {self.synthetic.seed}: the same as estimation.seed; "
                             f"the data's run needs a seed of its own")
        return self

    @model_validator(mode="after")
    def _distinct(self):
        keys = [p.key for p in self.parameters]
        if len(set(keys)) < len(keys):
            raise ValueError("parameters: a key is estimated twice")
        fixed = sorted(set(keys) & set(self.estimation.fixed))
        if fixed:
            raise ValueError(f"parameters: {fixed[0]} is also in estimation.fixed; estimate it "
                             f"or fix it, not both")
        return self


def load_estimation(path: str | Path) -> tuple[Estimation, Path]:
    """Read and check an estimation file; return it and its scenario's path.

    Raises
    ------
    EstimationError
        Naming the file and the key at fault.
    """
    path = Path(path)
    _, raw = read_toml_file(path, "estimation", EstimationError)
    try:
        spec = Estimation.model_validate(raw)
    except ValidationError as error:
        raise EstimationError(file_errors(error, path)) from None
    scenario = path.parent / spec.estimation.scenario
    fault = file_fault(scenario)
    if fault:
        raise EstimationError(f"{path}: estimation.scenario: {fault}: {shortened(scenario)}; give "
                              f"the scenario file's path, relative to the estimation file")
    scenario = scenario.resolve()
    _check_against_scenario(spec, scenario, path)
    return spec, scenario


def _check_against_scenario(spec: Estimation, scenario: Path, path: Path) -> None:
    """The scenario takes the fixed keys and every parameter at its bounds and start."""
    for i, parameter in enumerate(spec.parameters):
        for value in (parameter.start, *parameter.bounds):
            try:
                config = load_scenario(scenario, {**spec.estimation.fixed, parameter.key: value})
            except ScenarioError as error:
                raise EstimationError(f"{path}: parameters[{i}] ({parameter.key} = {value}): "
                                      f"{error}") from None
    if config.industry is None:
        raise EstimationError(f"{path}: estimation.scenario: {scenario.name} has no [industry]: "
                              f"the moments are an industry's")
    months = (config.run.horizon_days) // 30
    first = month_index(config.industry.start)
    needed = max(month_index(spec.estimation.held_out_months[1]),
                 month_index(spec.estimation.fit_months[1]), month_index("2018-08")) - first + 1
    if months < needed:
        raise EstimationError(f"{path}: estimation.fixed: run.horizon_days {config.run.horizon_days}"
                              f" ends before the moments' last month; give at least {needed * 30}")
    if month_index(config.industry.start) > month_index(spec.estimation.fit_months[0]) - 1:
        raise EstimationError(f"{path}: the scenario's industry starts in {config.industry.start}; "
                              f"the moments need the month before {spec.estimation.fit_months[0]}")
