"""Regenerate the golden file of tests/test_regression.py, showing what changes first.

    .venv/bin/python -m tests.regenerate_golden           # print the difference, write nothing
    .venv/bin/python -m tests.regenerate_golden --write   # then write it (say why in the commit)

The test itself never writes the file: a run that moved the numbers fails until someone has looked
at the difference and chosen to keep it.
"""

from __future__ import annotations

import argparse
import difflib

from tests.test_regression import GOLDEN, as_csv, tiny_run


def main() -> None:
    """Print the unified difference between the stored and the new run; write it if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the stored file")
    args = parser.parse_args()
    new = as_csv(tiny_run())
    old = GOLDEN.read_text(encoding="utf-8") if GOLDEN.exists() else ""
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), str(GOLDEN), "this run",
                                     lineterm=""))
    print("\n".join(diff) if diff else f"{GOLDEN}: no change")
    if args.write and diff:
        GOLDEN.write_text(new, encoding="utf-8")
        print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
