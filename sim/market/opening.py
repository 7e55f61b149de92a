"""Opening the books on day 0.

The owners' capital, the guarantee funds, investors' first deposits and the loans already
outstanding (the opening book).
"""

from __future__ import annotations

import numpy as np

from sim.agents import BorrowerPopulation
from sim.book import ACTIVE
from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH, balances_after
from sim.money import to_fen


def open_books(market) -> None:
    """Opening balances: platforms' capital, investors' first deposits, the opening loan book."""
    books = market.bookkeeper
    for platform in market.platforms:
        books.move(platform, WORLD, AccountKind.PLATFORM_CASH, to_fen(platform.config.capital_cny),
                   Memo.CAPITAL_INJECTION)
        for layer in platform.layers:
            if layer.account == AccountKind.RESERVE_FUND:  # from capital; owners add what it lacks
                cash = books.balance(platform, AccountKind.PLATFORM_CASH)
                from_capital = min(cash, layer.initial_fen)
                books.move(platform, AccountKind.PLATFORM_CASH, AccountKind.RESERVE_FUND,
                           from_capital, Memo.RESERVE_INITIAL)
                books.move(platform, WORLD, AccountKind.RESERVE_FUND,
                           layer.initial_fen - from_capital, Memo.RESERVE_INITIAL)
            elif layer.account == AccountKind.GUARANTOR_CAPITAL:
                books.move(platform, WORLD, AccountKind.GUARANTOR_CAPITAL, layer.capital_fen,
                           Memo.GUARANTOR_CAPITAL_INJECTION)
    market.treasury.deposit(market.investors.first_deposits())
    detailed = _opening_book(market) if market.config.initial_book.loans else None
    pooled = market.industry.opening_loans() if market.industry is not None else None
    if pooled is None:
        if detailed is not None:
            _append_detailed(market, *detailed)
        return
    _append_with_pooled(market, detailed, pooled)


def _append_detailed(market, loans: dict, counts: np.ndarray, note_investor: np.ndarray,
                     note_balance: np.ndarray) -> None:
    """The detailed platforms' opening loans into the book, bought by their investors' notes."""
    market.book.append(loans, counts, note_investor, note_balance)
    for p, plat in enumerate(market.platforms):
        opening = int(loans["balance_fen"][loans["platform"] == p].sum())
        market.bookkeeper.move(plat, WORLD, AccountKind.INVESTOR_CLAIMS, opening, Memo.OPENING_BOOK)
    market.totals["loans_outstanding"] += len(counts)


def _append_with_pooled(market, detailed, pooled: dict) -> None:
    """Every opening loan of an industry into the book at once, in order of origination.

    The loan book keeps a day's loans in one block of rows, so the detailed platforms' opening
    loans (with notes) and the pooled platforms' (without) are merged by day before they go in.
    """
    from sim.industry.lending import loan_columns

    pooled = loan_columns(pooled)
    n_pooled = len(pooled["platform"])
    if detailed is None:
        loans, counts = pooled, np.zeros(n_pooled, dtype=np.int64)
        note_investor = note_balance = np.zeros(0, dtype=np.int64)
    else:
        mine, counts_d, investor_d, balance_d = detailed
        n_mine = len(counts_d)
        loans = {k: np.concatenate([np.broadcast_to(mine[k], n_mine),
                                    np.broadcast_to(pooled[k], n_pooled)]) for k in mine}
        counts = np.concatenate([counts_d, np.zeros(n_pooled, dtype=np.int64)])
        note_investor, note_balance = investor_d, balance_d
    order = np.argsort(loans["orig_day"], kind="stable")
    note_rows = _notes_in_order(counts, order)
    loans = {k: v[order] for k, v in loans.items()}
    rows = market.book.append(loans, counts[order], note_investor[note_rows],
                              note_balance[note_rows])
    is_pooled = counts[order] == 0
    for p, plat in enumerate(market.platforms):
        opening = int(loans["balance_fen"][loans["platform"] == p].sum())
        market.bookkeeper.move(plat, WORLD, AccountKind.INVESTOR_CLAIMS, opening, Memo.OPENING_BOOK)
    market.totals["loans_outstanding"] += int((~is_pooled).sum())
    market.industry.book_opening(loans["borrower"][is_pooled], loans["platform"][is_pooled],
                                 loans["balance_fen"][is_pooled],
                                 np.arange(rows.start, rows.stop)[is_pooled])


