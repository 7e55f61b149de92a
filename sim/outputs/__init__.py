"""What a run leaves behind: time series (Parquet), the ledger's journal, metadata and figures.

A run's folder is written whole or not at all: everything goes to a temporary folder beside the
target, which is renamed into place at the end (an earlier folder of the same name is replaced).

Files
-----
timeseries.parquet  one row per day, the model reporters (amounts in CNY)
journal.parquet     the ledger's journal: day, source, target, memo, amount_fen
loans.parquet       the loan book at the end of the run (one row per loan, amounts in fen)
platforms.parquet   per platform and month: month-end balances and the month's flows (CNY)
marketing.parquet   per platform, channel and month: spend, units, new users, cost per user
summary.json        the end-of-run summary table
metadata.json       scenario, seed, package version, git revision, timings
overview.png        volume, outstanding book, arrears, defaults, platform cash, investor return
platforms.png       outstanding principal and cash of each platform, month by month
policies.png        guarantee funds and payouts, investors won and lost, cost per user, fund pool

The package: :mod:`~sim.outputs.statistics` (the summary's registry), :mod:`~sim.outputs.flows`
(the journal read per platform and month), :mod:`~sim.outputs.charts` and
:mod:`~sim.outputs.run_folder` (writing it all).
"""

from sim.outputs.charts import CJK_FONT, save_figure
from sim.outputs.flows import platform_monthly, platform_summary
from sim.outputs.run_folder import git_revision, metadata, write_run
from sim.outputs.statistics import STATISTICS, format_summary, summarise

__all__ = ["CJK_FONT", "STATISTICS", "format_summary", "git_revision", "metadata", "platform_monthly",
           "platform_summary", "save_figure", "summarise", "write_run"]
