"""A borrower's all-in cost of a loan (综合资金成本): the annual rate of what they receive and repay.

A borrower is lent ``P`` and receives ``P (1 - upfront)``: the fees taken at disbursement (the
upfront service fee 借款服务费, a guarantor's fee 担保费, a reserve contribution 风险准备金 from the
principal) are kept back. They repay the schedule of their repayment method (:mod:`sim.loans`) and,
with a monthly service fee, ``monthly x P`` more each month. The all-in cost is the nominal annual
rate ``12 i`` of the monthly internal rate of return ``i`` of those cash flows: the measure China's
rules cap (the 2017 rectification's 36 % of "综合资金成本", the courts' 24 % protected band). The
investors' management fee comes out of their interest, not the borrower's pocket, and is not in it.
"""

from __future__ import annotations

import numpy as np

from sim.kernels.all_in import monthly_irr
from sim.loans import MONTHS_PER_YEAR


def all_in_apr(annual_rate, term, method, upfront, monthly) -> np.ndarray:
    """The all-in annual cost of each loan (a fraction: 0.24 is 24 %).

    Parameters
    ----------
    annual_rate : array of float
        Nominal annual interest rate of each loan.
    term, method : array of int
        Term in months and :class:`~sim.loans.RepaymentMethod`.
    upfront : array of float
        Share of principal kept back at disbursement (fees, contributions).
    monthly : array of float
        Share of the original principal charged each month on top of the schedule.
    """
    annual_rate = np.atleast_1d(np.asarray(annual_rate, np.float64))
    size = len(annual_rate)
    term, method, upfront, monthly = (np.broadcast_to(np.asarray(x), (size,)) for x in
                                      (term, method, upfront, monthly))
    if size == 0:
        return np.zeros(0)
    return monthly_irr(annual_rate, term.astype(np.int64), method.astype(np.int64),
                       upfront.astype(np.float64), monthly.astype(np.float64)) * MONTHS_PER_YEAR
