"""``p2psim report``: one self-contained HTML file per results folder, and its refusals."""

from __future__ import annotations

import base64
import html as html_module
import io
import json
import math
import re
import shutil
import tomllib

import pandas as pd
import pytest

from sim import strict_json
from sim.cli import main
from sim.folders import MARKER
from sim.money import estimate_text
from sim.outputs.labels import is_allowed
from sim.report import write_report
from sim.report.html import cell_text
from sim.report.scenario_text import scenario_toml


def _report(folder, tmp_path, name):
    return write_report(folder, tmp_path / f"{name}.html").read_text(encoding="utf-8")


def _self_contained(html: str) -> None:
    assert "<link" not in html and "<script" not in html
    assert not re.search(r'src="(?!data:image/png;base64,)', html)  # every image embedded
    assert html.count("data:image/png;base64,") >= 1


def test_a_run_report_has_its_key_numbers_figures_and_provenance(results_folders, tmp_path):
    folder = results_folders["run"]
    html = _report(folder, tmp_path, "run")
    _self_contained(html)
    summary = strict_json.loads((folder / "summary.json").read_text())
    meta = strict_json.loads((folder / "metadata.json").read_text())
    assert f"{summary['volume_cny'] / 1e6:,.2f}" in html and "volume lent, M CNY" in html
    assert f"{summary['run_losses_cny'] / 1e6:,.2f}" in html  # the pool's run is in this one
    assert meta["git_revision"] in html and f"<b>{meta['seed']}</b>" in html
    assert "清盘" in html  # the failed pool's state in the platforms table
    assert html.count("data:image/png;base64,") >= 4  # overview, platforms, company, runs


def test_an_experiment_report_has_every_point_with_errors(results_folders, tmp_path):
    folder = results_folders["experiment"]
    html = _report(folder, tmp_path, "experiment")
    _self_contained(html)
    summary = pd.read_csv(folder / "summary.csv")
    assert "Experiment: fees" in html and "service fee (platform 0)" in html
    volume = summary[summary.output == "volume_cny"].iloc[0]
    se = volume["se"] / 1e6  # shown in M CNY, the mean rounded to two digits of its error
    mean = round(volume["mean"] / 1e6, max(0, 1 - math.floor(math.log10(se))))
    assert "volume lent, M CNY: each point" in html
    assert f"<td>{cell_text(mean, 'cny')}</td>" in html
    assert json.loads((folder / "done.json").read_text())["git_revision"] in html


def test_a_plan_report_gives_each_targets_odds_with_its_error(results_folders, tmp_path):
    folder = results_folders["plan"]
    html = _report(folder, tmp_path, "plan")
    _self_contained(html)
    plan = strict_json.loads((folder / "plan.json").read_text())
    for target in plan["targets"]:
        assert f"P({target['target']})" in html.replace("&gt;", ">").replace("&lt;", "<")
        assert f"{target['probability']:.1%} ± {target['standard_error']:.1%}" in html


def test_a_reserve_report_gives_the_size_each_confidence_needs(results_folders, tmp_path):
    folder = results_folders["reserve"]
    html = _report(folder, tmp_path, "reserve")
    _self_contained(html)
    summary = strict_json.loads((folder / "summary.json").read_text())
    for need in summary["requirements"]:  # rounded to the error, as a share of the book
        assert estimate_text(need["initial_reserve_cny"], need["initial_reserve_se"],
                             (need["initial_reserve_low"], need["initial_reserve_high"])) in html
        assert f"{need['initial_reserve_cny_share']:.1%}" in html
    assert "book sized (exposure)" in html and "Against the closed form" in html
    assert "What makes the tail" in html
    warnings = html.index('id="warnings"')  # the warnings come first, before the key numbers
    assert warnings < html.index("Key numbers")
    for text in summary["warnings"]:
        assert html_module.escape(text) in html