def _notes_in_order(counts: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The note rows of loans taken in ``order``: each loan's ``counts`` notes, kept together."""
    starts = (np.cumsum(counts) - counts)[order]
    counts = counts[order].astype(np.int64)
    first = np.cumsum(counts) - counts  # where each loan's notes begin in the new order
    return (np.repeat(starts - first, counts) + np.arange(int(counts.sum()))).astype(np.int64)


def _opening_book(market):
    """Loans outstanding on day 0, of uniformly spread ages, owned through notes by investors.

    Returns the loans' columns, their note counts, and the notes' investors and balances.
    """
    cfg, rng = market.config, market.rngs["opening_book"]
    n, per_loan = cfg.initial_book.loans, cfg.initial_book.notes_per_loan
    share = np.array([p.market_share for p in cfg.platforms])
    platform = rng.choice(len(share), size=n, p=share / share.sum()).astype(np.int16)
    profiles = BorrowerPopulation(cfg.borrowers, cfg.grades, rng).draw_profiles(n)
    term = profiles["term"].astype(np.int64)
    days_ago = rng.integers(1, DAYS_PER_MONTH * term)  # 1 .. 30 term - 1
    order = np.argsort(-days_ago, kind="stable")
    rate, covered = _opening_terms(market, platform, profiles)
    n_paid = (days_ago - 1) // DAYS_PER_MONTH
    balance = balances_after(profiles["amount_fen"], rate, profiles["term"],
                             profiles["method"], n_paid)
    loans = {
        "borrower": np.full(n, -1), "platform": platform, "grade": profiles["grade"],
        "method": profiles["method"], "term": profiles["term"], "annual_rate": rate,
        "principal_fen": profiles["amount_fen"], "balance_fen": balance, "orig_day": -days_ago,
        "n_paid": n_paid, "status": ACTIVE, "delinquent": 0, "first_missed_day": -1,
        "default_day": -1, "hazard_mult": profiles["hazard_mult"], "held_fen": 0,
        "holder": 0, "covered": covered, "paid_fen": 0,  # what was paid before day 0 is not known
    }
    loans = {k: (v[order] if np.ndim(v) else v) for k, v in loans.items()}
    counts = np.full(n, per_loan, dtype=np.int64)
    note_balance = np.repeat(loans["balance_fen"] // per_loan, per_loan)
    note_balance[::per_loan] += loans["balance_fen"] % per_loan
    note_investor = np.empty(n * per_loan, dtype=np.int64)
    investors = market.investors
    for p in range(len(market.platforms)):
        members = np.flatnonzero(investors.weight[:, p] > 0)
        if len(members) == 0:
            members = np.arange(len(investors))
        mine = np.repeat(loans["platform"] == p, per_loan)
        note_investor[mine] = rng.choice(members, size=int(mine.sum()))
    return loans, counts, note_investor, note_balance


def _opening_terms(market, platform: np.ndarray, profiles: dict):
    """Each opening loan's annual rate and its protection layer bits (every layer covers it).

    The rate is its platform's price, or the grade's market rate where the platform offers none.
    """
    n = len(platform)
    rate = np.empty(n)
    covered = np.zeros(n, dtype=np.int8)
    for p, plat in enumerate(market.platforms):
        mine = platform == p
        offered = plat.pricing.price({k: v[mine] for k, v in profiles.items()}, plat.state)
        rate[mine] = np.where(np.isnan(offered), plat.market_rate[profiles["grade"][mine]], offered)
        covered[mine] = (1 << len(plat.layers)) - 1  # every layer covers the opening book
    return rate, covered
