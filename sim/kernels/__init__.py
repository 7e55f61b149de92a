"""Compiled kernels for the hot loops.

Servicing due loans, writing off defaults, buying out guaranteed loans, funding listings and
reading the book's state.

Each kernel is deterministic: the random numbers it needs are drawn in bulk by the caller (one uniform
per due loan) and passed in, as in QuantEcon. Kernels update the book, the notes and the investors'
accounts in place (:mod:`sim.kernels.views`) and return per-platform totals that the caller books
in the ledger; the audit then checks that the two agree to the fen.
"""

from sim.kernels.defaults import buy_out, write_off
from sim.kernels.funding import book_state, fund_listings
from sim.kernels.servicing import service_due_loans
from sim.kernels.transfers import link_new_notes, link_records, match_transfers, sellers_notes
from sim.kernels.trust import (
    decide_positions,
    late_notes,
    own_news,
    trust_distribution,
    update_position_trust,
    update_trust,
)
from sim.kernels.views import (
    ACTIVE,
    DEFAULTED,
    MAX_LAYERS,
    NEVER_PAYS,
    POOLED_INVESTORS,
    POOLED_RESERVE,
    PREPAID,
    REPAID,
    SOLD,
    ArrearsByDay,
    Bidders,
    BuyOutTotals,
    InvestorAccounts,
    ListingTerms,
    LoanColumns,
    NoteColumns,
    ServiceTotals,
    ServicingTerms,
    TrustSignals,
    WriteOffTotals,
    by_holder,
)

__all__ = ["ACTIVE", "DEFAULTED", "MAX_LAYERS", "NEVER_PAYS", "POOLED_INVESTORS",
           "POOLED_RESERVE", "PREPAID", "REPAID", "SOLD", "ArrearsByDay",
           "Bidders", "BuyOutTotals", "InvestorAccounts", "ListingTerms", "LoanColumns", "NoteColumns",
           "ServiceTotals", "ServicingTerms", "TrustSignals", "WriteOffTotals", "book_state", "buy_out",
           "by_holder", "decide_positions", "fund_listings", "late_notes", "link_new_notes",
           "link_records", "match_transfers", "own_news", "sellers_notes", "service_due_loans",
           "trust_distribution", "update_position_trust", "update_trust", "write_off"]
