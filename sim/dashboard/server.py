"""``p2psim dashboard``: check the scenario and the port, then serve the Solara app on localhost.

The app (:mod:`sim.dashboard.app`) runs in Solara's server, started as a child process with the
scenario in ``P2PSIM_DASHBOARD_SCENARIO``, through :mod:`sim.dashboard.launcher`, which ties it to
this process: however ``p2psim dashboard`` ends, its server ends with it. Its scripts and styles
come from the ``solara-assets`` package, so the page needs no network; Solara's version check and
telemetry are switched off.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

STOP_WAIT_S = 10  # seconds a stopping server has before it is killed


class DashboardError(ValueError):
    """A dashboard that cannot be served as asked; ``str(error)`` is the message for the user."""


def check_port(host: str, port: int) -> None:
    """Raise :class:`DashboardError` if ``host`` or ``port`` cannot serve the dashboard.

    Each problem is named as what it is: a host that does not resolve or is not this machine's,
    a port out of range, needing privileges, or in use.
    """
    if not 1 <= port <= 65535:
        raise DashboardError(f"--port {port}: must be 1 to 65535")
    if not host.isascii() or not host.strip():
        raise DashboardError(f"--host {host!r}: write it in ASCII, an address or a name (localhost, "
                             f"127.0.0.1, ::1, or 0.0.0.0 for every interface)")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise DashboardError(f"--host {host}: not an address or a name this machine can resolve "
                             f"({error}); use localhost, 127.0.0.1 or 0.0.0.0 (every "
                             f"interface)") from None
    found.sort(key=lambda item: item[0] != socket.AF_INET)  # IPv4 first, as the server binds
    problems = []
    for family, _, _, _, address in found:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
                return  # the host's first usable address is free on this port
            except OSError as error:
                problems.append(error)
                if error.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    break  # in use, or privileged: the server would meet it too
    _refuse(host, port, problems)


def _refuse(host: str, port: int, problems: list[OSError]) -> None:
    """The message for a host none of whose addresses could take the port."""
    codes = {error.errno for error in problems}
    reason = problems[0].strerror
    if errno.EADDRINUSE in codes:
        raise DashboardError(f"--port {port}: in use on {host} ({reason}); choose another, e.g. "
                             f"--port {port + 1}")
    if errno.EACCES in codes:
        raise DashboardError(f"--port {port}: needs privileges on {host} ({reason}); choose one "
                             f"above 1023, e.g. --port 8765")
    if codes <= {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}:
        raise DashboardError(f"--host {host}: not an address of this machine ({reason}); use "
                             f"localhost, 127.0.0.1 or 0.0.0.0 (every interface)")
    raise DashboardError(f"--host {host} --port {port}: cannot be served ({reason})")


def command(scenario: Path, host: str, port: int, open_browser: bool) -> tuple[list[str], dict]:
    """The server's command line and environment."""
    env = {**os.environ, "P2PSIM_DASHBOARD_SCENARIO": str(scenario), "MPLBACKEND": "Agg",
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    args = [sys.executable, "-m", "sim.dashboard.launcher", str(os.getpid()),  # dies with us
            "run", "sim.dashboard.app", "--host", host,
            "--port", str(port), "--production", "--no-check-version",
            "--open" if open_browser else "--no-open", "--log-level", "warning"]
    return args, env


def serve(scenario: str, host: str = "localhost", port: int = 8765,
          open_browser: bool = True) -> int:
    """Serve the dashboard until Ctrl-C or SIGTERM; return the server's exit code (0 when stopped).

    The scenario is built once here first, so that a bad scenario is reported as the other
    commands report it (exit code 2), not inside the server.
    """
    from sim.dashboard.model import DashboardMarket
    from sim.scenario import ScenarioError
    from sim.scenario.files import read_toml_file

    path = Path(scenario).expanduser().resolve()
    if "industry" in read_toml_file(path, "scenario", ScenarioError)[1]:
        raise DashboardError(f"{scenario}: industry: the dashboard shows one market in full detail, "
                             f"day by day; run an industry with `p2psim run {scenario}` and "
                             f"read it with `p2psim report`")
    check_port(host, port)
    market = DashboardMarket(str(path))
    market.step()  # compiles the kernels into numba's cache: a visitor's first Step is quick
    market.release()
    args, env = command(path, host, port, open_browser)
    print(f"p2psim dashboard: {url(host, port)} ({path.name}); Ctrl-C stops it", file=sys.stderr)
    return run_server(args, env)


def url(host: str, port: int) -> str:
    """The address to open: an IPv6 host in brackets (``http://[::1]:8765/``)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run_server(args: list[str], env: dict) -> int:
    """Run the server in its own process group until it exits or this process is told to stop.

    SIGTERM and SIGINT (Ctrl-C) stop the whole group, the server and any child of it, and return
    0; a server that does not stop within ``STOP_WAIT_S`` is killed.
    """
    server = subprocess.Popen(args, env=env, start_new_session=True)
    stopped = []

    def stop(signum, _frame):
        stopped.append(signum)
        _signal_group(server, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = server.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _signal_group(server, signal.SIGTERM)
        try:
            server.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            _signal_group(server, signal.SIGKILL)
            server.wait()
    return 0 if stopped else code


def _signal_group(server: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:  # the group has gone
        pass
