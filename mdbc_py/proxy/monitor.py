"""The proxy's health and its registration in the store, checked on one timer.

Every ``interval`` seconds one thread:

- pings the site's MariaDB over a connection of its own, with the
  configured account (the one the commit path repairs with), so that a
  database that is down, or refuses that login, shows as such. One
  long-lived connection, not one per check: a check that connected and
  hung up every few seconds would count against ``max_connect_errors``;
- writes the proxy's heartbeat to the store (``MusicStore.proxy_heartbeat``):
  site, listen address, open sessions, up or draining. Its success is what
  "store up" means here. ``mdbc status`` shows a line per heartbeat record.

``/health`` answers from the last check, never by probing on the request:
healthy while both answered, the last check is recent, and the proxy is not
draining. When the proxy stops, the monitor writes at once that it drains,
and at the end that it stopped (a record that expires a minute later).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import pymysql
from pymysql.constants import ER

from mdbc_py.errors import Error, StoreSchemaError
from mdbc_py.mysql_errors import errno

if TYPE_CHECKING:
    from mdbc_py.proxy.server import ProxyServer

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0
"""Seconds the database check may take (connect, ping)."""

LOGIN_REFUSED = frozenset({ER.DBACCESS_DENIED_ERROR, ER.ACCESS_DENIED_ERROR, 1698})
"""The configured account is refused (1698: access denied without a password)."""

STOPPED_TTL = 60.0
"""Seconds ``mdbc status`` still shows a proxy that stopped cleanly, as stopped."""


def record_ttl(interval: float) -> float:
    """Seconds a heartbeat record outlives its proxy: ``mdbc status`` shows it as gone meanwhile."""
    return max(60.0, 10 * interval)


def listen_text(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Monitor:
    """The check timer of one proxy (see the module docstring)."""

    def __init__(self, server: ProxyServer, interval: float) -> None:
        self.server = server
        self.interval = interval
        self.hostname = socket.gethostname()
        self.listen = ""
        """The address clients reach the proxy at, ``host:port``."""
        self.database = "unknown"
        """up, down, login-refused, or unknown (not checked yet)."""
        self.database_error = ""
        self.store = "unknown"
        """up, down, or unknown (not checked yet)."""
        self.store_error = ""
        self.checked_at: float | None = None
        self._conn: pymysql.Connection | None = None
        self._wake = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._schema_warned = False

    @property
    def instance(self) -> str:
        """How the store and ``mdbc status`` name this proxy: host and listen address."""
        return f"{self.hostname}/{self.listen}"

    def start(self) -> None:
        """Start checking (the listener is bound: its address is known from now on)."""
        self.listen = listen_text(*self.server.address)
        self._thread = threading.Thread(target=self._loop, name="mdbc-proxy-monitor", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Check and heartbeat now (the proxy started draining)."""
        self._wake.set()

    def stop(self) -> None:
        """End the timer; record that the proxy stopped (best effort)."""
        if self._thread is None:
            return  # never started: nothing was registered
        self._done.set()
        self._wake.set()
        self._thread.join(timeout=PROBE_TIMEOUT * 4)
        self._heartbeat("stopped", STOPPED_TTL)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _loop(self) -> None:
        while not self._done.is_set():
            try:
                self.check()
            except Exception:  # the timer must survive anything a check runs into
                log.exception("proxy health check failed unexpectedly")
            self._wake.wait(self.interval)
            self._wake.clear()

    # -- one check ------------------------------------------------------------------

    def check(self) -> None:
        """Ping the database, heartbeat the store, set the gauges."""
        self._check_database()
        self._heartbeat("draining" if self.server.stopping.is_set() else "up", None)
        self.checked_at = time.monotonic()
        metrics, site = self.server.metrics, self.server.site.name
        metrics.db_up.labels(site).set(1 if self.database == "up" else 0)
        metrics.store_up.labels(site).set(1 if self.store == "up" else 0)

    def _check_database(self) -> None:
        site = self.server.site
        try:
            if self._conn is None or not self._conn.open:
                self._conn = pymysql.connect(
                    **site.connect_kwargs(),
                    connect_timeout=PROBE_TIMEOUT,
                    read_timeout=PROBE_TIMEOUT,
                    write_timeout=PROBE_TIMEOUT,
                )
            self._conn.ping(reconnect=False)
        except (pymysql.err.Error, OSError) as exc:
            self._conn = None
            state = "login-refused" if errno(exc) in LOGIN_REFUSED else "down"
            text = str(exc)
            if site.password and site.password in text:
                text = "(details withheld: they contain the password)"
            if state != self.database:
                log.warning("site %s: the proxy's database check: %s (%s)", site.name, state, text)
            self.database, self.database_error = state, text
            return
        if self.database != "up":
            log.info("site %s: the proxy's database check: up", site.name)
        self.database, self.database_error = "up", ""

    def _heartbeat(self, state: str, ttl: float | None) -> None:
        """Write the proxy's record; note whether the store took it."""
        server = self.server
        site = server.site.name
        info = {
            "listen": self.listen,
            "host": self.hostname,
            "pid": str(os.getpid()),
            "sessions": str(server.session_count),
            "state": state,
            "database": self.database,
            "interval": f"{self.interval:g}",
        }
        try:
            server.runtime.store.proxy_heartbeat(
                site, self.instance, info, ttl or record_ttl(self.interval)
            )
        except StoreSchemaError as exc:  # the store answered: it is up
            if not self._schema_warned:
                log.warning("%s; until then mdbc status does not show this proxy", exc)
                self._schema_warned = True
            self.store, self.store_error = "up", ""
        except Exception as exc:  # unreachable, or not usable (a keyspace never initialised)
            text = str(exc) if isinstance(exc, Error) else f"{type(exc).__name__}: {exc}"
            if self.store != "down":
                log.warning("site %s: the proxy's heartbeat: store down (%s)", site, text)
            self.store, self.store_error = "down", text
        else:
            self.store, self.store_error = "up", ""

    # -- what /health says --------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``/health``: healthy while database and store answer and the proxy is not draining."""
        server = self.server
        draining = server.stopping.is_set()
        age = None if self.checked_at is None else time.monotonic() - self.checked_at
        fresh = age is not None and age <= 3 * self.interval + 2 * PROBE_TIMEOUT + 10
        problems = []
        if draining:
            problems.append("draining: the proxy is stopping and takes no new sessions")
        if self.database != "up":
            why = f": {self.database_error}" if self.database_error else ""
            problems.append(f"database {self.database}{why}")
        if self.store != "up":
            why = f": {self.store_error}" if self.store_error else ""
            problems.append(f"store {self.store}{why}")
        if age is not None and not fresh:
            problems.append(f"no health check finished for {age:.0f} s")
        return {
            "site": server.site.name,
            "healthy": not problems,
            "listen": self.listen,
            "sessions": server.session_count,
            "draining": draining,
            "database": self.database,
            "store": self.store,
            "checked_seconds_ago": None if age is None else round(age, 1),
            "problems": problems,
        }

    def liveness(self) -> dict[str, Any]:
        """``/health/live``: the listener (or the drain) and the check timer run.

        Whatever the database does: a proxy whose database is down stays up to say so.
        """
        accepting = self.server.accepting
        draining = self.server.stopping.is_set()
        timer = self._thread is not None and self._thread.is_alive()
        return {
            "live": (accepting or draining) and timer,
            "accepting": accepting,
            "draining": draining,
            "checking": timer,
        }
