"""One rule, many representations: a channel or behaviour at zero strength is, to the fen, switched off.

Each pair runs the 2018 industry (small, every other channel and behaviour on, with new investors'
decisions and entrants as the scenario has them) once with the mechanism at zero strength and
once switched off, and compares the trackers' monthly table, the fates and the ledger's journal
byte for byte: paired experiments rely on it (common random numbers).
"""

from __future__ import annotations

import pytest

from sim.model import P2PMarket

from .conftest import ROOT

SCENARIO = ROOT / "scenarios" / "thunderstorm_2018.toml"
SMALL = {"industry__platforms": 40, "industry__investors": 4000}
WAVE_DAYS = 630  # to September 2018: every dated event and the wave (the rest adds time, not cases)
NO_NEWS = {f"industry__events__{i}__news": 0.0 for i in range(5)}  # the news enter by sentiment
ON = {"runs__enabled": True, "industry__behaviour__flight_share": 0.3}  # the decisions on

PAIRS = {
    "shared_investors": ({"industry__channels__shared_investors__trust_lost": 0.0},
                         {"industry__channels__shared_investors__enabled": False}),
    "network": ({"industry__channels__network__trust_lost": 0.0},
                {"industry__channels__network__enabled": False}),
    "sentiment": ({"industry__channels__sentiment__impact": 0.0,
                   "industry__channels__sentiment__news_per_failure": 0.0, **NO_NEWS},
                  {"industry__channels__sentiment__enabled": False, **NO_NEWS}),
    "co_debt": ({"industry__channels__co_debt__stop_probability": 0.0,
                 "industry__channels__co_debt__wear_multiplier": 0.0},
                {"industry__channels__co_debt__enabled": False}),
    "entrants": ({"industry__entrants__rate_multiplier": 0.0},
                 {"industry__entrants__enabled": False}),
    "decisions": ({"runs__withdraw_below": 0.0, "runs__threshold_sd": 0.0,
                   "runs__stop_reinvest_margin": 0.0},  # every trust >= 0: nobody decides
                  {"runs__enabled": False}),
}


def outputs(**overrides) -> dict[str, str]:
    """The run's monthly table, fates and journal as text."""
    market = P2PMarket(SCENARIO, rng=5, **SMALL, **{**ON, **overrides})
    market.run(WAVE_DAYS)
    industry = market.industry
    return {"monthly": industry.tracker.frame().to_csv(index=False),
            "failures": str(sorted(map(int, industry.problem_day))),
            "journal": market.ledger.journal().to_csv(index=False)}


FAST = ("network", "decisions")  # the others (10-14 s each) in make test-slow, which CI runs too


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
                                  for n in PAIRS])
def test_zero_strength_equals_switched_off_with_every_other_mechanism_on(name):
    zero, off = PAIRS[name]
    at_zero, switched_off = outputs(**zero), outputs(**off)
    assert at_zero["failures"] == switched_off["failures"]
    assert at_zero["monthly"] == switched_off["monthly"]
    assert at_zero["journal"] == switched_off["journal"]
