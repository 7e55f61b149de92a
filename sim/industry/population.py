"""The industry's platforms: drawn from the reporting platforms of 2017 (``data/wdzj_platforms.csv``).

Each drawn platform is one of the 514 platforms that reported monthly figures to WDZJ in 2017-01..06,
drawn at random and then varied: its size (volume, outstanding balance, investors) by a log-normal
factor, its age by up to a year either way. What the data does not hold is drawn from the
scenario's shares: the business model (DOMAIN.md's five) and bank custody (银行存管) by owner type.
The scenario's own platforms (run in full detail) join them with the attributes their
``[platforms.industry]`` table and their configuration give (:func:`platforms_in_industry`).
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
# how much likelier than the industry's share a business model is for a platform of each owner
# type and size quartile (docs/industry.md): a listed or state-owned platform is seldom a fund pool
# or an offline shop, the largest platforms are more often intermediaries, the smallest offline
MODEL_TILT_BY_OWNER = {"listed": {"fund_pool": 0.2, "online_offline": 0.5},
                       "state": {"fund_pool": 0.2, "online_offline": 0.5, "guarantor_p2b": 1.5},
                       "vc_backed": {"fund_pool": 0.6}, "private": {}}
MODEL_TILT_BY_SIZE = {0: {"online_offline": 1.5}, 3: {"pure_intermediary": 1.5,
                                                       "online_offline": 0.5}}


@dataclass
class IndustryPlatforms:
    """One array per attribute, one entry per platform (index = the platform's index)."""

    source_id: np.ndarray  # WDZJ id of the platform it was drawn from (-1: none)
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
                  pool: str | Path = PLATFORMS_FILE) -> IndustryPlatforms:
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
    owner = np.array([OWNER_TYPES.index(o) for o in rows.owner_type], dtype=np.int64)
    province = np.array([provinces.index(p) if p in provinces else len(provinces) - 1
                         for p in rows.province], dtype=np.int64)
    p_custody = np.array([custody[o] for o in OWNER_TYPES])[owner]
    return IndustryPlatforms(
        source_id=rows.wdzj_id.to_numpy(), owner=owner, province=province,
        launch_month=_month(rows.launch_month) + rng.integers(-12, 13, platforms),
        registered_capital_cny=rows.registered_capital_cny.to_numpy(),
        monthly_volume_cny=rows.monthly_volume_cny.to_numpy() * size,
        outstanding_cny=rows.outstanding_cny.to_numpy() * size,
        investors=np.maximum(np.round(rows.investors.to_numpy() * size), 1).astype(np.int64),
        annual_yield=rows.annual_yield.to_numpy(),
        average_term_months=rows.average_term_months.to_numpy(),
        business_model=draw_models(owner, rows.monthly_volume_cny.to_numpy() * size, shares,
                                   rng.random(platforms)),
        custody=rng.random(platforms) < p_custody,
    )


def model_probabilities(owner: np.ndarray, volume: np.ndarray,
                        shares: dict[str, float]) -> np.ndarray:
    """(platforms, models) probability of each business model for each platform.

    The industry's ``shares`` tilted by owner type and size quartile (:data:`MODEL_TILT_BY_OWNER`,
    :data:`MODEL_TILT_BY_SIZE`), then rescaled by model (a few rounds of iterative proportional
    fitting) so that the expected shares over these platforms are still ``shares``.
    """
    target = np.array([shares.get(m, 0.0) for m in BUSINESS_MODELS])
    tilt = np.ones((len(owner), len(BUSINESS_MODELS)))
    quartile = np.minimum((np.argsort(np.argsort(volume, kind="stable")) * 4) // max(len(volume), 1),
                          3)
    for o, name in enumerate(OWNER_TYPES):
        for model, factor in MODEL_TILT_BY_OWNER[name].items():
            tilt[owner == o, BUSINESS_MODELS.index(model)] *= factor
    for q, factors in MODEL_TILT_BY_SIZE.items():
        for model, factor in factors.items():
            tilt[quartile == q, BUSINESS_MODELS.index(model)] *= factor
    scale = target.copy()
    for _ in range(50):
        p = tilt * scale
        p /= p.sum(axis=1, keepdims=True)
        scale *= np.divide(target, p.mean(axis=0), out=np.zeros_like(target),
                           where=p.mean(axis=0) > 0)
    p = tilt * scale
    return p / p.sum(axis=1, keepdims=True)


