"""The dashboard's server process: tied to the command that started it, then Solara's server.

``python -m sim.dashboard.launcher PARENT_PID solara-arguments...`` asks Linux to end this process
when ``PARENT_PID`` (the ``p2psim dashboard`` that started it) ends, however it ends: a command
killed outright (SIGKILL, a time-out) takes its server with it, so no server is left holding the
port with nobody to stop it. Then it runs ``python -m solara`` with the arguments.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys

PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies


def die_with_parent(parent: int) -> None:
    """Get SIGTERM when ``parent`` ends (Linux); exit now if it has ended already."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        sys.exit(0)


def main() -> None:
    """Tie this process to its parent, then run Solara's command line with the rest."""
    die_with_parent(int(sys.argv[1]))
    sys.argv = ["solara", *sys.argv[2:]]
    runpy.run_module("solara", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
