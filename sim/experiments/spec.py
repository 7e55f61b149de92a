"""Experiment files (TOML): a base scenario, what varies, how many replications, what to keep.

```toml
[experiment]
name = "policy_grid"
scenario = "../scenarios/baseline.toml"   # relative to this file
seed = 2026                                # run k gets the k-th child of SeedSequence(seed)
replications = 4
common_random_numbers = false              # true: replication r of every point gets child r
fixed = { "run.horizon_days" = 720 }       # overrides applied to every run

[design]
kind = "grid"        # grid | list | random | latin | sobol | morris | variants
samples = 16         # random, latin: points; sobol: N (N (D + 2) points); morris: trajectories

[[parameters]]
key = "platforms.0.service_fee"
values = [0.01, 0.03, 0.05]     # grid and list
[[parameters]]
key = "platforms.0.risk.min_score"
low = 300.0                       # random, latin, sobol, morris
high = 700.0

[outputs]
statistics = ["volume_cny", "platform_profit_cny"]      # end-of-run figures, one per run
timeseries = ["outstanding_principal_cny"]              # month-end values, for fan charts
sensitivity = ["platform_profit_cny"]                   # sobol / morris: analysed with SALib
```

A ``variants`` design names its points instead of sweeping parameters: each ``[[variants]]`` has a
``name`` and the scenario keys it ``set``s (a channel switched off, a policy on); the first is the
reference. Variants run with common random numbers (replication ``r`` of every variant gets child
``r``), and the results add each variant's paired difference from the first (``differences.csv``):
``experiments/thunderstorm_channels.toml``.

Everything is checked before a run starts: unknown keys, ``low > high``, zero replications, an
output the model does not report, and every design point's overrides against the scenario (so a
parameter the model does not have is refused with its key). Errors raise :class:`ExperimentError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.company.targets import FIGURES, parse_figure
from sim.industry.tracker import INDUSTRY_SERIES
from sim.outputs.statistics import BY_NAME as STATISTICS
from sim.reporters import MODEL_REPORTERS
from sim.scenario.files import file_fault, read_toml_file, shortened
from sim.scenario.loading import load_scenario
from sim.scenario.messages import file_errors
from sim.scenario.schema import ScenarioError, fits_a_folder_name

MARKET_STATISTICS = ["volume_cny", "platform_profit_cny", "annual_default_rate"]
INDUSTRY_STATISTICS = ["problem_platforms", "industry_volume_cny", "industry_losses_cny"]
"""What each run keeps by default: a market's figures, or an industry's (its own come first)."""

DESIGNS = ("grid", "list", "random", "latin", "sobol", "morris", "variants")


class ExperimentError(ValueError):
    """An experiment that cannot run; ``str(error)`` is the message for the user."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ExperimentConfig(_Section):
    """What is run: the base scenario, the seed, the replications and fixed overrides."""

    name: Annotated[str, AfterValidator(fits_a_folder_name)] = Field(pattern=r"^[\w\-]+$",
                                                                     max_length=100)
    scenario: str
    seed: int = Field(0, ge=0)
    replications: int = Field(1, ge=1, le=100_000)
    common_random_numbers: bool = Field(
        False, description="replication r of every point gets the same seed (child r)")
    fixed: dict[str, Any] = Field(default_factory=dict)
    out: str | None = None


class DesignConfig(_Section):
    """How the parameter points are made."""

    kind: Literal["grid", "list", "random", "latin", "sobol", "morris", "variants"] = "grid"
    samples: int = Field(8, ge=1, le=1_000_000)
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels")


class ParameterConfig(_Section):
    """One parameter that varies: a scenario key and its values or its range."""

    key: str
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False

    @model_validator(mode="after")
    def _values_or_range(self):
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give values = [...] or low and high")
        if self.values is not None and not self.values:
            raise ValueError("values must not be empty")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class VariantConfig(_Section):
    """One variant of a ``variants`` design: its name and the scenario keys it sets."""

    name: str = Field(min_length=1, max_length=100)
    set: dict[str, Any] = Field(default_factory=dict)


class OutputsConfig(_Section):
    """What each run keeps."""

    statistics: list[str] = Field(default_factory=lambda: list(MARKET_STATISTICS), description=(
        "end-of-run figures each run keeps (default: the market's, or an industry's)"))
    timeseries: list[str] = Field(default_factory=list)
    sensitivity: list[str] = Field(default_factory=list)