def test_the_scenario_text_reads_back_as_the_scenario(results_folders):
    scenario = json.loads((results_folders["run"] / "metadata.json").read_text())["scenario"]

    def without_none(value):
        if isinstance(value, dict):
            return {k: without_none(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [without_none(v) for v in value]
        return value

    assert tomllib.loads(scenario_toml(scenario)) == without_none(scenario)


def test_the_command_writes_the_report_into_the_folder(results_folders, capsys):
    folder = results_folders["reserve"]
    assert main(["report", str(folder)]) == 0
    assert (folder / "report.html").stat().st_size > 10_000
    assert "report.html" in capsys.readouterr().out


def _broken(tmp_path, results_folders, kind, remove=None, marker=None):
    copy = tmp_path / f"{kind}-copy"
    shutil.copytree(results_folders[kind], copy)
    (copy / "report.html").unlink(missing_ok=True)
    if remove:
        (copy / remove).unlink()
    if marker is not None:
        (copy / MARKER).write_text(json.dumps(marker))
    return copy


@pytest.mark.parametrize("make, words", [
    (lambda t, r: t / "nowhere", "no such folder"),
    (lambda t, r: (t / "empty").mkdir() or t / "empty", "is empty"),
    (lambda t, r: (t / "mine").mkdir() or (t / "mine" / "a.txt").write_text("x") and t / "mine",
     "not a p2psim results folder"),
    (lambda t, r: _broken(t, r, "run", marker={"kind": "poem"}), "unknown kind 'poem'"),
    (lambda t, r: _broken(t, r, "reserve", marker={"kind": "paths"}),
     "a reserve study or a board that has not finished"),
    (lambda t, r: _broken(t, r, "experiment", remove="summary.csv"),
     "missing summary.csv; finish it with p2psim experiment"),
    (lambda t, r: _broken(t, r, "run", remove="timeseries.parquet",
                          marker={"kind": "run", "p2psim": "0.0.1"}),
     "made by p2psim 0.0.1, an older format"),
])
def test_bad_results_folders_exit_2_and_write_nothing(make, words, tmp_path, results_folders,
                                                      capsys):
    folder = make(tmp_path, results_folders)
    before = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else None
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    after = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else None
    assert before == after


def _tampered(tmp_path, results_folders, kind, name, content):
    """A copy of a results folder of ``kind`` whose file ``name`` is replaced by ``content``.

    ``content`` is the new text, an edit of the old text (a function), or None: the folder
    ``name`` replaced by a file.
    """
    copy = _broken(tmp_path, results_folders, kind)
    target = copy / name
    if content is None:
        shutil.rmtree(target)
        target.write_text("x")
    elif callable(content):  # an edit of the file as written
        edited = content(target.read_text(encoding="utf-8"))
        assert edited != target.read_text(encoding="utf-8")
        target.write_text(edited, encoding="utf-8")
    else:
        target.write_text(content, encoding="utf-8")
    return copy


def _board(tmp_path, results_folders, board_csv):
    """A board's folder (a reserve study as its one scheme) whose board.csv is ``board_csv``."""
    from sim import __version__

    copy = tmp_path / "board"
    shutil.copytree(results_folders["reserve"], copy / "schemes" / "one")
    (copy / MARKER).write_text(json.dumps({"kind": "board", "p2psim": __version__}))
    (copy / "board.csv").write_text(board_csv, encoding="utf-8")
    return copy


@pytest.mark.parametrize("kind, name, content, words", [
    ("run", "summary.json", "{not json", "summary.json: not readable JSON"),
    ("run", "summary.json", "[1, 2]", "summary.json: holds a list"),
    ("run", "summary.json", '{"a": NaN, "b": Infinity}', "holds none of a run's statistics"),
    ("run", "metadata.json", '{"seed": 1}', "metadata.json: lacks the key 'scenario'"),
    ("run", "statements.csv", "", "statements.csv: is empty"),
    ("industry", "monthly.csv", "garbage\n\x01\x02", "monthly.csv: lacks the columns month"),
    ("industry", "summary.json", '{"name": "x"}', "summary.json: lacks the key 'industry_platforms'"),
    ("reserve", "exhaustion.csv", "", "exhaustion.csv: is empty"),
    ("reserve", "summary.json", lambda t: re.sub(r'"paths": \d+', '"paths": NaN', t),
     "summary.json changed since p2psim wrote it"),
    ("reserve", "summary.json", lambda t: re.sub(r'"paths": \d+', '"paths": Infinity', t),
     "summary.json changed since p2psim wrote it"),
    ("run", "summary.json", lambda t: re.sub(r'"loans_funded": \d+', '"loans_funded": NaN', t),
     "summary.json changed since p2psim wrote it"),
    ("reserve", "requirements.csv", "", "requirements.csv changed since p2psim wrote it"),
    ("experiment", "experiment.json", '{"experiment": {}, "inputs": [1, 2]}',
     "experiment.json: lacks the key 'experiment'"),
    ("experiment", "experiment.json", lambda t: json.dumps({**json.loads(t), "inputs": [1, 2]}),
     "reports"),
    ("experiment", "summary.csv", "a,b\n1,2\n", "summary.csv: lacks the columns point"),
    ("experiment", "figures", None, "RESULTS_DIR"),
])
def test_a_tampered_results_folder_is_refused_naming_the_file(tmp_path, results_folders, capsys,
                                                             kind, name, content, words):
    folder = _tampered(tmp_path, results_folders, kind, name, content)
    before = sorted(p.name for p in folder.iterdir())
    code = main(["report", str(folder)])
    err = capsys.readouterr().err
    if content is None or words == "reports":  # a file for the figures' folder, NaN, Infinity:
        assert code == 0 and "Traceback" not in err, err  # the report shows what it can
        return
    assert code == 2 and words in err and "Traceback" not in err, err
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("board_csv, words", [
    ("\x00\x01garbage", "board.csv: lacks the columns scheme"),
    ("", "board.csv: is empty"),
    ("scheme,layer sized,method,P(short within horizon) as configured,P(short) se,"
     "effective paths,paths\n", "board.csv: has no rows"),
    ("scheme,layer sized,method\n", "board.csv: lacks the columns P(short within horizon)"),
])
def test_a_board_folder_with_a_garbage_table_is_refused(tmp_path, results_folders, capsys,
                                                        board_csv, words):
    assert main(["report", str(_board(tmp_path, results_folders, board_csv))]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err


def test_an_industry_folder_reports(results_folders, tmp_path):
    html = _report(results_folders["industry"], tmp_path, "industry")
    _self_contained(html)
    assert "problem platforms" in html and "the trackers&#x27; table" in html
    assert "Contagion" in html or "contagion network" in html
    assert "Problem platforms by province" in html


@pytest.mark.parametrize("out, words", [("{tmp}", "is a folder"),
                                        ("{tmp}/no/such/report.html", "does not exist"),
                                        ("/proc/self/report.html", "cannot write there")])
def test_a_bad_out_file_exits_2(out, words, tmp_path, results_folders, capsys):
    assert main(["report", str(results_folders["run"]), "--out", out.format(tmp=tmp_path)]) == 2
    assert words in capsys.readouterr().err


KINDS = ["run", "experiment", "plan", "reserve", "industry"]


def _tables(html: str) -> list[tuple[list[str], list[list[str]], str]]:
    """Each table of a page: its headers, its cells' texts, and its embedded CSV (decoded)."""
    found = []
    for match in re.finditer(r'<table id="(table-\d+)">(.*?)</table>.*?base64,([A-Za-z0-9+/=]+)"',
                             html, re.S):
        body = match[2]
        heads = [html_module.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body)]
        rows = [[html_module.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
                for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1])]
        found.append((heads, rows, base64.b64decode(match[3]).decode("utf-8")))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_no_header_is_a_bare_code_name(kind, results_folders, tmp_path):
    """Every header is a label from the registries (sim.outputs.labels), with its unit."""
    tables = _tables(_report(results_folders[kind], tmp_path, kind))
    assert tables
    headers = {h for heads, _, _ in tables for h in heads}
    assert not [h for h in headers if not is_allowed(h)], headers
    assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+([_.][a-z0-9]+)+", h)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_embedded_csv_reads_back_equal_to_its_table(kind, results_folders, tmp_path):
    page = _report(results_folders[kind], tmp_path, kind)
    tables = _tables(page)
    assert len(tables) == page.count("<table id=\"table-") >= 1
    assert page.count("download this table (CSV)") == page.count("<table ")  # key numbers too
    for heads, rows, text in tables:
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False)
        assert list(frame.columns) == heads
        assert len(frame) == len(rows)
        for row, cells in zip(frame.itertuples(index=False), rows):
            for value, cell in zip(row, cells):
                _same(value, cell)


