"""The connection phase: the server's greeting and the client's login, relayed.

Authentication stays MariaDB's own: the proxy never sees a password in
clear, it relays the scrambled exchange (including auth-switch requests and
plugin round trips) between the client and its own backend session. It
changes two things on the way:

- in the greeting, the capabilities the proxy cannot relay yet are masked
  out, so a client never asks for them: compression (zlib and zstd),
  ``LOCAL INFILE``, ``CLIENT_DEPRECATE_EOF`` (the proxy's own statements
  read classic EOF-terminated results), optional metadata and query
  attributes (MySQL 8 only), and every MariaDB extended capability (bulk
  execute, extended type info, metadata cache, progress reports). SSL is
  masked too, unless the proxy's listener has a certificate
  (``offer_tls``): then the client may send an SSL request
  (:func:`asks_for_tls`) and its login follows over TLS;
- in the client's login packet the same flags are cleared again (a client
  that ignores the greeting still gets none of them) and
  ``CLIENT_MULTI_STATEMENTS`` / ``CLIENT_MULTI_RESULTS`` are set, because
  the commit path sends its own statements in one round trip, as the
  driver does. Whether the client itself asked for multi-statements is
  remembered: the session refuses stacked text the client did not ask for.

TLS toward MariaDB is the proxy's own business, whatever the client did:
with ``[sites.NAME.tls]`` the backend gets an SSL request
(:func:`ssl_request`, the login's first 32 bytes with ``CLIENT_SSL``),
then the TLS handshake (:mod:`.backend`), then the login
(:meth:`Login.over_tls`), one sequence id later than the client sent it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace

from mdbc_py.proxy import wire

MASKED = (
    wire.CLIENT_SSL
    | wire.CLIENT_COMPRESS
    | wire.CLIENT_LOCAL_FILES
    | wire.CLIENT_DEPRECATE_EOF
    | wire.CLIENT_OPTIONAL_METADATA
    | wire.CLIENT_ZSTD_COMPRESSION
    | wire.CLIENT_QUERY_ATTRIBUTES
    | wire.CLIENT_SSL_VERIFY_SERVER_CERT
)
"""Capabilities hidden from the client and cleared in its login (see the module docstring)."""

ADDED = wire.CLIENT_MULTI_STATEMENTS | wire.CLIENT_MULTI_RESULTS
"""Capabilities the backend session always gets (the commit path batches its statements)."""

UTF8MB4_COLLATIONS = frozenset({45, 46, 224, *range(225, 248), 255})
"""Collation ids of utf8mb4 in the handshake (``utf8mb4_general_ci`` is 45)."""


class HandshakeError(Exception):
    """The connection phase failed; ``reason`` says why (the client has been told, if it can).

    ``errno`` and ``sqlstate`` are those of the ERR packet the client gets
    (1043 / 08S01, "bad handshake", unless the refusal has a code of its own).
    """

    def __init__(self, reason: str, errno: int = 1043, sqlstate: str = "08S01") -> None:
        super().__init__(reason)
        self.reason = reason
        self.errno = errno
        self.sqlstate = sqlstate


@dataclass(frozen=True)
class Greeting:
    """The parts of the server's greeting the proxy needs."""

    server_version: str
    thread_id: int
    capabilities: int
    collation: int
    status: int
    packet: wire.Packet
    """The greeting as the client gets it (capabilities masked)."""
    salt: bytes = b""
    """The authentication salt (scramble), 20 bytes for MariaDB."""
    plugin: str = ""
    """The server's default authentication plugin."""


