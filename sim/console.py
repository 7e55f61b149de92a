"""The ``p2psim`` command's entry point.

Loading the engine (numpy, numba, Mesa, pandas) takes a second or two; Ctrl-C in that time is an
interruption like any other: one line, exit code 130, nothing done, no traceback.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # 128 + SIGINT, as the shell reports it


def main(argv: list[str] | None = None) -> int:
    """Load the command line (:mod:`sim.cli`) and run it."""
    try:
        from sim.cli import main as run_command
    except KeyboardInterrupt:
        print("p2psim: interrupted while starting; nothing was done", file=sys.stderr)
        return INTERRUPTED
    return run_command(argv)


if __name__ == "__main__":
    sys.exit(main())
