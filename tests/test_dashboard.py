"""The dashboard's inputs, model and views without a browser, and its command's refusals."""

from __future__ import annotations

import math
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import solara

from sim.cli import main
from sim.dashboard import charts
from sim.dashboard.inputs import input_specs
from sim.dashboard.model import DashboardMarket
from sim.dashboard.numbers import daily, minimum_cash_cny, runway_months
from sim.outputs.losses import loss_layers

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
    params = input_specs(market.config)
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
    for view in (charts.key_numbers_view, charts.volume_chart, charts.arrears_chart,
                 charts.reserve_chart, charts.cash_chart, charts.loss_waterfall,
                 charts.platforms_view, charts.runs_chart):
        assert isinstance(view(market), solara.Element)
    assert "<td>day</td><td style='text-align:right'>60 of 1,080 (running)</td>" in (
        charts.key_numbers_html(market))


def test_many_platforms_are_shown_as_a_distribution_and_the_largest(tmp_path):
    scenario = tmp_path / "many.toml"
    scenario.write_text('[run]\nhorizon_days = 30\n[investors]\ncount = 1400\n' + "".join(
        f'[[platforms]]\nname = "p{i}"\nmarket_share = {1 / 14}\ninvestor_share = {1 / 14}\n'
        for i in range(14)))
    market = DashboardMarket(str(scenario))
    market.run()
    view = charts.platforms_view(market)
    figure, table = view.kwargs["children"]
    assert len(table.args[0]) == charts.MANY_PLATFORMS
    assert figure.args[0].axes[0].get_xlabel().startswith("outstanding principal")
    assert table.args[0]["outstanding, M CNY"].str.match(r"^[\d,]+\.\d\d$").all()  # formatted


def _short(tmp_path, days: int, base: str = BASELINE) -> str:
    scenario = tmp_path / "short.toml"
    scenario.write_text(f'based_on = "{Path(base).resolve()}"\n[run]\nhorizon_days = {days}\n')
    return str(scenario)


def test_a_market_stops_at_its_horizon_and_says_so(tmp_path):
    market = DashboardMarket(_short(tmp_path, 33))
    assert market.advance(7) == 7 and not market.finished
    assert market.advance(700) == 26  # the last frame stops at the horizon, not 7 days on
    assert market.finished and market.day == 33
    market.step()
    assert market.day == 33
    assert "33 of 33 (finished)" in charts.key_numbers_html(market)


def test_two_threads_stepping_one_market_take_turns():
    """The lock: two frames asked for at once run one after the other, every day once."""
    market, alone = DashboardMarket(BASELINE), DashboardMarket(BASELINE)
    threads = [threading.Thread(target=market.advance, args=(30,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    alone.advance(60)
    assert market.day == 60
    assert daily(market).equals(daily(alone))  # the same days as one visitor stepping alone


def test_each_visitor_has_a_market_of_their_own():
    first, second = DashboardMarket(BASELINE), DashboardMarket(BASELINE)
    first.advance(14)
    assert (first.day, second.day) == (14, 0)


def test_the_scenarios_own_bad_press_is_the_input_s_default():
    market = DashboardMarket("scenarios/run_fund_pool.toml")
    spec = market.specs["trust_shock"]
    assert spec["value"] == 0.45 and spec["label"] == "Bad press (day 360)"
    assert [(e.kind, e.trust_shock) for e in market.config.runs.events] == [("bad_press", 0.45)]
    calm = DashboardMarket("scenarios/run_fund_pool.toml", trust_shock=0.0)
    assert [e.trust_shock for e in calm.config.runs.events] == [0.0]  # the input is the event


def test_the_inputs_apply_to_the_platform_chosen():
    specs = DashboardMarket.specs_for("scenarios/two_platforms.toml", 1)
    assert specs["platform"]["names"] == ["steady", "fast"]
    market = DashboardMarket("scenarios/two_platforms.toml", platform=1, service_fee=0.07)
    base = DashboardMarket("scenarios/two_platforms.toml")
    assert market.config.platforms[1].service_fee == 0.07
    assert market.config.platforms[0].service_fee == base.config.platforms[0].service_fee
    assert specs["service_fee"]["value"] == base.config.platforms[1].service_fee


def test_the_loss_waterfall_ties_to_the_ledger():
    market = DashboardMarket("scenarios/layered_protection.toml")
    market.advance(500)
    layers = loss_layers(daily(market))
    journal = market.ledger.journal()
    kind = journal.source.str.split(":").str[0]
    paid = journal[journal.memo == "guarantee_payout"].groupby(kind).amount_fen.sum()
    written_off = journal[journal.memo.isin(["default_write_off", "held_write_off"])]
    for label, account in [("paid by the reserve fund (风险准备金)", "reserve_fund"),
                           ("paid by the guarantor (代偿)", "guarantor_capital"),
                           ("paid by the insurer", "world")]:
        assert paid[account] > 0
        assert round(layers[label] * 100) == paid[account]
    assert round(layers["written off (坏账核销)"] * 100) == written_off.amount_fen.sum()


def test_the_runway_and_the_plans_minimum_cash():
    market = DashboardMarket("scenarios/seed_business_plan.toml")
    assert minimum_cash_cny(market) == 2_000_000
    assert minimum_cash_cny(DashboardMarket(BASELINE)) is None
    rows = pd.DataFrame({"platform_cash_cny": [100.0 - 2 * d for d in range(31)]})
    assert runway_months(rows, 40.0) == pytest.approx(40 / 60)  # 60 CNY a month out
    assert math.isinf(runway_months(rows.iloc[::-1], 40.0))


def _serving_dashboard() -> tuple[subprocess.Popen, int]:
    """A ``p2psim dashboard`` on a free port, once its server answers: the command and the port."""
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    parent = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", BASELINE, "--port",
                               str(port), "--no-browser"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not _serving(port) and time.time() < deadline and parent.poll() is None:
        time.sleep(0.2)
    return parent, port


def test_the_dashboard_server_leaves_no_process_after_sigterm():
    parent, port = _serving_dashboard()
    assert _serving(port)
    assert _processes_with(f"--port {port}")  # the server child
    parent.send_signal(signal.SIGTERM)  # the command only, as a process manager would
    assert parent.wait(timeout=30) == 0
    time.sleep(0.5)
    assert not _processes_with(f"--port {port}") and not _serving(port)


def test_the_dashboard_server_dies_with_a_command_killed_outright():
    parent, port = _serving_dashboard()
    assert _serving(port) and _processes_with(f"--port {port}")
    parent.kill()  # SIGKILL: no handler runs, as when a time-out kills the command
    parent.wait(timeout=30)
    deadline = time.time() + 15
    while (_processes_with(f"--port {port}") or _serving(port)) and time.time() < deadline:
        time.sleep(0.2)
    assert not _processes_with(f"--port {port}") and not _serving(port)


def test_an_ipv6_host_is_shown_in_brackets_and_a_host_not_in_ascii_is_refused(capsys):
    from sim.dashboard.server import url

    assert url("::1", 8765) == "http://[::1]:8765/" and url("localhost", 1) == "http://localhost:1/"
    assert main(["dashboard", BASELINE, "--host", "ｌｏｃａｌｈｏｓｔ", "--no-browser"]) == 2
    assert "write it in ASCII" in capsys.readouterr().err


def _serving(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("localhost", port)) == 0


def _processes_with(words: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if words in line and entry.name.isdigit():
            found.append(int(entry.name))
    return found


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