def parse_greeting(packet: wire.Packet, offer_tls: bool = False) -> Greeting:
    """Read the server's greeting (protocol 10) and mask it for the client.

    ``offer_tls``: the proxy's listener takes TLS, so the client's copy
    says ``CLIENT_SSL`` whether the server's did or not. ``capabilities``
    stays the server's own.
    """
    data = bytearray(packet.payload)
    if not data or data[0] != 10:
        if data[:1] == b"\xff":
            _, _, message = wire.parse_err(bytes(data))
            raise HandshakeError(f"the database refused the connection: {message}")
        raise HandshakeError(f"unexpected greeting from the database (protocol {data[:1].hex()})")
    end = data.index(0, 1)
    version = data[1:end].decode("latin1")
    pos = end + 1
    thread_id = struct.unpack_from("<I", data, pos)[0]
    pos += 4 + 8 + 1
    cap_low_at = pos
    caps = struct.unpack_from("<H", data, pos)[0]
    pos += 2
    offered = wire.CLIENT_SSL if offer_tls else 0
    collation = status = 0
    if len(data) > pos:
        collation = data[pos]
        status = struct.unpack_from("<H", data, pos + 1)[0]
        caps |= struct.unpack_from("<H", data, pos + 3)[0] << 16
        masked = caps & ~MASKED | offered
        struct.pack_into("<H", data, cap_low_at, masked & 0xFFFF)
        struct.pack_into("<H", data, pos + 3, masked >> 16)
        # reserved(6) + MariaDB extended capabilities(4) follow the auth data length byte
        ext_at = pos + 6 + 6
        if not caps & wire.CLIENT_LONG_PASSWORD and len(data) >= ext_at + 4:
            data[ext_at : ext_at + 4] = b"\x00\x00\x00\x00"
    else:
        struct.pack_into("<H", data, cap_low_at, (caps & ~MASKED | offered) & 0xFFFF)
    salt, plugin = _auth_data(bytes(packet.payload), end + 5, pos)
    return Greeting(
        version,
        thread_id,
        caps,
        collation,
        status,
        wire.Packet(packet.seq, bytes(data)),
        salt,
        plugin,
    )


def _auth_data(data: bytes, salt1_at: int, pos: int) -> tuple[bytes, str]:
    """The salt and plugin name of a greeting (``pos``: where the collation byte is)."""
    salt = data[salt1_at : salt1_at + 8]
    if len(data) <= pos + 16:
        return salt, ""
    auth_len = data[pos + 5]
    salt2_at = pos + 16
    salt2_len = max(13, auth_len - 8)
    salt += data[salt2_at : salt2_at + salt2_len].rstrip(b"\x00")
    name_at = salt2_at + salt2_len
    name = data[name_at:].split(b"\x00", 1)[0]
    return salt, name.decode("ascii", "replace")


def auth_switch(greeting: Greeting, seq: int) -> wire.Packet:
    """An auth-switch request asking the client to answer ``greeting``'s salt (mode route)."""
    plugin = greeting.plugin or "mysql_native_password"
    return wire.Packet(seq, b"\xfe" + plugin.encode("ascii") + b"\x00" + greeting.salt + b"\x00")


@dataclass(frozen=True)
class Login:
    """The client's login packet as the backend gets it, and what it said."""

    packet: wire.Packet
    client_flags: int
    """The capabilities the client asked for (before the proxy's changes)."""
    backend_flags: int
    """The capabilities the backend session has."""
    collation: int
    user: str
    database: str | None
    auth_at: int = 0
    """Where the authentication answer starts in the packet (its length prefix)."""
    after_auth: int = 0
    """Where the field after the authentication answer starts."""

    def over_tls(self) -> Login:
        """The same login with ``CLIENT_SSL``, as it goes to a backend after its TLS handshake."""
        flags = self.backend_flags | wire.CLIENT_SSL
        payload = struct.pack("<I", flags) + self.packet.payload[4:]
        return replace(self, packet=wire.Packet(self.packet.seq, payload), backend_flags=flags)

    def with_auth(self, answer: bytes, plugin: str) -> Login:
        """The same login with another authentication answer for ``plugin`` (mode route)."""
        data = self.packet.payload
        if self.client_flags & wire.CLIENT_PLUGIN_AUTH_LENENC:
            field = wire.lenenc(len(answer)) + answer
        elif self.client_flags & wire.CLIENT_SECURE_CONNECTION:
            if len(answer) > 255:
                raise HandshakeError("authentication answer too long for this client's login")
            field = bytes([len(answer)]) + answer
        else:
            field = answer + b"\x00"
        rest = data[self.after_auth :]
        tail = b""
        if self.client_flags & wire.CLIENT_CONNECT_WITH_DB:
            db, rest = rest.split(b"\x00", 1) if b"\x00" in rest else (rest, b"")
            tail += db + b"\x00"
        if self.client_flags & wire.CLIENT_PLUGIN_AUTH:
            _, rest = rest.split(b"\x00", 1) if b"\x00" in rest else (rest, b"")
            tail += plugin.encode("ascii") + b"\x00"
        payload = data[: self.auth_at] + field + tail + rest
        return Login(
            wire.Packet(self.packet.seq, payload),
            self.client_flags,
            self.backend_flags,
            self.collation,
            self.user,
            self.database,
            self.auth_at,
            self.auth_at + len(field),
        )


