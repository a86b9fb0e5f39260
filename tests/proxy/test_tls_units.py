"""TLS in the proxy's handshake, without MariaDB: the SSL request and the switch to TLS.

A thread plays the server end of a socket pair with certificates made for
the test (the secure sandbox's generator): it reads what the proxy sends
after the greeting and answers the TLS handshake as MariaDB would.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mdbc_py.config import SiteConfig
from mdbc_py.errors import ConfigError
from mdbc_py.metrics import server_tls
from mdbc_py.proxy import backend, handshake, wire
from mdbc_py.sandbox.certs import TlsFiles, ensure_certificates
from mdbc_py.tls import TlsConfig
from tests.proxy.test_wire_units import greeting, login

FLAGS = (
    wire.CLIENT_PROTOCOL_41 | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_CONNECT_WITH_DB
    | wire.CLIENT_PLUGIN_AUTH
)  # fmt: skip
SERVER_CAPS = 0xFFFE | (0xBFFF << 16)  # MariaDB style, CLIENT_SSL among them


@dataclass(frozen=True)
class Pki:
    ours: TlsFiles
    """The CA that signed the fake server's certificate (and the proxy's client certificate)."""
    foreign: TlsFiles
    """Another CA: a site that names it does not trust the server."""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(
        ensure_certificates(tmp_path_factory.mktemp("ours"), ["127.0.0.1"]),
        ensure_certificates(tmp_path_factory.mktemp("foreign"), ["127.0.0.1"]),
    )


def site_with(tls: TlsConfig, host: str = "127.0.0.1") -> SiteConfig:
    return SiteConfig("dc1", host, 3306, "user", tls=tls)


def client_tls(files: TlsFiles, **kw: Any) -> TlsConfig:
    return TlsConfig(str(files.ca), str(files.client_cert), str(files.client_key), **kw)


class FakeServer:
    """The server end: reads the SSL request, does TLS (client certificate required), reads."""

    def __init__(self, sock: socket.socket, files: TlsFiles) -> None:
        self.sock = sock
        self.context = server_tls(str(files.server_cert), str(files.server_key), str(files.ca))
        self.request: wire.Packet | None = None
        self.login: wire.Packet | None = None
        self.peer_cert: dict[str, Any] | None = None
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        stream = wire.PacketStream(self.sock, "proxy")
        try:
            self.request = stream.read_packet_exact()
            tls = self.context.wrap_socket(self.sock, server_side=True)
            stream.use(tls)
            self.peer_cert = tls.getpeercert()
            self.login = stream.read_packet()
            stream.send(wire.ok_packet(3, wire.SERVER_STATUS_AUTOCOMMIT))
        except (ssl.SSLError, OSError, wire.ConnectionClosed) as exc:
            self.failure = exc

    def join(self) -> None:
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture()
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    left.settimeout(10)
    right.settimeout(10)
    yield left, right
    left.close()
    right.close()


def test_backend_gets_the_ssl_request_then_the_login_over_tls(
    pki: Pki, pair: tuple[socket.socket, socket.socket]
) -> None:
    proxy_end, server_end = pair
    server = FakeServer(server_end, pki.ours)
    site = site_with(client_tls(pki.ours))
    hello = handshake.parse_greeting(greeting(SERVER_CAPS, ext=0))
    first = handshake.parse_login(login(FLAGS))
    stream = wire.PacketStream(proxy_end, "backend")

    tls = backend.start_tls(proxy_end, stream, site, hello, first)
    assert stream.sock is tls and tls.version() in ("TLSv1.2", "TLSv1.3")
    sent = first.over_tls()
    stream.send(wire.Packet(2, sent.packet.payload))
    assert stream.read_packet().is_ok
    server.join()
    assert server.failure is None

    request = server.request
    assert request is not None and request.seq == 1 and len(request.payload) == 32
    flags = struct.unpack_from("<I", request.payload)[0]
    assert flags == first.backend_flags | wire.CLIENT_SSL
    assert flags & wire.CLIENT_MULTI_STATEMENTS, "the capabilities the login then carries"
    assert request.payload[4:] == first.packet.payload[4:32], "max packet, collation, filler"
    assert handshake.asks_for_tls(request)

    assert server.login is not None and server.login.seq == 2
    assert server.login.payload == sent.packet.payload
    again = handshake.parse_login(server.login, encrypted=True)
    assert (again.user, again.database) == ("user", "app")
    assert server.login.payload[4:] == first.packet.payload[4:], "only the flags changed"
    assert server.peer_cert is not None, "the proxy showed the site's client certificate"


@pytest.mark.parametrize(
    ("host", "check_hostname", "ca", "expected"),
    [
        ("127.0.0.1", True, "foreign", "certificate is not trusted"),
        ("127.0.0.7", True, "ours", "IP address mismatch"),
        ("127.0.0.7", False, "ours", None),  # the chain is verified, the name is not
    ],
)
def test_the_site_tls_table_decides_what_the_server_must_prove(
    pki: Pki,
    pair: tuple[socket.socket, socket.socket],
    host: str,
    check_hostname: bool,
    ca: str,
    expected: str | None,
) -> None:
    proxy_end, server_end = pair
    server = FakeServer(server_end, pki.ours)
    files = getattr(pki, ca)
    site = site_with(
        TlsConfig(
            str(files.ca),
            str(pki.ours.client_cert),
            str(pki.ours.client_key),
            check_hostname=check_hostname,
        ),
        host,
    )
    hello = handshake.parse_greeting(greeting(SERVER_CAPS, ext=0))
    stream = wire.PacketStream(proxy_end, "backend")
    start = lambda: backend.start_tls(  # noqa: E731
        proxy_end, stream, site, hello, handshake.parse_login(login(FLAGS))
    )
    if expected is None:
        start().close()
        server.join()
        return
    with pytest.raises(backend.BackendTlsError) as info:
        start()
    proxy_end.close()
    server.join()
    assert info.value.site == "dc1"
    message = str(info.value)
    assert message.startswith("TLS to the MariaDB of site 'dc1' failed: ")
    assert expected in message and "[sites.dc1.tls]" in message, message
    assert server.login is None, "no login went to an untrusted server"


def test_a_server_without_tls_is_refused_before_anything_is_sent(
    pki: Pki, pair: tuple[socket.socket, socket.socket]
) -> None:
    proxy_end, server_end = pair
    no_ssl = handshake.parse_greeting(greeting(SERVER_CAPS & ~wire.CLIENT_SSL, ext=0))
    stream = wire.PacketStream(proxy_end, "backend")
    with pytest.raises(backend.BackendTlsError, match="does not offer TLS") as info:
        backend.start_tls(
            proxy_end,
            stream,
            site_with(client_tls(pki.ours)),
            no_ssl,
            handshake.parse_login(login(FLAGS)),
        )
    assert "[sites.dc1.tls]" in str(info.value)
    server_end.setblocking(False)
    with pytest.raises(BlockingIOError):
        server_end.recv(1)  # not even the SSL request: no login to a plaintext server


def test_greeting_offers_tls_only_when_the_listener_has_a_certificate() -> None:
    for caps in (SERVER_CAPS, SERVER_CAPS & ~wire.CLIENT_SSL):
        hidden = handshake.parse_greeting(greeting(caps, ext=0))
        offered = handshake.parse_greeting(greeting(caps, ext=0), offer_tls=True)
        assert hidden.capabilities == offered.capabilities == caps, "the server's own"
        assert not shown_caps(hidden) & wire.CLIENT_SSL
        assert shown_caps(offered) == shown_caps(hidden) | wire.CLIENT_SSL


def shown_caps(parsed: handshake.Greeting) -> int:
    data = parsed.packet.payload
    at = data.index(0, 1) + 1 + 4 + 9
    return int(
        struct.unpack_from("<H", data, at)[0] | struct.unpack_from("<H", data, at + 5)[0] << 16
    )


def test_client_ssl_request_and_tls_login() -> None:
    request = wire.Packet(1, login(FLAGS | wire.CLIENT_SSL).payload[:32])
    assert handshake.asks_for_tls(request)
    assert not handshake.asks_for_tls(login(FLAGS))
    with pytest.raises(handshake.HandshakeError, match="--tls-cert") as info:
        handshake.parse_login(login(FLAGS | wire.CLIENT_SSL, db=b"app"))  # TLS claimed, not done
    assert (info.value.errno, info.value.sqlstate) == (1043, "08S01")
    over_tls = login(FLAGS | wire.CLIENT_SSL)
    parsed = handshake.parse_login(wire.Packet(2, over_tls.payload), encrypted=True)
    assert parsed.client_flags & wire.CLIENT_SSL and parsed.user == "user"
    assert not parsed.backend_flags & wire.CLIENT_SSL, "the backend's TLS is the proxy's choice"
    assert parsed.packet.seq == 2


def test_route_switch_then_tls_keeps_the_new_answer() -> None:
    """Mode route: the login rebuilt for the owner's salt, then sent over TLS."""
    first = handshake.parse_login(login(FLAGS))
    moved = first.with_auth(b"n" * 20, "mysql_native_password").over_tls()
    assert struct.unpack_from("<I", moved.packet.payload)[0] == moved.backend_flags
    assert moved.backend_flags == first.backend_flags | wire.CLIENT_SSL
    assert moved.packet.payload[first.auth_at :].startswith(bytes([20]) + b"n" * 20)
    assert handshake.ssl_request(moved) == moved.packet.payload[:32]


def test_first_packet_is_read_without_the_tls_bytes_after_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, proxy_end = pair
    hello = b"\x16\x03\x01\x00\x05hello"  # the start of a TLS ClientHello, sent at once
    client.sendall(wire.frame(1, login(FLAGS | wire.CLIENT_SSL).payload[:32]) + hello)
    stream = wire.PacketStream(proxy_end, "client")
    first = stream.read_packet_exact()
    assert first.seq == 1 and len(first.payload) == 32 and not stream.buffered()
    assert proxy_end.recv(100) == hello, "left in the socket for the TLS layer"

    client.sendall(wire.frame(0, b"x") + b"more")
    stream.read_packet()  # a buffered read takes "more" too
    with pytest.raises(wire.ConnectionClosed, match="before the TLS handshake"):
        stream.use(proxy_end)


def test_a_bad_ca_file_fails_when_the_context_is_built(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"\[sites\.dc1\.tls\]: ca file"):
        backend.client_context(TlsConfig(ca=str(bogus)), "[sites.dc1.tls]")
