"""The baseline's calibrated numbers are what the calibration script computes from the data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
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


@pytest.fixture(scope="module")
def seasoning():
    if not DATA.exists():
        pytest.skip(f"calibration data not found at {DATA}")
    import sys
    sys.path.insert(0, str(ROOT / "calibration"))
    import seasoning as module
    loans = module.exits(module.load_tape(Path(DATA)))
    return module, loans, module.fit(loans)


def test_seasoned_baseline_uses_the_seasoning_fit(seasoning):
    _, _, fitted = seasoning
    table = load_scenario(SCENARIOS / "baseline_seasoned.toml").grades.seasoning
    assert table.model_dump() == fitted


def test_seasoning_fit_reproduces_the_tapes_cumulative_shares(seasoning):
    """Default and prepayment within 36 months, by grade and term: fitted within sampling error."""
    module, loans, fitted = seasoning
    table = module.check_table(loans, loans, fitted)
    assert len(table) == 28  # 7 grades x 2 terms x 2 causes
    assert (table.z.abs() < 2.5).all(), table[table.z.abs() >= 2.5]
    assert (table.z.abs() < 1.0).mean() > 0.6  # as a calibrated model's z-scores should be
    shape = np.array(fitted["default_multiplier"])
    assert (shape[:, :, 0] < shape[:, :, 1]).all()  # few defaults in a loan's first six months
