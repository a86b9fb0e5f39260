"""Mode ``route``: each session's backend is the MariaDB of its range's owner.

A Java service keeps one JDBC URL (its proxy's) across a change of owner:
the proxy, not the client, follows the owner. Which server a session ends
at is decided at login, from the database the login names:

- the greeting must come from some server before the client says its
  database, so the proxy opens :func:`greeting_candidates` in order (the
  owner all ranges share, else this proxy's site; then the others) and
  takes the first that answers;
- :func:`owner_backend` then opens the owner of the login database's range.
  While that server cannot be reached (it was just killed, and the agents
  have not promoted another site yet) it asks the store again, for at most
  :data:`OWNER_WAIT_SECONDS`, until a reachable site owns the range;
- if that is another server than the greeting's, the client answers that
  server's salt through an auth-switch request (:mod:`.handshake`).

During the session the owner is checked (from the runtime's cache) before
each statement that starts a transaction and before each write: when it
moved, the session is cut with a retryable error (1184, SQLSTATE 08S01:
the pool drops the connection, the transaction was rolled back, nothing
of it was logged) and the client's next session lands at the new owner.
A session cannot move silently: the proxy holds no password to log in
again elsewhere.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

from mdbc_py.config import SiteConfig
from mdbc_py.core.runtime import Runtime
from mdbc_py.proxy import backend as backend_mod
from mdbc_py.sql import TableRef

OWNER_WAIT_SECONDS = 20.0
"""How long a new session waits for a reachable owner (under Connector/J's 30 s connect timeout)."""

POLL_SECONDS = 0.25


def range_of_db(runtime: Runtime, db: str | None) -> str | None:
    """The one range that covers database ``db`` (None: no range, or several)."""
    if not db:
        return None
    try:
        return runtime.ranges.range_of(TableRef.any_of(db))
    except ValueError:  # tables of the database are split over several ranges
        return None


def _owners(runtime: Runtime) -> set[str]:
    owners = set()
    for name in runtime.cfg.ranges:
        with contextlib.suppress(Exception):  # store unreachable: no guess
            owners.add(runtime.owner(name).owner)
    return owners


def greeting_candidates(runtime: Runtime, home: SiteConfig) -> Iterator[SiteConfig]:
    """Sites to take the greeting from, most likely owner first."""
    owners = _owners(runtime)
    first = next(iter(owners)) if len(owners) == 1 else home.name
    order = [first, home.name, *sorted(runtime.cfg.sites)]
    seen: set[str] = set()
    for name in order:
        if name not in seen and name in runtime.cfg.sites:
            seen.add(name)
            yield runtime.cfg.site(name)


def open_any(runtime: Runtime, home: SiteConfig) -> tuple[socket.socket, SiteConfig]:
    """A socket to the first candidate that answers (for the greeting)."""
    failures = []
    for site in greeting_candidates(runtime, home):
        try:
            return backend_mod.open_socket(site), site
        except backend_mod.BackendUnavailableError as exc:
            failures.append(f"{site.name}: {exc.detail}")
    raise backend_mod.BackendUnavailableError(
        home.name, f"no site reachable ({'; '.join(failures)})"
    )


def owner_backend(
    runtime: Runtime, home: SiteConfig, db: str | None, current: SiteConfig
) -> tuple[socket.socket | None, SiteConfig]:
    """The site a session on ``db`` must end at, and a socket to it (None: ``current``).

    Waits (bounded) while the owner cannot be reached; raises
    BackendUnavailableError when no reachable site owns the range in time.
    After a wait the socket is always new, also to ``current``: the
    greeting's server may have given up on a login that took that long
    (MariaDB's ``connect_timeout``).
    """
    range_name = range_of_db(runtime, db)
    if range_name is None:
        target = home.name
        if target == current.name:
            return None, current
        site = runtime.cfg.site(target)
        return backend_mod.open_socket(site), site
    deadline = time.monotonic() + OWNER_WAIT_SECONDS
    fresh = False
    while True:
        owner = runtime.owner(range_name, fresh=fresh).owner
        if owner == current.name and not fresh:
            return None, current
        site = runtime.cfg.site(owner)
        try:
            return backend_mod.open_socket(site), site
        except backend_mod.BackendUnavailableError as exc:
            if time.monotonic() > deadline:
                raise backend_mod.BackendUnavailableError(
                    site.name,
                    f"{exc.detail}; it owns range {range_name!r} and no other site took "
                    f"over within {OWNER_WAIT_SECONDS:.0f} s",
                ) from None
        time.sleep(POLL_SECONDS)
        fresh = True
