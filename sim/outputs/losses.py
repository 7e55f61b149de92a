"""The loss waterfall: who paid for the loans that went bad, layer by layer, from the day rows.

Read by the dashboard (:mod:`sim.dashboard.numbers`) and a run's report (:mod:`sim.report.figures`)
from the same day rows (:data:`sim.reporters.MODEL_REPORTERS`), so both show the same numbers.
"""

from __future__ import annotations

import pandas as pd

LOSS_LAYERS = {  # label: the day rows' column, in the order the layers pay
    "paid by the guarantor (代偿)": "guarantor_payout_cny",
    "paid by the reserve fund (风险准备金)": "reserve_payout_cny",
    "paid by the insurer": "insurer_payout_cny",
    "written off (坏账核销)": "default_principal_cny",
    "recovered from borrowers (催收)": "recoveries_cny",
    "lost by investors": "investor_loss_cny",
}


def loss_layers(rows: pd.DataFrame) -> dict[str, float]:
    """Each layer of :data:`LOSS_LAYERS` summed over the days of ``rows``, CNY."""
    return {label: float(rows[column].sum()) if len(rows) else 0.0
            for label, column in LOSS_LAYERS.items()}
