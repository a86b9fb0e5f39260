"""One client's own backend session on MariaDB, and a PyMySQL handle on it.

The client authenticates through the proxy (see :mod:`.handshake`); once
the server has said OK, the same socket is adopted by a PyMySQL
``Connection`` object. The commit core runs its statements through that
handle (read the staged rows, clear them, record the applied position),
inside the client's own open transaction, and gets exactly the Python
values the driver gets, because it *is* PyMySQL decoding them. The handle
and the relay share one :class:`~.wire.PacketStream`, so neither can read
bytes meant for the other.

PyMySQL decodes text with the connection's character set; the handle is
told ``utf8mb4`` (the driver's charset), and the commit path switches the
session to ``utf8mb4`` around its own statements when the client's session
might use another one (see :mod:`.commit`).

TLS: a site with ``[sites.NAME.tls]`` gets its backend sessions over TLS
(:func:`start_tls`), with the CA, client certificate and checks of that
table, as the driver's connections to it. The server must offer TLS; a
certificate that is not trusted ends the login with an error naming the
site. A site without that table is reached in plaintext, as by the driver.
"""

from __future__ import annotations

import functools
import socket
import ssl
from typing import Any

import pymysql
from pymysql.connections import Connection as RawConnection

from mdbc_py.config import SiteConfig
from mdbc_py.proxy import wire
from mdbc_py.proxy.handshake import Greeting, Login, ssl_request
from mdbc_py.tls import TlsConfig

CONNECT_TIMEOUT = 10.0
"""Seconds to reach the site's MariaDB for a new client session."""


class BackendUnavailableError(Exception):
    """The site's MariaDB could not be reached for a new session (``site``, ``detail``)."""

    def __init__(self, site: str, detail: str) -> None:
        super().__init__(f"cannot reach the MariaDB of site {site!r}: {detail}")
        self.site = site
        self.detail = detail


class BackendTlsError(Exception):
    """TLS toward the site's MariaDB failed (``site``, ``detail``): a setting, not an outage.

    The server does not offer TLS, refused the proxy's client certificate,
    or presented a certificate that ``[sites.NAME.tls]`` does not trust.
    """

    def __init__(self, site: str, detail: str) -> None:
        super().__init__(f"TLS to the MariaDB of site {site!r} failed: {detail}")
        self.site = site
        self.detail = detail


@functools.lru_cache(maxsize=64)
def client_context(tls: TlsConfig, where: str) -> ssl.SSLContext:
    """The client context of one ``[sites.NAME.tls]`` table, built once and shared.

    Raises ConfigError naming the key whose file is not what it should be;
    the server checks it for every TLS site when it starts.
    """
    return tls.ssl_context(where)


def tls_table(site: SiteConfig) -> str:
    return f"[sites.{site.name}.tls]"


def start_tls(
    sock: socket.socket,
    stream: wire.PacketStream,
    site: SiteConfig,
    greeting: Greeting,
    login: Login,
) -> ssl.SSLSocket:
    """Turn the backend session to TLS after the greeting: SSL request, then the TLS handshake.

    ``stream`` goes on over the returned socket; the login goes next, with
    sequence id 2 (:meth:`~.handshake.Login.over_tls`).
    """
    assert site.tls is not None
    if not greeting.capabilities & wire.CLIENT_SSL:
        raise BackendTlsError(
            site.name,
            f"its server does not offer TLS, and {tls_table(site)} asks for it "
            "(start MariaDB with ssl_cert/ssl_key, or remove the table)",
        )
    stream.send(wire.Packet(1, ssl_request(login)))
    context = client_context(site.tls, tls_table(site))
    hostname = site.host if site.host and not site.unix_socket else None
    try:
        tls = context.wrap_socket(sock, server_hostname=hostname)
    except ssl.SSLCertVerificationError as exc:
        raise BackendTlsError(
            site.name,
            f"its certificate is not trusted ({exc.verify_message}): check ca (and the site's "
            f"host, when check_hostname is on) in {tls_table(site)}",
        ) from None
    except ssl.SSLError as exc:
        raise BackendTlsError(site.name, f"TLS handshake: {exc.reason or exc}") from None
    except OSError as exc:
        raise BackendTlsError(site.name, f"TLS handshake: {exc.strerror or exc}") from None
    stream.use(tls)
    return tls


def open_socket(site: SiteConfig) -> socket.socket:
    """A TCP (or Unix) socket to the site's MariaDB, blocking, no timeout after connect."""
    try:
        if site.unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(site.unix_socket)
        else:
            sock = socket.create_connection((site.host, site.port), CONNECT_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    except OSError as exc:
        raise BackendUnavailableError(site.name, str(exc)) from None
    sock.settimeout(None)
    return sock


def adopt(
    sock: socket.socket, stream: wire.PacketStream, greeting: Greeting, flags: int, status: int
) -> RawConnection:
    """A PyMySQL connection around an already authenticated session.

    ``flags`` are the capabilities the session was opened with, ``status``
    the status flags of the server's final OK.
    """
    raw: Any = pymysql.connections.Connection(
        defer_connect=True, charset="utf8mb4", ssl_disabled=True, autocommit=None
    )
    raw._sock = sock
    raw._rfile = stream
    raw._next_seq_id = 0
    raw._current_timeout = None
    raw._closed = False
    raw.protocol_version = 10
    raw.server_version = greeting.server_version
    raw.server_thread_id = (greeting.thread_id,)
    raw.server_capabilities = greeting.capabilities
    raw.server_status = status
    raw.client_flag = flags
    raw.host_info = f"mdbc proxy session {greeting.thread_id}"
    result: RawConnection = raw
    return result