def _cstring(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(0, pos)
    return data[pos:end], end + 1


NO_LISTENER_TLS = (
    "the client asked for TLS, which this mdbc proxy does not offer (it was started without "
    "--tls-cert/--tls-key): connect without TLS, or start the proxy with a certificate"
)


def asks_for_tls(packet: wire.Packet) -> bool:
    """True if the client's first packet is an SSL request (or a login claiming ``CLIENT_SSL``)."""
    return len(packet.payload) >= 4 and bool(packet.payload[1] & (wire.CLIENT_SSL >> 8))


def ssl_request(login: Login) -> bytes:
    """The SSL request for a backend: the login's fixed 32 bytes, with ``CLIENT_SSL``.

    Capabilities, maximum packet size and collation are the ones the login
    itself then carries (:meth:`Login.over_tls`), as a client's would be.
    """
    return login.over_tls().packet.payload[:32]


def parse_login(packet: wire.Packet, encrypted: bool = False) -> Login:
    """Read the client's HandshakeResponse41 and adjust its capabilities (module docstring).

    ``encrypted``: the login came over the listener's TLS (after an SSL
    request); a login that claims TLS without it is refused.
    """
    data = bytearray(packet.payload)
    if len(data) < 32:
        raise HandshakeError("login packet too short")
    flags = struct.unpack_from("<I", data, 0)[0]
    if not flags & wire.CLIENT_PROTOCOL_41:
        raise HandshakeError("the client speaks a protocol older than 4.1; mdbc proxy needs 4.1")
    if flags & wire.CLIENT_SSL and not encrypted:
        raise HandshakeError(NO_LISTENER_TLS)
    backend_flags = (flags & ~MASKED) | ADDED
    struct.pack_into("<I", data, 0, backend_flags)
    if not flags & wire.CLIENT_LONG_PASSWORD:
        data[28:32] = b"\x00\x00\x00\x00"  # MariaDB extended capabilities: none
    collation = data[8]
    user = b""
    database: bytes | None = None
    auth_at = after_auth = 0
    try:
        user, pos = _cstring(bytes(data), 32)
        auth_at = pos
        if flags & wire.CLIENT_PLUGIN_AUTH_LENENC:
            length, pos = wire.read_lenenc(bytes(data), pos)
            pos += length
        elif flags & wire.CLIENT_SECURE_CONNECTION:
            pos += 1 + data[pos]
        else:
            _, pos = _cstring(bytes(data), pos)
        after_auth = pos
        if flags & wire.CLIENT_CONNECT_WITH_DB and pos < len(data):
            database, pos = _cstring(bytes(data), pos)
    except (ValueError, IndexError):
        raise HandshakeError("malformed login packet") from None
    return Login(
        packet=wire.Packet(packet.seq, bytes(data)),
        client_flags=flags,
        backend_flags=backend_flags,
        collation=collation,
        user=user.decode("utf-8", "replace"),
        database=database.decode("utf-8", "replace") if database else None,
        auth_at=auth_at,
        after_auth=after_auth,
    )


def relay_auth(
    client: wire.PacketStream,
    backend: wire.PacketStream,
    offset: int = 0,
    explain: Callable[[wire.Packet], wire.Packet] | None = None,
) -> wire.Packet:
    """Relay the authentication exchange until the server's OK or ERR (returned, relayed).

    After the login packet each server packet that is neither OK nor ERR
    (auth switch request ``0xFE``, plugin data ``0x01``) is relayed and
    answered by one client packet, except the "fast auth succeeded" notice
    of ``caching_sha2_password`` (``0x01 0x03``), which needs no answer.
    ``offset`` is how far the client's sequence ids run ahead of the
    server's, modulo 256 (2 after the proxy's own auth switch in mode route,
    -1 when only the backend had an SSL request). ``explain`` may amend the
    server's ERR before the client gets it.
    """
    while True:
        reply = backend.read_packet()
        if reply.is_err and explain is not None:
            reply = explain(reply)
        client.send(wire.Packet((reply.seq + offset) % 256, reply.payload))
        if reply.is_ok or reply.is_err:
            return reply
        if reply.payload[:2] == b"\x01\x03":
            continue
        answer = client.read_packet()
        backend.send(wire.Packet((answer.seq - offset) % 256, answer.payload))
