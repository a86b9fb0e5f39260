"""The proxy's protocol pieces without a server: framing, the masked handshake, ERR codes."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from mdbc_py import errors
from mdbc_py.capture import NoPrimaryKeyError
from mdbc_py.proxy import errors as perr
from mdbc_py.proxy import handshake, wire


@pytest.mark.parametrize(
    "size", [0, 1, 300, wire.MAX_CHUNK - 1, wire.MAX_CHUNK, wire.MAX_CHUNK + 7]
)
def test_packets_of_every_size_cross_a_socket_unchanged(size: int) -> None:
    payload = (bytes(range(251)) * (size // 251 + 1))[:size]
    left, right = socket.socketpair()
    try:
        sender = threading.Thread(
            target=lambda: wire.PacketStream(left, "a").send(wire.Packet(3, payload))
        )
        sender.start()
        got = wire.PacketStream(right, "b").read_packet()
        sender.join()
    finally:
        left.close()
        right.close()
    assert got.payload == payload and got.seq == 3
    chunks = size // wire.MAX_CHUNK + 1  # a multiple of the chunk size ends with an empty one
    assert got.next_seq == 3 + chunks
    assert len(wire.frame(3, payload)) == size + 4 * chunks


def test_a_closed_peer_is_a_clear_error() -> None:
    left, right = socket.socketpair()
    left.sendall(b"\x05\x00\x00")  # half a header, then gone
    left.close()
    with pytest.raises(wire.ConnectionClosed, match="client connection closed"):
        wire.PacketStream(right, "client").read_packet()
    right.close()


def greeting(caps: int, ext: int) -> wire.Packet:
    """A MariaDB 10.11 greeting with the given capabilities."""
    body = (
        b"\x0a5.5.5-10.11.6-MariaDB\x00"
        + struct.pack("<I", 42)
        + b"12345678\x00"
        + struct.pack("<H", caps & 0xFFFF)
        + bytes([45])
        + struct.pack("<H", 2)
        + struct.pack("<H", caps >> 16)
        + bytes([21])
        + b"\x00" * 6
        + struct.pack("<I", ext)
        + b"abcdefghijkl\x00mysql_native_password\x00"
    )
    return wire.Packet(0, body)


def test_greeting_hides_what_the_proxy_cannot_relay() -> None:
    caps = 0xFFFE | (0xBFFF << 16)  # everything, MariaDB style (CLIENT_MYSQL bit clear)
    parsed = handshake.parse_greeting(greeting(caps, ext=0x1F))
    assert parsed.thread_id == 42 and parsed.collation == 45 and parsed.status == 2
    data = parsed.packet.payload
    end = data.index(0, 1)
    low = struct.unpack_from("<H", data, end + 1 + 4 + 9)[0]
    high = struct.unpack_from("<H", data, end + 1 + 4 + 9 + 5)[0]
    shown = low | high << 16
    for flag in (wire.CLIENT_SSL, wire.CLIENT_COMPRESS, wire.CLIENT_LOCAL_FILES,
                 wire.CLIENT_DEPRECATE_EOF, wire.CLIENT_ZSTD_COMPRESSION):  # fmt: skip
        assert caps & flag and not shown & flag
    assert shown & wire.CLIENT_PROTOCOL_41 and shown & wire.CLIENT_SESSION_TRACK
    ext_at = end + 1 + 4 + 9 + 2 + 1 + 2 + 2 + 1 + 6
    assert data[ext_at : ext_at + 4] == b"\x00\x00\x00\x00", "MariaDB extended capabilities"
    assert data.endswith(b"mysql_native_password\x00")


def login(flags: int, db: bytes = b"app") -> wire.Packet:
    body = (
        struct.pack("<IIB", flags, 1 << 24, 45)
        + b"\x00" * 19
        + struct.pack("<I", 0x1F)
        + b"user\x00"
        + bytes([20])
        + b"s" * 20
        + db
        + b"\x00mysql_native_password\x00"
    )
    return wire.Packet(1, body)


def test_login_gets_multi_statements_for_the_proxy_and_keeps_the_clients_wish() -> None:
    flags = (
        wire.CLIENT_PROTOCOL_41 | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_CONNECT_WITH_DB
        | wire.CLIENT_PLUGIN_AUTH | wire.CLIENT_LOCAL_FILES | wire.CLIENT_DEPRECATE_EOF
    )  # fmt: skip
    parsed = handshake.parse_login(login(flags))
    assert parsed.user == "user" and parsed.database == "app" and parsed.collation == 45
    assert not parsed.client_flags & wire.CLIENT_MULTI_STATEMENTS
    sent = struct.unpack_from("<I", parsed.packet.payload, 0)[0]
    assert sent == parsed.backend_flags
    assert sent & wire.CLIENT_MULTI_STATEMENTS and sent & wire.CLIENT_MULTI_RESULTS
    assert not sent & (wire.CLIENT_LOCAL_FILES | wire.CLIENT_DEPRECATE_EOF)
    assert parsed.packet.payload[28:32] == b"\x00\x00\x00\x00"


def test_tls_and_old_protocol_logins_are_refused_with_the_reason() -> None:
    with pytest.raises(handshake.HandshakeError, match="TLS"):
        handshake.parse_login(login(wire.CLIENT_PROTOCOL_41 | wire.CLIENT_SSL))
    with pytest.raises(handshake.HandshakeError, match=r"4\.1"):
        handshake.parse_login(login(wire.CLIENT_SECURE_CONNECTION))


@pytest.mark.parametrize(
    ("exc", "errno", "sqlstate", "close"),
    [
        (errors.NotOwnerError("x"), 1290, "HY000", False),
        (errors.FailoverError("x"), 1184, "08S01", True),
        (errors.FencedError("x"), 1184, "08S01", True),
        (errors.CommitOutcomeUnknownError("x"), 1180, "08007", True),
        (errors.StoreUnavailableError("x"), 1213, "40001", False),
        (errors.CrossRangeError("x"), 1235, "42000", False),
        (errors.NotCapturedError("x"), 1173, "42000", False),
        (NoPrimaryKeyError(["db.t"], "x"), 1173, "42000", False),
        (errors.EntryTooLargeError("x"), 1197, "HY000", False),
        (errors.LogDivergedError("x"), 1105, "HY000", False),
        (perr.refused("x", perr.ER_UNSUPPORTED_PS, "HY000"), 1295, "HY000", False),
    ],
)
def test_error_codes_are_the_documented_ones(
    exc: BaseException, errno: int, sqlstate: str, close: bool
) -> None:
    answer = perr.to_client(exc)
    assert (answer.errno, answer.sqlstate, answer.close) == (errno, sqlstate, close)
    assert f"{errno}" in (perr.__doc__ or "") and sqlstate in (perr.__doc__ or "")


def test_err_and_ok_packets_read_back() -> None:
    err = wire.err_packet(1, 1290, "HY000", "range 'r' is owned by 'dc2'")
    assert wire.parse_err(err.payload) == (1290, "HY000", "range 'r' is owned by 'dc2'")
    ok = wire.ok_packet(1, wire.SERVER_STATUS_AUTOCOMMIT | wire.SERVER_STATUS_IN_TRANS, 3)
    assert wire.status_of(ok) == 3 and wire.parse_ok(ok.payload).affected_rows == 3
    cleared = wire.with_status(ok, wire.SERVER_STATUS_IN_TRANS)
    assert wire.status_of(cleared) == wire.SERVER_STATUS_AUTOCOMMIT


def test_route_login_switch_asks_for_the_new_salt_and_keeps_the_rest_of_the_login() -> None:
    """Mode route: the auth-switch request and the login rebuilt around the client's answer."""
    parsed = handshake.parse_greeting(greeting(0xFFFE | (0xBFFF << 16), ext=0))
    assert parsed.salt == b"12345678abcdefghijkl" and parsed.plugin == "mysql_native_password"
    switch = handshake.auth_switch(parsed, 2)
    assert switch.seq == 2
    assert switch.payload == b"\xfemysql_native_password\x00" + b"12345678abcdefghijkl\x00"

    flags = (
        wire.CLIENT_PROTOCOL_41 | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_CONNECT_WITH_DB
        | wire.CLIENT_PLUGIN_AUTH
    )  # fmt: skip
    first = handshake.parse_login(login(flags))
    moved = first.with_auth(b"n" * 20, "mysql_native_password")
    again = handshake.parse_login(moved.packet)
    assert (again.user, again.database) == ("user", "app")
    data = moved.packet.payload
    assert data[: first.auth_at] == first.packet.payload[: first.auth_at]
    assert data[first.auth_at :] == bytes([20]) + b"n" * 20 + b"app\x00mysql_native_password\x00"
    lenenc = handshake.parse_login(login(flags | wire.CLIENT_PLUGIN_AUTH_LENENC))
    long_answer = lenenc.with_auth(b"k" * 300, "client_ed25519").packet.payload
    assert long_answer[lenenc.auth_at :] == (
        b"\xfc\x2c\x01" + b"k" * 300 + b"app\x00client_ed25519\x00"
    )
