"""The dashboard's inputs, model and views without a browser, and its command's refusals."""

from __future__ import annotations

import socket

import pytest
import solara

from sim.cli import main
from sim.dashboard import charts
from sim.dashboard.inputs import model_params
from sim.dashboard.model import DashboardMarket
from sim.model import P2PMarket

BASELINE = "scenarios/baseline.toml"


def test_inputs_reach_the_scenario():
    market = DashboardMarket(BASELINE, service_fee=0.045, management_fee=0.2,
                             guarantee="reserve_fund", reserve_rate=0.03, min_score=620,
                             macro_shock=-2.5, runs=True, trust_shock=0.4)
    platform, config = market.config.platforms[0], market.config
    assert platform.service_fee == 0.045 and platform.management_fee == 0.2
    assert platform.guarantee == {"policy": "reserve_fund", "principal_share": 0.03}
    assert platform.risk["min_score"] == 620 and platform.risk["max_dti"] == 35.0  # others kept
    assert config.macro.shock_path == [(12, -2.5)]
    assert config.runs.enabled and config.runs.events[-1].trust_shock == 0.4
    assert config.runs.events[-1].day == 360


def test_the_scenarios_own_values_are_the_defaults():
    market = DashboardMarket("scenarios/reserve_fund.toml")
    assert market.config.platforms[0].guarantee["policy"] == "reserve_fund"
    params = model_params("scenarios/reserve_fund.toml", market.config)
    rate = market.config.platforms[0].guarantee["principal_share"]
    assert params["reserve_rate"]["value"] == rate and params["guarantee"]["value"] == "reserve_fund"
    assert "marketing_scale" not in params  # no marketing channels there


def test_the_marketing_budget_scales_every_channel():
    plain = DashboardMarket("scenarios/online_offline.toml")
    doubled = DashboardMarket("scenarios/online_offline.toml", marketing_scale=2.0)
    budgets = [[c["budget_monthly_cny"] for c in m.config.platforms[0].marketing["channels"]]
               for m in (plain, doubled)]
    assert budgets[1] == [2 * b for b in budgets[0]] and budgets[0]


def test_an_unknown_input_is_refused():
    with pytest.raises(TypeError, match="unknown dashboard input"):
        DashboardMarket(BASELINE, service_charge=0.1)


def test_every_view_draws_a_running_market():
    market = DashboardMarket(BASELINE, runs=True)
    market.run(60)
    for view in (charts.key_numbers, charts.volume_chart, charts.arrears_chart,
                 charts.protection_chart, charts.platforms_view, charts.runs_chart):
        assert isinstance(view(market), solara.Element)
    assert "| day | 60 of 1,080 |" in charts.key_numbers_text(market)


def test_many_platforms_are_shown_as_a_distribution_and_the_largest():
    platforms = [{"name": f"p{i}", "market_share": 1 / 14, "investor_share": 1 / 14}
                 for i in range(14)]
    market = P2PMarket({"run": {"horizon_days": 30}, "platforms": platforms,
                        "investors": {"count": 1400}}, audit="off")
    market.run()
    view = charts.platforms_view(market)
    figure, table = view.kwargs["children"]
    assert len(table.args[0]) == charts.MANY_PLATFORMS
    assert figure.args[0].axes[0].get_xlabel().startswith("outstanding principal")


def test_a_port_in_use_is_refused_with_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", BASELINE, "--port", str(port), "--no-browser"]) == 2
    assert f"--port {port}: in use" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["scenarios/nothing.toml"], "nothing.toml"),
    ([BASELINE, "--port", "70000"], "--port 70000: must be 1 to 65535"),
    ([BASELINE, "--host", "999.1.2.3"], "--host 999.1.2.3: not an address or a name"),
    ([BASELINE, "--host", "no-such-host.invalid"], "--host no-such-host.invalid: not an address"),
    ([BASELINE, "--host", "192.0.2.1"], "--host 192.0.2.1: not an address of this machine"),
])
def test_bad_dashboard_requests_exit_2(argv, words, capsys):
    assert main(["dashboard", *argv, "--no-browser"]) == 2
    assert words in capsys.readouterr().err