def _same(value, cell: str) -> None:
    """A CSV value and the cell that shows it: the same number to the cell's digits, or text."""
    shown = cell.replace(",", "")
    if re.fullmatch(r"[+-]?\d+(\.\d+)?(e-?\d+)?", shown):
        decimals = len(shown.split(".")[1]) if "." in shown and "e" not in shown else 0
        tolerance = 0.5 * 10 ** -decimals if "e" not in shown else abs(float(shown)) * 0.05
        assert abs(float(value) - float(shown)) <= tolerance * 1.0001 + 1e-12, (value, cell)
    elif cell == "–":
        assert value == "" or (isinstance(value, float) and math.isnan(value)), (value, cell)
    elif cell in ("yes", "no"):
        assert str(value) in ("True", "False", cell)
    else:
        assert str(value) == cell, (value, cell)


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_the_comparison_of_two_runs_shows_their_differences(results_folders, tmp_path):
    second = tmp_path / "dearer"
    assert main(["run", "scenarios/run_fund_pool.toml", "--set", "run.horizon_days=420", "--set",
                 "investors.count=3000", "--set", "platforms.0.service_fee=0.05", "--out",
                 str(second), "--quiet"]) == 0
    out = tmp_path / "comparison.html"
    assert main(["report", str(results_folders["run"]), str(second), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    heads, rows, _ = _tables(page)[0]
    assert heads == ["key number", "(1) run", "(2) dearer", "(2) dearer − (1) run"]
    volume = {row[0]: row for row in rows}["volume lent, M CNY"]
    first, other = (strict_json.loads((f / "summary.json").read_text())["volume_cny"] / 1e6
                    for f in (results_folders["run"], second))
    assert volume[1:3] == [f"{first:,.2f}", f"{other:,.2f}"]
    assert float(volume[3].replace(",", "")) == pytest.approx(other - first, abs=0.011)
    assert "platforms.0.service_fee = 0.05" in page  # what differs, in the header
    assert page.count("data:image/png;base64,") >= 1  # the series overlaid


def test_a_comparison_of_two_kinds_is_refused(results_folders, tmp_path, capsys):
    out = tmp_path / "mixed.html"
    assert main(["report", str(results_folders["run"]), str(results_folders["plan"]), "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert "a comparison needs folders of one kind" in err and "Traceback" not in err
    assert not out.exists()


def test_a_run_with_no_overrides_lists_none_whichever_names_its_keys():
    """Issue 42: an industry's summary names keys by alias (events' class): not an override."""
    from sim.report.scenario_text import overrides_text
    from sim.scenario import load_scenario

    path = "scenarios/thunderstorm_2018.toml"
    scenario = load_scenario(path)
    for dump in (scenario.model_dump(mode="json"), scenario.model_dump(mode="json", by_alias=True)):
        assert overrides_text(path, dump) == "none"
    changed = load_scenario(path, {"run.seed": 7})
    assert overrides_text(path, changed.model_dump(mode="json", by_alias=True)) == "run.seed = 7"
