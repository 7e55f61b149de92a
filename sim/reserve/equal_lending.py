"""The board at equal lending: each scheme sized again on a book as large as the first scheme's.

Borrowers see a scheme's fees (a guarantee fee is part of the all-in cost), so under a dearer scheme
they borrow less and its layer is sized on a smaller book: a guarantor can look cheaper in CNY and
dearer as a share of its own book. With ``equal_lending = true`` in the board file, every scheme
whose book differs from the first scheme's by more than :data:`TOLERANCE` is studied again with its
demand (``borrowers.applications_per_day``) scaled until its book matches: a secant step on the
book's ratio (lending is nearly proportional to demand), repeated at most :data:`STEPS` times. Its
row says the demand multiplier and the book it reached, so the basis is named in the terminal, the
report and ``board.csv`` alike.
"""

from __future__ import annotations

from typing import Any

DEMAND_KEY = "borrowers.applications_per_day"
TOLERANCE = 0.02  # books within 2 % of the reference's are equal enough
STEPS = 3         # secant steps at most (each a whole study of the scheme)
BOOK = "book sized (CNY)"


def base_demand(scenario_path: str, overrides: dict[str, Any]) -> float:
    """The scheme's demand before scaling: applications a day, as its scenario gives them."""
    from sim.scenario import load_scenario

    return float(load_scenario(scenario_path, overrides).borrowers.applications_per_day)


def equal_lending_rows(rows: list[dict], run_scheme, scenario_path: str, schemes: list) -> list[dict]:
    """Rows of the schemes restudied at the first scheme's book (none where already within it).

    ``run_scheme(scheme, overrides, suffix) -> row`` runs one study and returns its board row.
    """
    reference = rows[0][BOOK]
    out = []
    for scheme, row in zip(schemes[1:], rows[1:], strict=True):
        book, multiplier = row[BOOK], 1.0
        if reference <= 0 or abs(book / reference - 1) <= TOLERANCE:
            continue
        demand = base_demand(scenario_path, scheme.overrides)
        for step in range(STEPS):
            multiplier *= reference / book if book > 0 else 2.0
            overrides = {**scheme.overrides, DEMAND_KEY: demand * multiplier}
            row = run_scheme(scheme, overrides, f"equal_lending_{step + 1}")
            book = row[BOOK]
            if abs(book / reference - 1) <= TOLERANCE:
                break
        row["scheme"] = f"{scheme.name}, at equal lending"
        row["basis"] = (f"demand x {multiplier:.3f}: book {book / reference:.1%} of "
                        f"{rows[0]['scheme']}'s")
        out.append(row)
    return out
