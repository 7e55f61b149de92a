"""An industry of platforms drawn from the reporting platforms of 2017 (``data/wdzj_platforms.csv``).

Each platform of the industry is one of the 514 platforms that reported monthly figures to WDZJ in
2017-01..06, drawn at random and then varied: its size (volume, outstanding balance, investors) by a
log-normal factor, its age by up to a year either way. What the data does not hold is drawn from the
scenario's shares: the business model (DOMAIN.md's five) and bank custody (银行存管) by owner type.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from sim.industry.hazard import OWNER_TYPES

PLATFORMS_FILE = Path(__file__).resolve().parents[2] / "data" / "wdzj_platforms.csv"
BUSINESS_MODELS = ("pure_intermediary", "reserve_fund", "guarantor_p2b", "online_offline",
                   "fund_pool")
DEFAULT_MODEL_SHARES = {"pure_intermediary": 0.15, "reserve_fund": 0.35, "guarantor_p2b": 0.25,
                        "online_offline": 0.15, "fund_pool": 0.10}
DEFAULT_CUSTODY = {"listed": 0.6, "private": 0.3, "state": 0.7, "vc_backed": 0.5}


@dataclass
class Industry:
    """One array per attribute, one entry per platform (index = platform id)."""

    source_id: np.ndarray  # WDZJ id of the platform it was drawn from
    owner: np.ndarray  # index into OWNER_TYPES
    province: np.ndarray  # index into the hazard's provinces
    launch_month: np.ndarray  # months since 2000-01 (year * 12 + month - 1 - 2000 * 12)
    registered_capital_cny: np.ndarray
    monthly_volume_cny: np.ndarray
    outstanding_cny: np.ndarray
    investors: np.ndarray  # active investors (WDZJ's bidderNum), a month
    annual_yield: np.ndarray  # investors' yield, annual rate
    average_term_months: np.ndarray
    business_model: np.ndarray  # index into BUSINESS_MODELS
    custody: np.ndarray  # bool: investors' cash held by a bank (银行存管)

    def __len__(self) -> int:
        return len(self.owner)

    def table(self) -> pd.DataFrame:
        """The industry as a table, with names for the coded columns."""
        frame = pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self)})
        frame["owner"] = np.array(OWNER_TYPES)[self.owner]
        frame["business_model"] = np.array(BUSINESS_MODELS)[self.business_model]
        return frame


def _month(text: pd.Series) -> np.ndarray:
    return ((text.str[:4].astype(int) - 2000) * 12 + text.str[5:7].astype(int) - 1).to_numpy()


def draw_industry(platforms: int, rng: np.random.Generator, provinces: tuple[str, ...],
                  model_shares: dict[str, float] | None = None,
                  custody_by_owner: dict[str, float] | None = None, size_sigma: float = 0.5,
                  pool: str | Path = PLATFORMS_FILE) -> Industry:
    """``platforms`` platforms drawn from the pool with replacement, sizes and ages varied.

    ``provinces``: the hazard's province groups (a platform elsewhere is in the last, "other").
    ``model_shares``: share of each business model (adding up to 1); ``custody_by_owner``: the
    probability that a platform of each owner type has bank custody; ``size_sigma``: the log-normal
    spread of the size factor.
    """
    shares = model_shares or DEFAULT_MODEL_SHARES
    custody = custody_by_owner or DEFAULT_CUSTODY
    data = pd.read_csv(pool, dtype={"launch_month": str})
    rows = data.iloc[rng.integers(0, len(data), platforms)]
    size = np.exp(rng.normal(-size_sigma ** 2 / 2, size_sigma, platforms))
    owner = np.array([OWNER_TYPES.index(o) for o in rows.owner_type])
    province = np.array([provinces.index(p) if p in provinces else len(provinces) - 1
                         for p in rows.province])
    p_custody = np.array([custody[o] for o in OWNER_TYPES])[owner]
    return Industry(
        source_id=rows.wdzj_id.to_numpy(), owner=owner, province=province,
        launch_month=_month(rows.launch_month) + rng.integers(-12, 13, platforms),
        registered_capital_cny=rows.registered_capital_cny.to_numpy(),
        monthly_volume_cny=rows.monthly_volume_cny.to_numpy() * size,
        outstanding_cny=rows.outstanding_cny.to_numpy() * size,
        investors=np.maximum(np.round(rows.investors.to_numpy() * size), 1).astype(np.int64),
        annual_yield=rows.annual_yield.to_numpy(),
        average_term_months=rows.average_term_months.to_numpy(),
        business_model=rng.choice(len(BUSINESS_MODELS), platforms,
                                  p=[shares.get(m, 0.0) for m in BUSINESS_MODELS]),
        custody=rng.random(platforms) < p_custody,
    )
