"""The dashboard's inputs: the main policy parameters of a scenario's first platform, as sliders.

Labels are short (the sidebar is narrow); docs/dashboard.md gives each input's unit: fees as shares
(of principal, of interest), the reserve rate as a share of principal, the downturn as the macro
factor's shock Z in month 13, the bad press as trust lost (0-1) on day 360, the marketing budget as
a multiple of every channel's monthly budget.

Each input is a Mesa ``model_params`` entry (SolaraViz draws it in the sidebar) and a rule that turns
its value into scenario overrides (:func:`overrides`). Only inputs that mean something for the
scenario are offered: the score cutoff needs the ``scorecard`` risk policy, the marketing budget
needs marketing channels.
"""

from __future__ import annotations

from sim.scenario import Scenario

GUARANTEES = ["none", "reserve_fund", "guarantor", "insurance"]
SHOCK_MONTH = 12          # the macro downturn's month
TRUST_SHOCK_DAY = 360     # the day of the bad press that shakes trust (with runs on)


def model_params(scenario_file: str, scenario: Scenario) -> dict:
    """SolaraViz's ``model_params`` for ``scenario``: fixed keys and the user's inputs."""
    platform = scenario.platforms[0]
    guarantee = platform.guarantee.get("policy", "none")
    params = {
        "scenario_file": scenario_file,
        "service_fee": _slider("Service fee 借款服务费",
                               platform.service_fee, 0.0, 0.10, 0.005),
        "management_fee": _slider("Management fee 利息管理费",
                                  platform.management_fee, 0.0, 0.30, 0.01),
        "guarantee": {"type": "Select", "label": "Protection (保障)", "value": guarantee,
                      "values": [*GUARANTEES, *([guarantee] if guarantee not in GUARANTEES
                                               else [])]},  # e.g. the scenario's "layered" one
        "reserve_rate": _slider("Reserve rate 风险准备金",
                                float(platform.guarantee.get("principal_share", 0.01)),
                                0.0, 0.10, 0.0025),
        "macro_shock": _slider("Downturn Z (month 13)",
                               0.0, -4.0, 0.0, 0.25),
        "runs": {"type": "Checkbox", "label": "Runs 挤兑 (trust)",
                 "value": scenario.runs.enabled},
        "trust_shock": _slider("Bad press (day 360)",
                               0.0, 0.0, 0.8, 0.05),
    }
    if platform.risk.get("policy") == "scorecard":
        cutoff = platform.risk.get("min_score", 300.0)
        params["min_score"] = {"type": "SliderInt", "label": "Score cutoff",
                               "value": int(cutoff if isinstance(cutoff, int | float) else 300),
                               "min": 300, "max": 800, "step": 10}
    if platform.marketing.get("channels"):
        params["marketing_scale"] = _slider("Marketing budget ×", 1.0, 0.0, 3.0,
                                            0.1)
    return params


def overrides(scenario: Scenario, values: dict) -> dict:
    """Scenario overrides (``P2PMarket(**overrides)`` keys) for the inputs' ``values``."""
    platform = scenario.platforms[0]
    out = {"platforms__0__service_fee": float(values["service_fee"]),
           "platforms__0__management_fee": float(values["management_fee"]),
           "platforms__0__guarantee": _guarantee(platform.guarantee, values["guarantee"],
                                                 float(values["reserve_rate"]))}
    if "min_score" in values:
        out["platforms__0__risk__min_score"] = float(values["min_score"])
    if "marketing_scale" in values:
        channels = [dict(c, budget_monthly_cny=c["budget_monthly_cny"] * values["marketing_scale"])
                    for c in platform.marketing["channels"]]
        out["platforms__0__marketing__channels"] = channels
    if values["macro_shock"]:
        out["macro__shock_path"] = [[SHOCK_MONTH, float(values["macro_shock"])]]
    out["runs__enabled"] = bool(values["runs"])
    if values["runs"] and values["trust_shock"] and scenario.run.horizon_days > TRUST_SHOCK_DAY:
        event = {"day": TRUST_SHOCK_DAY, "kind": "bad_press",
                 "trust_shock": float(values["trust_shock"])}
        out["runs__events"] = [*(e.model_dump() for e in scenario.runs.events), event]
    return out


def _guarantee(current: dict, policy: str, reserve_rate: float) -> dict:
    """The guarantee table: the scenario's own if it is the same policy, else the policy's defaults."""
    table = dict(current) if current.get("policy") == policy else {"policy": policy}
    if policy == "reserve_fund":
        table["principal_share"] = reserve_rate
    return table


def _slider(label: str, value: float, low: float, high: float, step: float) -> dict:
    return {"type": "SliderFloat", "label": label, "value": float(value), "min": low, "max": high,
            "step": step}