class Experiment(_Section):
    """A whole experiment file."""

    experiment: ExperimentConfig
    design: DesignConfig = DesignConfig()
    parameters: list[ParameterConfig] = Field(default_factory=list)
    variants: list[VariantConfig] = Field(default_factory=list)
    outputs: OutputsConfig = OutputsConfig()

    @model_validator(mode="after")
    def _consistent(self):
        if (self.design.kind == "variants") != bool(self.variants):
            raise ValueError("a variants design needs [[variants]] tables, and [[variants]] need "
                             "design.kind = \"variants\"")
        if self.variants:
            if self.parameters:
                raise ValueError("a variants design sets its keys in [[variants]]: no [[parameters]]")
            names = [v.name for v in self.variants]
            folded = [" ".join(n.split()).casefold() for n in names]
            if len(set(folded)) < len(folded):
                raise ValueError(f"variants: two variants are named alike ({names}); give each "
                                 f"its own name")
            if not self.experiment.common_random_numbers:
                raise ValueError("experiment.common_random_numbers: variants are compared run by "
                                 "run on the same draws; set it to true")
        ranged = self.design.kind not in ("grid", "list", "variants")
        for i, parameter in enumerate(self.parameters):
            if ranged and (parameter.low is None or parameter.high is None):
                raise ValueError(f"parameters[{i}] ({parameter.key}): a {self.design.kind} design "
                                 f"needs low and high")
            if (self.design.kind in ("sobol", "morris") and parameter.low == parameter.high):
                raise ValueError(f"parameters[{i}] ({parameter.key}): low = high = "
                                 f"{parameter.low}: a {self.design.kind} analysis measures how "
                                 f"an output moves with each parameter, and this one does not "
                                 f"move; give low < high, or fix it under [experiment] fixed")
            if not ranged and parameter.values is None:
                raise ValueError(f"parameters[{i}] ({parameter.key}): a {self.design.kind} design "
                                 f"needs values = [...]")
        if self.design.kind == "list" and len({len(p.values) for p in self.parameters}) > 1:
            raise ValueError("a list design needs the same number of values for every parameter")
        if self.design.kind in ("sobol", "morris") and not self.parameters:
            raise ValueError(f"a {self.design.kind} design needs parameters")
        for name in self.outputs.statistics + self.outputs.sensitivity:
            if name not in STATISTICS:
                _statement_figure(name)
        for name in self.outputs.timeseries:
            if name not in MODEL_REPORTERS and name.removeprefix("industry.") not in (
                    INDUSTRY_SERIES if name.startswith("industry.") else ()):
                raise ValueError(f"unknown time series {name!r}; allowed: "
                                 f"{', '.join(MODEL_REPORTERS)}, or an industry's: "
                                 f"{', '.join('industry.' + s for s in INDUSTRY_SERIES)}")
        if self.outputs.sensitivity and self.design.kind not in ("sobol", "morris"):
            raise ValueError("outputs.sensitivity needs a sobol or morris design")
        return self


def _statement_figure(name: str) -> None:
    """An output that is no statistic must be a figure of the company's statements."""
    if "[" not in name and name not in FIGURES:
        raise ValueError(f"unknown statistic {name!r}; allowed: {', '.join(STATISTICS)}, or a "
                         f"figure of the statements: {', '.join(sorted(FIGURES))} (a monthly or "
                         f"yearly one as net_income_cny[year=3])")
    parse_figure(name)


def load_experiment(path: str | Path) -> tuple[Experiment, Path]:
    """Read and validate an experiment file; return it and the base scenario's path.

    Raises
    ------
    ExperimentError
        Naming the file and the key at fault.
    """
    path = Path(path)
    _, raw = read_toml_file(path, "experiment", ExperimentError)
    if "schemes" in raw and "experiment" not in raw:
        raise ExperimentError(f"{path}: schemes: this file compares protection schemes; "
                              f"run it with `p2psim board {path}`")
    try:
        spec = Experiment.model_validate(raw)
    except ValidationError as error:
        raise ExperimentError(file_errors(error, path)) from None
    scenario = path.parent / spec.experiment.scenario
    fault = file_fault(scenario)
    if fault:
        raise ExperimentError(f"{path}: experiment.scenario: {fault}: {shortened(scenario)}; "
                              f"give the scenario file's path, relative to the experiment file")
    scenario = scenario.resolve()
    if "statistics" not in spec.outputs.model_fields_set:
        spec.outputs.statistics = default_statistics(scenario, spec.experiment.fixed)
    return spec, scenario



def default_statistics(scenario: Path, fixed: dict[str, Any]) -> list[str]:
    """What each run keeps when the file does not say: the market's figures, or an industry's.

    An industry's detailed platforms' figures (volume, profit, defaults) come after its own; with
    none, those would read 0 where the industry lent.
    """
    try:
        config = load_scenario(scenario, fixed)
    except ScenarioError:
        return list(MARKET_STATISTICS)  # the plan of the runs reports what is wrong
    if config.industry is None:
        return list(MARKET_STATISTICS)
    return INDUSTRY_STATISTICS + (MARKET_STATISTICS if config.platforms else [])
