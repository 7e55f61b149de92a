"""New loans of the pooled platforms: grades, amounts, terms, rates, and borrowers who owe elsewhere.

A pooled platform lends its spare cash as loans of about ``mean_loan_cny`` (log-normal, spread
:data:`LOAN_SIGMA`), for about its average term (log-normal, spread :data:`TERM_SIGMA`, 1 to
:data:`MAX_TERM` months), as annuities (等额本息). Each loan has a real credit grade, drawn from
the scenario's ``grades.application_share``: the grade's default, seasoning, prepayment and
recovery are the same tables a detailed platform's loans follow. Its rate is the platform's
borrowers' mean rate (from the WDZJ data) spread across the grades as the grades' rates are
(``rate[g] / mean rate``), so the platform's mean rate stays its own. A share of the
loans belongs to borrowers who borrow on several platforms at once (共债, ``co_debt.share_of_loans``):
every ``loans_per_borrower`` of them, in a random order, share one borrower.

The random numbers come in as :class:`LoanDraws`: from a stream for the opening book, keyed by
(platform, day, loan) for the day's new loans (:mod:`sim.randomness`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.kernels import ACTIVE, POOLED_INVESTORS, POOLED_RESERVE
from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH, balances_after
from sim.randomness import keyed_normals, keyed_uniforms
from sim.scenario.schema import MAX_LOAN_CNY

CASH, CLAIMS = AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_CLAIMS
LOAN_SIGMA = 0.8   # log-normal spread of loan amounts around the mean
TERM_SIGMA = 0.3   # log-normal spread of terms around the platform's average
MAX_TERM = 36      # months


class LoanDraws(NamedTuple):
    """One draw of each kind per new loan."""

    amount: np.ndarray    # standard normal: the amount's log-normal factor
    term: np.ndarray      # standard normal: the term's
    co_debt: np.ndarray   # uniform: whether its borrower owes on several platforms (共债)
    order: np.ndarray     # uniform: the order in which such loans are grouped into borrowers
    grade: np.ndarray     # uniform: its credit grade, from the grades' application shares


def draw_loans(platform: np.ndarray, industry, draws: LoanDraws) -> dict[str, np.ndarray]:
    """New loans on ``platform`` (one entry per loan): amounts, terms, rates, co-debt groups.

    ``co_debt_group`` numbers the co-debtors among these loans (-1: a borrower of its own); the
    industry's :class:`~sim.industry.part.CoDebtors` turns it into ids.
    """
    cfg, grades = industry.config, industry.scenario.grades
    mean_fen = cfg.mean_loan_cny * 100
    share = np.asarray(grades.application_share, np.float64)
    grade = np.minimum(np.searchsorted(np.cumsum(share / share.sum()), draws.grade, side="right"),
                       len(share) - 1)
    rates = np.asarray(grades.annual_rate, np.float64)
    relative = rates / float(share @ rates / share.sum())
    principal = np.minimum(mean_fen * np.exp(-LOAN_SIGMA ** 2 / 2 + LOAN_SIGMA * draws.amount),
                           MAX_LOAN_CNY * 100)  # the regulatory cap of one loan
    term = np.clip(np.round(industry.term_months[platform] * np.exp(TERM_SIGMA * draws.term)),
                   1, MAX_TERM)
    co_debt = cfg.channels.co_debt
    group = np.full(len(platform), -1, dtype=np.int64)
    shared = np.flatnonzero(draws.co_debt < co_debt.share_of_loans)
    shared = shared[np.argsort(draws.order[shared], kind="stable")]
    group[shared] = np.arange(len(shared)) // co_debt.loans_per_borrower
    return {"platform": platform, "principal_fen": np.round(principal).astype(np.int64),
            "annual_rate": industry.loan_rate[platform] * relative[grade],
            "term": term.astype(np.int16), "grade": grade.astype(np.int8),
            "co_debt_group": group,
            # a reserve-fund platform's reserve covers its loans (bit POOLED_RESERVE, as a layer's)
            "covered": np.where(industry.has_reserve[platform], 1 << POOLED_RESERVE, 0).astype(np.int8)}


def fits_within(amounts: np.ndarray, count: np.ndarray, budget_fen: np.ndarray) -> np.ndarray:
    """Bool per loan: the platform's loans up to and with this one stay within its budget (fen).

    Loans are grouped by platform, ``count[p]`` of them for platform ``p``, in order.
    """
    cumulative = np.cumsum(amounts)
    before = np.concatenate([[0], cumulative])[np.concatenate([[0], np.cumsum(count)])[:-1]]
    return cumulative - np.repeat(before, count) <= np.repeat(budget_fen, count)


def opening_loans(industry) -> dict[str, np.ndarray]:
    """The pooled platforms' loans outstanding on day 0 (no notes), about their money less cash.

    Ages are uniform over the term; each loan's balance is the closed form after the instalments
    already paid; loans beyond a platform's target are dropped.
    """
    rng = np.random.default_rng(industry.sequences["opening"])
    money = industry.market.ledger.accounts[CASH]
    target = np.where(industry.pooled, np.floor(money * (1 - industry.cash_buffer)), 0).astype(np.int64)
    mean = industry.config.mean_loan_cny * 100
    count = np.zeros(industry.n, dtype=np.int64)  # the drawn platforms' (a detailed one has its own)
    opening = industry.pooled & industry.launched  # an entrant opens later, with no loans
    count[opening] = rng.poisson(np.maximum(target[opening] / (mean * 0.55), 0) * 1.1)
    platform = np.repeat(np.arange(industry.n, dtype=np.int32), count)
    draws = LoanDraws(rng.standard_normal(len(platform)), rng.standard_normal(len(platform)),
                      rng.random(len(platform)), rng.random(len(platform)),
                      rng.random(len(platform)))
    loans = draw_loans(platform, industry, draws)
    term = loans["term"].astype(np.int64)
    paid = rng.integers(0, term)  # instalments already paid
    balance = balances_after(loans["principal_fen"], loans["annual_rate"], term,
                             np.zeros(len(term), np.int64), paid)
    keep = fits_within(balance, count, target)
    loans = {k: v[keep] for k, v in loans.items()}
    loans["balance_fen"] = balance[keep]
    loans["n_paid"] = paid[keep].astype(np.int16)
    loans["orig_day"] = (-DAYS_PER_MONTH * paid[keep]
                         - rng.integers(1, DAYS_PER_MONTH + 1, int(keep.sum()))).astype(np.int32)
    industry.co_debt.assign(loans)
    return loans


def lend(industry, day: int) -> None:
    """The pooled platforms still operating lend their spare cash as new loans (no notes)."""
    ledger, mean_loan = industry.market.ledger, industry.config.mean_loan_cny * 100
    spare = ledger.accounts[CASH] - industry.queued_left - industry.cash_buffer * industry.money_fen()
    spare = np.where(industry.pooled & industry.operating, np.maximum(spare, 0), 0)
    count = np.floor(spare / mean_loan).astype(np.int64)
    if count.sum() == 0:
        return
    platform = np.repeat(np.arange(industry.n, dtype=np.int32), count)
    number = np.arange(len(platform)) - np.repeat(np.cumsum(count) - count, count)
    key, drawn = industry.keys["lending"], industry.number[platform]
    draws = LoanDraws(keyed_normals(key, drawn, day, number, 0),
                      keyed_normals(key, drawn, day, number, 1),
                      keyed_uniforms(key, drawn, day, number, 4),
                      keyed_uniforms(key, drawn, day, number, 5),
                      keyed_uniforms(key, drawn, day, number, 6))
    loans = draw_loans(platform, industry, draws)
    keep = fits_within(loans["principal_fen"], count, spare)
    loans = {k: v[keep] for k, v in loans.items()}
    loans["orig_day"] = np.full(len(loans["principal_fen"]), day, dtype=np.int32)
    industry.co_debt.assign(loans, day)
    rows = industry.market.book.append(loan_columns(loans), np.zeros(len(loans["platform"]), np.int64),
                                   np.zeros(0, np.int64), np.zeros(0, np.int64))
    industry.co_debt.register(loans["borrower"], np.arange(rows.start, rows.stop), loans["platform"])
    lent = np.bincount(loans["platform"], loans["principal_fen"], industry.n).astype(np.int64)
    ledger.post(CASH, CLAIMS, lent, Memo.DISBURSEMENT)
    _contribute(industry, loans)
    industry.tracker.add("volume", lent.sum(), lent)


def _contribute(industry, loans: dict[str, np.ndarray]) -> None:
    """Borrowers pay ``[industry.reserve_fund] principal_share`` of a covered loan into the reserve.

    从借款本金中提取, rounded to the fen per loan as into a detailed platform's reserve layer.
    """
    share = industry.config.reserve_fund.principal_share
    if share == 0:
        return
    mine = loans["covered"] != 0
    contribution = np.floor(loans["principal_fen"][mine] * share + 0.5)
    into = np.bincount(loans["platform"][mine], contribution, industry.n).astype(np.int64)
    industry.market.ledger.post(WORLD, AccountKind.RESERVE_FUND, into, Memo.RESERVE_CONTRIBUTION)


def loan_columns(loans: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A pooled loan's columns of the loan book: its grade, no notes, held whole by its investors.

    The kernels give what a loan's notes leave to its holder; a pooled platform's investors, who
    own its loans pro rata, are that holder (``POOLED_INVESTORS``) until their platform's reserve
    buys the loan (``POOLED_RESERVE``, :meth:`sim.market.arrears.Arrears.pooled_payouts`);
    :func:`sim.market.servicing.pooled_payments` books the investors' part as theirs.
    """
    n = len(loans["platform"])
    fixed = {"method": 0, "status": ACTIVE, "delinquent": 0, "first_missed_day": -1,
             "default_day": -1, "hazard_mult": 1.0, "holder": POOLED_INVESTORS, "paid_fen": 0}
    balance = loans.get("balance_fen", loans["principal_fen"])
    return {"borrower": loans["borrower"], "platform": loans["platform"].astype(np.int16),
            "term": loans["term"], "annual_rate": loans["annual_rate"], "grade": loans["grade"],
            "principal_fen": loans["principal_fen"], "balance_fen": balance,
            "held_fen": balance,  # held whole by its platform's investors, pro rata
            "covered": loans["covered"],
            "orig_day": loans["orig_day"], "n_paid": loans.get("n_paid", np.zeros(n, np.int16)),
            **{name: np.full(n, value) for name, value in fixed.items()}}
