"""The dashboard's inputs: the main policy parameters of one platform of a scenario.

Each input is a spec (``type``: SliderFloat, SliderInt, Select or Checkbox; ``label``; ``value``;
bounds and step; ``unit``) that the sidebar draws (:mod:`sim.dashboard.panel`), and a rule that turns
its value into scenario overrides (:func:`overrides`). docs/dashboard.md lists them with their units.
Only inputs that mean something for the scenario are offered: the platform selector needs several
platforms, the score cutoff the ``scorecard`` risk policy, the marketing budget marketing channels.
A scenario's own dated shock is the default of its input (its ``bad_press`` event's trust shock),
so an input never hides an event the scenario fires.
"""

from __future__ import annotations

from sim.scenario import Scenario

GUARANTEES = ["none", "reserve_fund", "guarantor", "insurance"]
SHOCK_MONTH = 12          # the macro downturn's month (its 13th)
TRUST_SHOCK_DAY = 360     # the day of the bad press when the scenario has none of its own


def input_specs(scenario: Scenario, platform: int = 0) -> dict[str, dict]:
    """The inputs for ``scenario`` with its own values for platform number ``platform``."""
    chosen = scenario.platforms[platform]
    guarantee = chosen.guarantee.get("policy", "none")
    day, shock = bad_press(scenario)
    specs = {}
    if len(scenario.platforms) > 1:
        specs["platform"] = {"type": "Select", "label": "Platform (inputs apply to it)",
                             "value": platform, "unit": "",
                             "values": list(range(len(scenario.platforms))),
                             "names": [p.name for p in scenario.platforms]}
    specs |= {
        "service_fee": _slider("Service fee 借款服务费", chosen.service_fee, 0.0, 0.10, 0.005,
                               "of principal"),
        "management_fee": _slider("Management fee 利息管理费", chosen.management_fee, 0.0, 0.30,
                                  0.01, "of investors' interest"),
        "guarantee": {"type": "Select", "label": "Protection 保障", "value": guarantee, "unit": "",
                      "values": [*GUARANTEES, *([guarantee] if guarantee not in GUARANTEES
                                                else [])]},  # e.g. the scenario's "layered" one
        "reserve_rate": _slider("Reserve rate 风险准备金",
                                float(chosen.guarantee.get("principal_share", 0.01)),
                                0.0, 0.10, 0.0025, "of principal"),
        "macro_shock": _slider(f"Downturn Z (month {SHOCK_MONTH + 1})", 0.0, -4.0, 0.0, 0.25,
                               "macro factor"),
        "runs": {"type": "Checkbox", "label": "Runs 挤兑 (trust)", "value": scenario.runs.enabled,
                 "unit": ""},
        "trust_shock": _slider(f"Bad press (day {day})", shock, 0.0, 0.8, 0.05, "trust lost"),
    }
    if chosen.risk.get("policy") == "scorecard":
        cutoff = chosen.risk.get("min_score", 300.0)
        specs["min_score"] = {"type": "SliderInt", "label": "Score cutoff", "unit": "points",
                              "value": int(cutoff if isinstance(cutoff, int | float) else 300),
                              "min": 300, "max": 800, "step": 10}
    if chosen.marketing.get("channels"):
        specs["marketing_scale"] = _slider("Marketing budget ×", 1.0, 0.0, 3.0, 0.1,
                                           "× the scenario's")
    return specs


def bad_press(scenario: Scenario) -> tuple[int, float]:
    """The day and trust shock of the scenario's first ``bad_press`` event, or (360, 0)."""
    for event in scenario.runs.events:
        if event.kind == "bad_press":
            return event.day, float(event.trust_shock)
    return TRUST_SHOCK_DAY, 0.0


def overrides(scenario: Scenario, values: dict) -> dict:
    """Scenario overrides (``P2PMarket(**overrides)`` keys) for the inputs' ``values``."""
    index = int(values.get("platform", 0))
    platform, key = scenario.platforms[index], f"platforms__{index}"
    out = {f"{key}__service_fee": float(values["service_fee"]),
           f"{key}__management_fee": float(values["management_fee"]),
           f"{key}__guarantee": _guarantee(platform.guarantee, values["guarantee"],
                                           float(values["reserve_rate"]))}
    if "min_score" in values:
        out[f"{key}__risk__min_score"] = float(values["min_score"])
    if "marketing_scale" in values:
        channels = [dict(c, budget_monthly_cny=c["budget_monthly_cny"] * values["marketing_scale"])
                    for c in platform.marketing["channels"]]
        out[f"{key}__marketing__channels"] = channels
    if values["macro_shock"]:
        out["macro__shock_path"] = [[SHOCK_MONTH, float(values["macro_shock"])]]
    out["runs__enabled"] = bool(values["runs"])
    out["runs__events"] = _events(scenario, float(values["trust_shock"]))
    return out


def _events(scenario: Scenario, trust_shock: float) -> list[dict]:
    """The scenario's events with its bad press at ``trust_shock`` (added on day 360 if it has none)."""
    events = [e.model_dump() for e in scenario.runs.events]
    for event in events:
        if event["kind"] == "bad_press":
            event["trust_shock"] = trust_shock  # 0: the news does not move anyone
            return events
    if trust_shock > 0 and scenario.run.horizon_days > TRUST_SHOCK_DAY:
        events.append({"day": TRUST_SHOCK_DAY, "kind": "bad_press", "trust_shock": trust_shock})
    return events


def _guarantee(current: dict, policy: str, reserve_rate: float) -> dict:
    """The guarantee table: the scenario's own if it is the same policy, else the policy's defaults."""
    table = dict(current) if current.get("policy") == policy else {"policy": policy}
    if policy == "reserve_fund":
        table["principal_share"] = reserve_rate
    return table


def _slider(label: str, value: float, low: float, high: float, step: float, unit: str) -> dict:
    return {"type": "SliderFloat", "label": label, "value": float(value), "min": low, "max": high,
            "step": step, "unit": unit}
