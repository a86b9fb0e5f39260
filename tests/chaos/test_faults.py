"""The fault-injecting proxy against a loopback echo server: each fault does what it says.

No database here: these tests prove the tool the partition tests rely on,
so that a partition test that passes is not passing because the "partition"
let traffic through.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.chaos.faults import Link, LinkError

QUIET = 0.3
"""How long a test listens to conclude that nothing arrives."""


class EchoServer:
    """Echoes every byte back; remembers what it received (to see one-way loss)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                with self.lock:
                    self.received += data
                try:
                    conn.sendall(data)
                except OSError:
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture()
def link(echo: EchoServer) -> Iterator[Link]:
    proxy = Link(("127.0.0.1", echo.port), name="echo")
    yield proxy
    proxy.close()


def _connect(link: Link) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", link.port), timeout=5)
    sock.settimeout(QUIET)
    return sock


def _recv_exactly(sock: socket.socket, n: int, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def _wait_received(echo: EchoServer, n: int) -> bytes:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with echo.lock:
            if len(echo.received) >= n:
                return bytes(echo.received)
        time.sleep(0.01)
    return bytes(echo.received)


def test_pass_forwards_both_ways_and_counts_bytes(link: Link) -> None:
    with _connect(link) as sock:
        payload = bytes(range(256)) * 1000
        sock.sendall(payload)
        assert _recv_exactly(sock, len(payload)) == payload
    assert link.bytes == {"up": len(payload), "down": len(payload)}
    assert link.accepted == 1


def test_blackhole_keeps_the_connection_open_and_delivers_nothing_until_healed(
    link: Link, echo: EchoServer
) -> None:
    with _connect(link) as sock:
        link.blackhole()
        sock.sendall(b"during")
        with pytest.raises(TimeoutError):  # silence: neither a reply, nor a FIN, nor an RST
            sock.recv(100)
        assert echo.received == b""
        assert link.connections == 1
        link.heal()  # like TCP retransmission after a partition: the bytes arrive after all
        assert _recv_exactly(sock, 6) == b"during"


def test_blackhole_holds_new_connections_too(link: Link, echo: EchoServer) -> None:
    link.blackhole()
    with _connect(link) as sock:  # the handshake completes; then nothing
        sock.sendall(b"hello")
        with pytest.raises(TimeoutError):
            sock.recv(100)
        assert echo.received == b""


def test_one_way_loss_upstream_reaches_nobody(link: Link, echo: EchoServer) -> None:
    with _connect(link) as sock:
        link.lose("up")
        sock.sendall(b"lost")
        with pytest.raises(TimeoutError):
            sock.recv(100)
        assert echo.received == b""


def test_one_way_loss_downstream_reaches_the_server_but_not_the_client(
    link: Link, echo: EchoServer
) -> None:
    with _connect(link) as sock:
        link.lose("down")
        sock.sendall(b"heard")
        assert _wait_received(echo, 5) == b"heard"  # the server got it and echoed it ...
        with pytest.raises(TimeoutError):  # ... but the echo never comes back
            sock.recv(100)


def test_latency_delays_every_chunk(link: Link) -> None:
    link.delay(0.4)
    with _connect(link) as sock:
        began = time.monotonic()
        sock.sendall(b"slow")
        assert _recv_exactly(sock, 4) == b"slow"
        took = time.monotonic() - began
    assert took >= 0.8, f"round trip through 0.4 s each way took only {took:.3f} s"


def test_cut_resets_open_and_new_connections_until_healed(link: Link) -> None:
    sock = _connect(link)
    sock.settimeout(5)
    sock.sendall(b"x")
    assert _recv_exactly(sock, 1) == b"x"
    link.cut()
    with pytest.raises(ConnectionResetError):
        sock.sendall(b"y")
        sock.recv(10)
    sock.close()
    with pytest.raises(ConnectionResetError), _connect(link) as late:  # at connect or after
        late.settimeout(5)
        late.sendall(b"z")
        late.recv(10)
    link.heal()
    with _connect(link) as fresh:
        fresh.sendall(b"ok")
        assert _recv_exactly(fresh, 2) == b"ok"


def test_a_dead_target_resets_the_client(echo: EchoServer) -> None:
    with socket.socket() as probe:  # a port with no listener
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    proxy = Link(("127.0.0.1", dead_port), name="dead")
    try:
        with (
            pytest.raises((ConnectionResetError, BrokenPipeError)),  # at connect or after
            socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
        ):
            sock.settimeout(5)
            sock.sendall(b"x")
            if not sock.recv(10):  # an orderly close would prove the reset missing
                raise AssertionError("closed with FIN, expected RST")
    finally:
        proxy.close()


def test_a_busy_port_gives_a_clear_error(link: Link) -> None:
    with pytest.raises(LinkError, match=f"cannot listen on 127.0.0.1:{link.port}") as info:
        Link(("127.0.0.1", 1), name="clash", port=link.port)
    assert info.value.target == ("127.0.0.1", 1)


def test_close_resets_everything(link: Link) -> None:
    sock = _connect(link)
    link.close()
    sock.settimeout(5)
    with pytest.raises(ConnectionResetError):
        sock.recv(10)
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", link.port), timeout=5)
