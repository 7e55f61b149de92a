"""A naive Mesa model of the same loan mechanics, written the usual way, for comparison.

One ``mesa.Agent`` per loan and per investor; every day the model steps every loan agent, and a
loan whose due date it is draws default and prepayment, pays its instalment (same closed-form
schedule, same fen rounding) and splits it over its notes pro rata to the fen, crediting each
investor agent. No listings or funding: it only services a book, which flatters it.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.loans import instalment


class InvestorAgent(mesa.Agent):
    """An investor with cash in fen."""

    def __init__(self, model):
        super().__init__(model)
        self.cash_fen = 0


class LoanAgent(mesa.Agent):
    """A loan with its notes as a list of [investor, balance_fen]."""

    def __init__(self, model, principal, rate, term, orig_day, n_paid, balance, hazard, notes):
        super().__init__(model)
        self.principal, self.rate, self.term = principal, rate, term
        self.orig_day, self.n_paid, self.balance = orig_day, n_paid, balance
        self.hazard, self.notes, self.active = hazard, notes, True

    def step(self):
        """Service the loan if today is one of its due dates."""
        model = self.model
        if not self.active or (model.day - self.orig_day) % 30 != 0:
            return
        month = (model.day - self.orig_day) // 30
        model.loan_months += 1
        u = model.random.random()
        if u < self.hazard:  # default: investors lose the balance
            self.active = False
            for note in self.notes:
                note[1] = 0
            return
        p, i = instalment(self.principal, self.rate, self.term, 0, month)
        p, i = int(p), int(i)
        if u < self.hazard + model.prepay and month < self.term:
            p = self.balance
        paid_p = paid_i = cumulative = 0
        for note in self.notes:
            cumulative += note[1]
            upto_p = p * cumulative // self.balance
            upto_i = i * cumulative // self.balance
            share_p, share_i = upto_p - paid_p, upto_i - paid_i
            paid_p, paid_i = upto_p, upto_i
            fee = math.floor(share_i * model.fee + 0.5)
            note[0].cash_fen += share_p + share_i - fee
            note[1] -= share_p
        self.balance -= p
        self.n_paid = month
        if self.balance == 0:
            self.active = False


class NaiveMarket(mesa.Model):
    """The book of ``n_loans`` 50,000 CNY 36-month annuity loans of every age, 20 notes each."""

    def __init__(self, n_loans=100_000, n_investors=20_000, notes_per_loan=20, rng=1):
        super().__init__(rng=rng)
        self.day, self.loan_months, self.prepay, self.fee = 0, 0, 0.015, 0.1
        gen = np.random.default_rng(rng)
        investors = [InvestorAgent(self) for _ in range(n_investors)]
        principal, rate, term = 5_000_000, 0.13, 36
        ages = gen.integers(1, 30 * term, size=n_loans)
        holders = gen.integers(0, n_investors, size=(n_loans, notes_per_loan))
        for k in range(n_loans):
            n_paid = int((ages[k] - 1) // 30)
            balance = principal if n_paid == 0 else principal - sum(
                int(instalment(principal, rate, term, 0, j)[0]) for j in range(1, n_paid + 1))
            share = balance // notes_per_loan
            notes = [[investors[h], share] for h in holders[k]]
            notes[0][1] += balance - share * notes_per_loan
            LoanAgent(self, principal, rate, term, -int(ages[k]), n_paid, balance, 0.006, notes)

    def step(self):
        """One day: step every loan agent."""
        self.agents_by_type[LoanAgent].do("step")
        self.day += 1
