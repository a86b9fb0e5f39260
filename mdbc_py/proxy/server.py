"""The listener: accepts clients, runs one session thread each, drains on stop.

Threads with blocking sockets, not asyncio: the commit core, PyMySQL and
cassandra-driver's calls are blocking, and a thread per session keeps each
session's code straight-line (the group committer already lets concurrent
sessions share one append). Bounded: at most ``max_sessions`` at once (the
next client gets ERR 1040 and is closed), a login must finish within
:data:`~mdbc_py.proxy.session.HANDSHAKE_SECONDS`.

Stopping (SIGTERM in ``mdbc proxy``): the listener closes, idle sessions
end at once, a session with a transaction open may finish it for
``drain_seconds``; then every remaining session is cut (its backend session
closes and the server rolls its transaction back: nothing of it is logged).

TLS: with ``ProxySettings.tls`` (``--tls-cert``/``--tls-key``) clients may
encrypt their link to the proxy; each session's link to MariaDB follows its
site's ``[sites.NAME.tls]``, whose files are checked when the server is
made (every site's in mode route), so a bad one stops the start, not a login.

Operations: the server owns its :class:`~.metrics.ProxyMetrics` (sessions
counted here, statements, commits and errors by the sessions) and a
:class:`~.monitor.Monitor` that checks the database, heartbeats the store
every ``heartbeat_seconds`` (``mdbc status`` lists the proxy) and answers
``/health``; ``mdbc proxy --metrics-listen`` serves both.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from mdbc_py.config import Config
from mdbc_py.core.runtime import Runtime
from mdbc_py.errors import ConfigError
from mdbc_py.proxy import errors as perr
from mdbc_py.proxy import wire
from mdbc_py.proxy.backend import client_context, tls_table
from mdbc_py.proxy.metrics import ProxyMetrics
from mdbc_py.proxy.monitor import Monitor
from mdbc_py.proxy.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProxySettings:
    """Where to listen and how many sessions, for how long to drain."""

    host: str = "127.0.0.1"
    port: int = 3307
    max_sessions: int = 256
    drain_seconds: float = 10.0
    heartbeat_seconds: float = 2.0
    """How often the monitor checks the database and heartbeats the store."""
    tls: ssl.SSLContext | None = None
    """Server TLS for clients (``--tls-cert``/``--tls-key``): SSL is offered in the greeting."""
    tls_required: bool = False
    """Refuse clients that do not ask for TLS (needs ``tls``)."""


class ProxyServer:
    """``mdbc proxy`` for one site: see the package docstring."""

    def __init__(self, cfg: Config, site: str, settings: ProxySettings | None = None) -> None:
        if site not in cfg.sites:
            raise ConfigError(
                f"unknown site {site!r}; the configuration names {', '.join(sorted(cfg.sites))}",
                key="site",
            )
        if cfg.mode not in ("master-slave", "route"):
            raise ConfigError(
                f"mdbc proxy supports modes master-slave and route (the configuration says "
                f"{cfg.mode!r})",
                key="mode",
            )
        self.cfg = cfg
        self.site = cfg.site(site)
        self.settings = settings or ProxySettings()
        if self.settings.tls_required and self.settings.tls is None:
            raise ConfigError("tls_required needs a server certificate (--tls-cert, --tls-key)")
        for reached in cfg.sites.values() if cfg.mode == "route" else [self.site]:
            if reached.tls is not None:  # a bad CA or key file fails now, naming its key
                client_context(reached.tls, tls_table(reached))
        self.runtime = Runtime.for_config(cfg)
        self.stopping = threading.Event()
        self._stop_r, self._stop_w = os.pipe()
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._lock = threading.Lock()
        self._sessions: dict[Session, threading.Thread] = {}
        self._stopped = threading.Event()
        self.metrics = ProxyMetrics(self.site.name, cfg.ranges)
        self.monitor = Monitor(self, self.settings.heartbeat_seconds)

    @property
    def address(self) -> tuple[str, int]:
        """The address the proxy listens on (the real port when 0 was asked)."""
        assert self._listener is not None, "start() first"
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    @property
    def accepting(self) -> bool:
        """True while the listener takes new clients."""
        return self._accepter is not None and self._accepter.is_alive()

    def start(self) -> tuple[str, int]:
        """Bind, listen and accept in a background thread; return the address."""
        listener = socket.socket(socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.settings.host, self.settings.port))
        except OSError as exc:
            listener.close()
            raise OSError(
                exc.errno,
                f"cannot listen on {self.settings.host}:{self.settings.port}: {exc.strerror}",
            ) from None
        listener.listen(128)
        listener.settimeout(0.5)
        self._listener = listener
        self._accepter = threading.Thread(
            target=self._accept_loop, name="mdbc-proxy-accept", daemon=True
        )
        self._accepter.start()
        self.monitor.start()
        log.info("mdbc proxy for site %s listening on %s:%d", self.site.name, *self.address)
        return self.address

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopping.is_set():
                    return
                raise
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                full = len(self._sessions) >= self.settings.max_sessions
                if not full:
                    session = Session(
                        sock,
                        self.site,
                        self.runtime,
                        self.stopping,
                        self._stop_r,
                        self.metrics,
                        routing=self.cfg.mode == "route",
                        listener_tls=self.settings.tls,
                        tls_required=self.settings.tls_required,
                    )
                    thread = threading.Thread(
                        target=self._run, args=(session,), daemon=True, name="mdbc-proxy-session"
                    )
                    self._sessions[session] = thread
                    self.metrics.sessions.labels(self.site.name).inc()
                    self.metrics.sessions_open.labels(self.site.name).inc()
            if full:
                self.metrics.error("TooManySessions", perr.ER_CON_COUNT_ERROR)
                self._refuse(
                    sock,
                    perr.ER_CON_COUNT_ERROR,
                    f"too many sessions: mdbc proxy serves at most {self.settings.max_sessions}",
                )
                continue
            thread.start()

    @staticmethod
    def _refuse(sock: socket.socket, errno: int, message: str) -> None:
        with contextlib.suppress(OSError):
            sock.sendall(wire.frame(0, wire.err_packet_pre41(0, errno, message).payload))
        with contextlib.suppress(OSError):
            sock.close()

    def _run(self, session: Session) -> None:
        try:
            session.run()
        finally:
            with self._lock:
                self._sessions.pop(session, None)
                self.metrics.sessions_open.labels(self.site.name).dec()

    def stop(self, drain_seconds: float | None = None) -> None:
        """Stop accepting, let open transactions finish (bounded), then cut the rest."""
        if self.stopping.is_set():
            self._stopped.wait()
            return
        drain = self.settings.drain_seconds if drain_seconds is None else drain_seconds
        self.stopping.set()
        self.metrics.draining.labels(self.site.name).set(1)
        self.monitor.wake()
        os.write(self._stop_w, b"x")
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        if self._accepter is not None:
            self._accepter.join()
        with self._lock:
            waiting = list(self._sessions)
        for session in waiting:  # idle sessions end now (they wait in recv, not select)
            session.wake_if_idle()
        deadline = time.monotonic() + drain
        while self.session_count and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            left = list(self._sessions.items())
        if left:
            log.warning(
                "drain: cutting %d sessions still in a transaction after %.0f s; their "
                "transactions are rolled back",
                len(left),
                drain,
            )
        for session, _ in left:
            session.abort()
        for _, thread in left:
            thread.join(timeout=5.0)
        os.close(self._stop_r)
        os.close(self._stop_w)
        self.monitor.stop()
        self._stopped.set()
        log.info("mdbc proxy for site %s stopped", self.site.name)

    def wait(self) -> None:
        """Block until :meth:`stop` has finished."""
        self._stopped.wait()
