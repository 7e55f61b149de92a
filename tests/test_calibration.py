"""The baseline's calibrated numbers are what the calibration script computes from the data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sim.scenario import BorrowersConfig, GradesConfig, load_scenario

from .conftest import ROOT, SCENARIOS

SCRIPT = ROOT / "calibration" / "calibrate_lendingclub.py"
DATA = ROOT.parent / "shared" / "data" / "lendingclub_2007_2010.csv.gz"


@pytest.fixture(scope="module")
def calibrated():
    if not DATA.exists():
        pytest.skip(f"calibration data not found at {DATA}")
    spec = importlib.util.spec_from_file_location("calibrate_lendingclub", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.calibrate(Path(DATA))


def test_baseline_and_defaults_use_the_calibration(calibrated):
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    for key, value in calibrated["grades"].items():
        assert getattr(baseline.grades, key) == value, key
        assert getattr(GradesConfig(), key) == value, key
    for key, value in calibrated["borrowers"].items():
        assert getattr(baseline.borrowers, key) == value, key
        assert getattr(BorrowersConfig(), key) == value, key


def test_calibration_is_plausible(calibrated):
    grades = calibrated["grades"]
    hazards = grades["default_hazard_monthly"]
    assert hazards == sorted(hazards)  # worse grades default more
    assert grades["annual_rate"] == sorted(grades["annual_rate"])
    assert abs(sum(grades["application_share"]) - 1) < 1e-9