def draw_models(owner: np.ndarray, volume: np.ndarray, shares: dict[str, float],
                uniforms: np.ndarray) -> np.ndarray:
    """Each platform's business model (index into BUSINESS_MODELS) from one uniform each."""
    if not len(owner):
        return np.zeros(0, dtype=np.int64)
    cumulative = np.cumsum(model_probabilities(owner, volume, shares), axis=1)
    cumulative /= cumulative[:, -1:]
    return np.minimum((uniforms[:, None] >= cumulative).sum(axis=1), len(BUSINESS_MODELS) - 1)


def platforms_in_industry(detailed: list, drawn: IndustryPlatforms, start_month: int,
                          provinces: tuple[str, ...], pool: str | Path = PLATFORMS_FILE,
                          custody_mandate: bool = False) -> IndustryPlatforms:
    """Every platform of the industry: the scenario's own (``detailed`` PlatformConfigs) first.

    A detailed platform takes its owner, province, launch and capital from the pool's row of its
    ``industry.wdzj_id``, or from its ``[platforms.industry]`` table; its business model from its
    configuration (a fund pool, a guarantor, a reserve fund, or an intermediary) and its custody
    from its liquidity rules. Its size is its own: it is run in full, not drawn.
    """
    data = pd.read_csv(pool, dtype={"launch_month": str}) if detailed else None
    columns: dict[str, list] = {f.name: [] for f in fields(IndustryPlatforms)}
    for platform in detailed:
        where = platform.industry
        row = None
        if where is not None and where.wdzj_id is not None:
            found = data[data.wdzj_id == where.wdzj_id]
            row = found.iloc[0] if len(found) else None
        owner = row.owner_type if row is not None else (where.owner if where else "private")
        province = row.province if row is not None else (where.province if where else "other")
        launch = (int(_month(pd.Series([row.launch_month]))[0]) if row is not None else
                  _month(pd.Series([where.launch]))[0] if where is not None and where.launch
                  else start_month)
        columns["source_id"].append(int(row.wdzj_id) if row is not None else -1)
        columns["owner"].append(OWNER_TYPES.index(owner))
        columns["province"].append(provinces.index(province) if province in provinces
                                   else len(provinces) - 1)
        columns["launch_month"].append(launch)
        columns["registered_capital_cny"].append(
            float(row.registered_capital_cny) if row is not None
            else (where.registered_capital_cny if where else platform.capital_cny))
        for name in ("monthly_volume_cny", "outstanding_cny", "annual_yield",
                     "average_term_months"):
            columns[name].append(0.0)
        columns["investors"].append(0)
        columns["business_model"].append(BUSINESS_MODELS.index(business_model(platform)))
        columns["custody"].append(platform.liquidity.custody)
    own = {name: np.asarray(values) for name, values in columns.items()}
    joined = IndustryPlatforms(**{
        name: np.concatenate([own[name].astype(getattr(drawn, name).dtype),
                              getattr(drawn, name)]) for name in columns})
    if custody_mandate:
        joined.custody[len(detailed):] = True
    return joined


def business_model(platform) -> str:
    """The business model (DOMAIN.md) a detailed platform's configuration makes it."""
    if platform.funding == "fund_pool":
        return "fund_pool"
    layers = platform.guarantee.get("layers", [platform.guarantee])
    policies = {layer.get("policy") for layer in layers if isinstance(layer, dict)}
    if "guarantor" in policies:
        return "guarantor_p2b"
    if "reserve_fund" in policies:
        return "reserve_fund"
    return "pure_intermediary"
