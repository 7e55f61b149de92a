"""The market as the dashboard drives it: built from the inputs' values, one day a step."""

from __future__ import annotations

from sim.dashboard.inputs import model_params, overrides
from sim.model import P2PMarket
from sim.scenario import load_scenario


class DashboardMarket(P2PMarket):
    """A :class:`~sim.model.P2PMarket` built from a scenario file and the dashboard's inputs.

    SolaraViz makes a new one with the inputs' values on Reset (keyword arguments only); a Mesa
    ``scenario`` it passes along is not ours and is ignored. Audit is off, as in production runs;
    ``inputs`` keeps the values the market was built with, for the key-numbers view.
    """

    def __init__(self, scenario_file: str = "scenarios/baseline.toml", scenario=None,
                 **values) -> None:
        base = load_scenario(scenario_file)
        defaults = {name: spec["value"] for name, spec in model_params(scenario_file, base).items()
                    if isinstance(spec, dict)}
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise TypeError(f"unknown dashboard input(s): {', '.join(unknown)}")
        self.inputs = {**defaults, **values}
        super().__init__(scenario_file, audit="off", **overrides(base, self.inputs))
