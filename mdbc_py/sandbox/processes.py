"""Start, watch and stop the plain background processes of a sandbox.

Every process is started in its own session (so a Ctrl-C in the terminal that
ran ``mdbc sandbox up`` does not reach it) and recorded by pid together with a
marker string from its command line. Before a pid is signalled the marker is
checked in ``/proc/PID/cmdline``, so a recycled pid belonging to somebody
else's process is never killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class SandboxError(RuntimeError):
    """A sandbox operation failed; the message says what and what to do."""


_CHILDREN: list[subprocess.Popen[bytes]] = []
"""Servers started by this process. Held so that Popen's finaliser never warns
about a child that is meant to outlive us."""


def pid_matches(pid: int | None, marker: str) -> bool:
    """True if ``pid`` is alive and its command line contains ``marker``."""
    if not pid:
        return False
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        if not raw:  # empty for an instant while the process execs: look again
            time.sleep(0.05)
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # A zombie (state Z) has exited; it only waits for its parent to reap it.
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    if state in ("Z", "X"):
        return False
    return marker.encode() in raw


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_bindable(host: str, port: int) -> bool:
    """True if nobody listens on ``host:port``, so a server of ours can bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def spawn(
    argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` detached from this process, output appended to ``log_path``.

    The caller gets the Popen so that, while it waits for start-up, it can
    tell a crashed child exactly (``poll()``) rather than from ``/proc``.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            close_fds=True,
        )
    _CHILDREN.append(proc)
    return proc


def reap() -> None:
    """Collect exited children so they do not linger as zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.2,
) -> float:
    """Poll ``check`` until true; return the seconds it took.

    Gives up with SandboxError after ``timeout`` seconds, or at once when
    ``alive`` says the process being waited for has died.
    """
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if alive is not None and not alive():
            reap()
            raise SandboxError(f"{what}: the process exited during start-up")
        if time.monotonic() - start > timeout:
            raise SandboxError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(interval)


def terminate(pid: int, marker: str, grace: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns when the process is gone."""
    if not signal_process(pid, marker, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while pid_matches(pid, marker):
        reap()
        if time.monotonic() > deadline:
            kill(pid, marker)
            return
        time.sleep(0.1)


def kill(pid: int, marker: str, timeout: float = 10.0) -> None:
    """SIGKILL the process (a crash, for failure tests) and wait until it is gone."""
    if not pid_matches(pid, marker):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_matches(pid, marker):
        reap()
        if time.monotonic() > deadline:
            raise SandboxError(f"process {pid} survived SIGKILL for {timeout:.0f} s")
        time.sleep(0.05)


def signal_process(pid: int, marker: str, signum: int) -> bool:
    """Send ``signum`` (e.g. SIGSTOP/SIGCONT) if the pid is still ours."""
    if not pid_matches(pid, marker):
        return False
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True
