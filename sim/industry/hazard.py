"""The background failure hazard of a platform (平台倒闭风险), calibrated on the WDZJ data.

``data/wdzj_hazard.json`` is written by ``python calibration/industry_hazard.py`` (the method and the
fit's quality: docs/industry.md). A platform's monthly hazard is::

    exp(age band + calendar period + province group + owner type + capital band)

where the first three come from every platform WDZJ listed (6,354) and the last two from the 514
that reported monthly figures in 2017, beyond what the first three explain. A failure's type is
drawn from the period's mix: 停业 (closed), 跑路 (operators fled), 提现困难 (withdrawal
difficulty), 经侦介入 (police investigation), 转型 (transformed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HAZARD_FILE = Path(__file__).resolve().parents[2] / "data" / "wdzj_hazard.json"
OWNER_TYPES = ("listed", "private", "state", "vc_backed")
FAILURE_TYPES = ("停业", "跑路", "提现困难", "经侦介入", "转型")
"""The types of a problem platform (问题平台): every platform the trackers listed as gone or in
trouble (WDZJ's problemPlat.csv lists all five). The tracker counts each as a problem platform,
with the type as a column."""
DISORDERLY_TYPES = ("跑路", "提现困难", "经侦介入")
"""The problem platforms that did not close in order (停业, 转型): what platform_status_2018-08.csv
calls "problem" (its other status is "closed or transformed"). A share of problem platforms, never
a second definition of one."""


@dataclass(frozen=True)
class BackgroundHazard:
    """The fitted effects (log monthly hazard) and the failure types by period."""

    age_bands_months: np.ndarray
    age_effect: np.ndarray
    periods: tuple[str, ...]
    period_effect: np.ndarray
    provinces: tuple[str, ...]
    province_effect: np.ndarray
    owner_effect: np.ndarray  # in the order of OWNER_TYPES
    capital_bands_cny: np.ndarray
    capital_effect: np.ndarray
    failure_types: dict[str, np.ndarray]  # period -> share of each of FAILURE_TYPES

    def monthly(self, age_months: np.ndarray, period: str, province: np.ndarray,
                owner: np.ndarray, capital_cny: np.ndarray) -> np.ndarray:
        """Monthly hazard of each platform (a rate per month; the probability is ``1 - exp(-h)``).

        ``province`` and ``owner``: indices into ``provinces`` and OWNER_TYPES; ``period`` one of
        ``periods`` (the calendar's level: e.g. "2017H1" for a calm year before the wave).
        """
        age = np.searchsorted(self.age_bands_months, age_months, side="right") - 1
        capital = np.searchsorted(self.capital_bands_cny, capital_cny, side="right") - 1
        return np.exp(self.age_effect[age] + self.period_effect[self.periods.index(period)]
                      + self.province_effect[province] + self.owner_effect[owner]
                      + self.capital_effect[capital])

    def failures_today(self, age_days: np.ndarray, period: str, province: np.ndarray,
                       owner: np.ndarray, capital_cny: np.ndarray, operating: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
        """Bool per platform: an operating platform fails today from the background hazard alone.

        Days are the engine's 30/360 days: a day's probability is ``1 - exp(-h / 30)`` with ``h``
        the monthly hazard at the platform's age in whole months.
        """
        hazard = self.monthly(age_days // 30, period, province, owner, capital_cny)
        return operating & (rng.random(len(operating)) < -np.expm1(-hazard / 30))

    def failure_type(self, period: str, count: int, rng: np.random.Generator) -> np.ndarray:
        """Indices into FAILURE_TYPES of ``count`` failures in ``period``."""
        shares = self.failure_types[period]
        return rng.choice(len(FAILURE_TYPES), size=count, p=shares / shares.sum())


def load_hazard(path: str | Path = HAZARD_FILE) -> BackgroundHazard:
    """The calibrated hazard, from the JSON the calibration script writes."""
    fitted = json.loads(Path(path).read_text(encoding="utf-8"))
    one = {k: v["estimate"] for k, v in fitted["stage_one"].items()}
    two = {k: v["estimate"] for k, v in fitted["stage_two"].items()}
    bands = fitted["age_bands_months"]
    return BackgroundHazard(
        age_bands_months=np.array(bands),
        age_effect=np.array([v for k, v in one.items() if k.startswith("age ")]),
        periods=tuple(fitted["periods"]),
        period_effect=np.array([one[f"period {p}"] for p in fitted["periods"]]),
        provinces=tuple(fitted["provinces"]),
        province_effect=np.array([one[f"province {p}"] for p in fitted["provinces"]]),
        owner_effect=np.array([two[f"owner {o}"] for o in OWNER_TYPES]),
        capital_bands_cny=np.array(fitted["capital_bands_cny"]),
        capital_effect=np.array([v for k, v in two.items() if k.startswith("capital ")]),
        failure_types={p: np.array([shares.get(t, 0.0) for t in FAILURE_TYPES])
                       for p, shares in fitted["failure_types"].items()},
    )
