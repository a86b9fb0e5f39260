"""MySQL client/server protocol framing: packets, their headers, OK/ERR/EOF.

The proxy relays packets between a client and its backend session, so it
must read exactly the packets of one response and no byte more: a
:class:`PacketStream` keeps its own read buffer over a blocking socket
(so the session can tell "a command is already buffered" from "wait for
the client") and also serves as PyMySQL's ``_rfile`` on the backend side,
so that the proxy's reads and PyMySQL's reads share one buffer.

A logical packet longer than ``0xFFFFFF`` bytes travels as several
physical packets; :meth:`PacketStream.read_packet` joins them and
:func:`frame` splits them again the same way, so a relayed packet is
byte for byte what its sender sent, sequence numbers included.

A stream may change sockets once, when its link turns to TLS
(:meth:`PacketStream.use`): the login's first packet is read with
:meth:`PacketStream.read_packet_exact`, which reads no byte past it, so the
peer's TLS handshake that follows an SSL request stays in the socket for
the TLS layer to read.
"""

from __future__ import annotations

import socket
import ssl
import struct
from dataclasses import dataclass
from typing import NamedTuple

MAX_CHUNK = 0xFFFFFF

# Commands (first byte of a client command packet).
COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_QUERY = 0x03
COM_FIELD_LIST = 0x04
COM_STATISTICS = 0x09
COM_PROCESS_KILL = 0x0C
COM_DEBUG = 0x0D
COM_PING = 0x0E
COM_CHANGE_USER = 0x11
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
COM_STMT_SEND_LONG_DATA = 0x18
COM_STMT_CLOSE = 0x19
COM_STMT_RESET = 0x1A
COM_SET_OPTION = 0x1B
COM_STMT_FETCH = 0x1C
COM_RESET_CONNECTION = 0x1F

# Capability flags.
CLIENT_LONG_PASSWORD = 1 << 0  # named CLIENT_MYSQL by MariaDB: clear for MariaDB clients
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_COMPRESS = 1 << 5
CLIENT_LOCAL_FILES = 1 << 7
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_SSL = 1 << 11
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC = 1 << 21
CLIENT_SESSION_TRACK = 1 << 23
CLIENT_DEPRECATE_EOF = 1 << 24
CLIENT_OPTIONAL_METADATA = 1 << 25
CLIENT_ZSTD_COMPRESSION = 1 << 26
CLIENT_QUERY_ATTRIBUTES = 1 << 27
CLIENT_SSL_VERIFY_SERVER_CERT = 1 << 30

# Server status flags (OK and EOF packets).
SERVER_STATUS_IN_TRANS = 0x0001
SERVER_STATUS_AUTOCOMMIT = 0x0002
SERVER_MORE_RESULTS_EXISTS = 0x0008
SERVER_STATUS_CURSOR_EXISTS = 0x0040
SERVER_SESSION_STATE_CHANGED = 0x4000

OK_HEADER = 0x00
EOF_HEADER = 0xFE
ERR_HEADER = 0xFF
LOCAL_INFILE_HEADER = 0xFB


class ConnectionClosed(Exception):
    """The peer closed the connection (or it broke) while a packet was expected.

    ``peer`` says which side ("client" or "backend"), ``detail`` what happened.
    """

    def __init__(self, peer: str, detail: str) -> None:
        super().__init__(f"{peer} connection closed: {detail}")
        self.peer = peer
        self.detail = detail


class Packet(NamedTuple):
    """One logical packet: the sequence id of its first physical packet, and its payload.

    A named tuple, not a frozen dataclass: the relay makes one per packet it
    forwards, and a tuple is made several times faster.
    """

    seq: int
    payload: bytes

    @property
    def first(self) -> int:
        """The first payload byte (the packet type), or -1 for an empty packet."""
        return self.payload[0] if self.payload else -1

    @property
    def is_err(self) -> bool:
        return self.first == ERR_HEADER

    @property
    def is_eof(self) -> bool:
        """An EOF packet: ``0xFE`` and shorter than 9 bytes (a row may start with 0xFE)."""
        return self.first == EOF_HEADER and len(self.payload) < 9

    @property
    def is_ok(self) -> bool:
        return self.first == OK_HEADER

    @property
    def next_seq(self) -> int:
        """The sequence id that follows this packet (after all its physical parts)."""
        return (self.seq + len(self.payload) // MAX_CHUNK + 1) % 256


def frame(seq: int, payload: bytes) -> bytes:
    """The bytes of a logical packet on the wire, split into physical packets."""
    if len(payload) < MAX_CHUNK:  # one physical packet: the header is one int
        return (len(payload) | (seq % 256) << 24).to_bytes(4, "little") + payload
    parts = []
    offset = 0
    while True:
        chunk = payload[offset : offset + MAX_CHUNK]
        parts.append(struct.pack("<I", len(chunk))[:3] + bytes([seq % 256]) + chunk)
        seq += 1
        offset += MAX_CHUNK
        if len(chunk) < MAX_CHUNK:
            return b"".join(parts)


class PacketStream:
    """Buffered packet reader and writer over one blocking socket.

    ``read(n)`` and ``close()`` make it usable as PyMySQL's ``_rfile``.
    """

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self._buf = bytearray()
        self._pos = 0
        self._out: list[bytes] = []
        self._out_size = 0

    # -- reading ------------------------------------------------------------------

    def buffered(self) -> bool:
        """True if bytes are already buffered (the next read does not wait).

        Over TLS, decrypted bytes the TLS layer holds count too: ``select``
        on the socket cannot see them.
        """
        if self._pos < len(self._buf):
            return True
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def use(self, sock: socket.socket) -> None:
        """Go on over ``sock`` (the same link, now wrapped in TLS).

        Nothing may be buffered: bytes read before the switch were read
        past the last plaintext packet.
        """
        if self._pos < len(self._buf):
            raise ConnectionClosed(self.peer, "bytes arrived before the TLS handshake")
        self.sock = sock

    def fill(self) -> bool:
        """Wait for more bytes (one ``recv``); False at end of stream."""
        return self._fill()

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(262144)
        except OSError as exc:
            raise ConnectionClosed(self.peer, str(exc)) from None
        if not data:
            return False
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data
        return True

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at end of stream (PyMySQL's ``_rfile`` contract)."""
        while len(self._buf) - self._pos < n:
            if not self._fill():
                break
        data = bytes(self._buf[self._pos : self._pos + n])
        self._pos += len(data)
        return data

    def read_packet_exact(self) -> Packet:
        """The next packet, read without buffering a byte past it (one physical packet).

        For the client's first packet: an SSL request is followed at once by
        the TLS handshake, which must stay in the socket. Needs an empty buffer.
        """
        if self._pos < len(self._buf):
            return self.read_packet()
        header = self._recv_exact(4)
        length = header[0] | header[1] << 8 | header[2] << 16
        if length >= MAX_CHUNK:
            raise ConnectionClosed(self.peer, "a login packet of 16 MiB or more")
        return Packet(header[3], self._recv_exact(length))

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            try:
                more = self.sock.recv(n - len(data))
            except OSError as exc:
                raise ConnectionClosed(self.peer, str(exc)) from None
            if not more:
                detail = "end of stream inside a packet" if data else "end of stream"
                raise ConnectionClosed(self.peer, detail)
            data += more
        return data

    def read_exact(self, n: int) -> bytes:
        data = self.read(n)
        if len(data) < n:
            raise ConnectionClosed(self.peer, "end of stream inside a packet")
        return data

    def read_packet(self) -> Packet:
        """The next logical packet (physical parts joined)."""
        if self._pos >= len(self._buf) and not self._fill():
            raise ConnectionClosed(self.peer, "end of stream")
        buf, pos = self._buf, self._pos
        if len(buf) - pos >= 4:  # the usual case: a whole small packet is buffered
            length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            end = pos + 4 + length
            if length < MAX_CHUNK and end <= len(buf):
                self._pos = end
                return Packet(buf[pos + 3], bytes(buf[pos + 4 : end]))
        parts = []
        first_seq = -1
        while True:
            header = self.read(4)
            if not header and first_seq < 0:
                raise ConnectionClosed(self.peer, "end of stream")
            if len(header) < 4:
                raise ConnectionClosed(self.peer, "end of stream inside a packet header")
            length = header[0] | header[1] << 8 | header[2] << 16
            if first_seq < 0:
                first_seq = header[3]
            parts.append(self.read_exact(length))
            if length < MAX_CHUNK:
                return Packet(first_seq, b"".join(parts))

    def close(self) -> None:
        """Release the buffer (the socket is closed by its owner)."""
        self._buf = bytearray()
        self._pos = 0

    # -- writing ------------------------------------------------------------------

    def queue(self, packet: Packet) -> None:
        """Queue a packet; it is sent at the next :meth:`flush` (or when 64 KiB pile up)."""
        data = frame(packet.seq, packet.payload)
        self._out.append(data)
        self._out_size += len(data)
        if self._out_size >= 65536:
            self.flush()

    def send(self, packet: Packet) -> None:
        """Queue a packet and flush."""
        self.queue(packet)
        self.flush()

    def flush(self) -> None:
        if not self._out:
            return
        data = b"".join(self._out)
        self._out.clear()
        self._out_size = 0
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ConnectionClosed(self.peer, str(exc)) from None


def shutdown(sock: socket.socket, how: int) -> None:
    """Shut ``sock`` down so that another thread's blocked read ends, TLS or not.

    ``SSLSocket.shutdown`` also drops the socket's TLS state under the
    thread that reads it; the plain socket call only ends the read.
    """
    socket.socket.shutdown(sock, how)


# -- values -------------------------------------------------------------------------


def read_lenenc(data: bytes, pos: int) -> tuple[int, int]:
    """A length-encoded integer at ``pos``: (value, position after it)."""
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFC:
        return int.from_bytes(data[pos + 1 : pos + 3], "little"), pos + 3
    if first == 0xFD:
        return int.from_bytes(data[pos + 1 : pos + 4], "little"), pos + 4
    if first == 0xFE:
        return int.from_bytes(data[pos + 1 : pos + 9], "little"), pos + 9
    raise ValueError(f"not a length-encoded integer: 0x{first:02x}")


def lenenc(value: int) -> bytes:
    if value < 0xFB:
        return bytes([value])
    if value < 1 << 16:
        return b"\xfc" + value.to_bytes(2, "little")
    if value < 1 << 24:
        return b"\xfd" + value.to_bytes(3, "little")
    return b"\xfe" + value.to_bytes(8, "little")


@dataclass(frozen=True)
class OkInfo:
    """What an OK packet says: affected rows, insert id, status flags, warnings."""

    affected_rows: int
    insert_id: int
    status: int
    warnings: int
    status_offset: int


def parse_ok(payload: bytes) -> OkInfo:
    """Parse an OK packet (``0x00`` header, or ``0xFE`` when it ends a result)."""
    affected, pos = read_lenenc(payload, 1)
    insert_id, pos = read_lenenc(payload, pos)
    status, warnings = struct.unpack_from("<HH", payload, pos)
    return OkInfo(affected, insert_id, status, warnings, pos)


def status_of(packet: Packet) -> int | None:
    """The server status flags an OK or EOF packet carries; None for other packets."""
    if packet.is_eof:
        return (
            int(struct.unpack_from("<H", packet.payload, 3)[0]) if len(packet.payload) >= 5 else 0
        )
    if packet.is_ok and len(packet.payload) >= 7:
        payload = packet.payload
        if payload[1] < 0xFB and payload[2] < 0xFB:  # both counts in one byte: status at 3
            return int(payload[3] | payload[4] << 8)
        return parse_ok(payload).status
    return None


def with_status(packet: Packet, clear: int) -> Packet:
    """The same OK/EOF packet with the status flags ``clear`` cleared."""
    payload = bytearray(packet.payload)
    if packet.is_eof:
        offset = 3
    elif packet.is_ok:
        offset = parse_ok(packet.payload).status_offset
    else:
        return packet
    status = struct.unpack_from("<H", payload, offset)[0] & ~clear
    struct.pack_into("<H", payload, offset, status)
    return Packet(packet.seq, bytes(payload))


def err_packet(seq: int, errno: int, sqlstate: str, message: str) -> Packet:
    """An ERR packet (protocol 4.1: with the ``#`` SQLSTATE marker)."""
    text = message.encode("utf-8", "replace")[:8000]
    payload = b"\xff" + struct.pack("<H", errno) + b"#" + sqlstate.encode("ascii")[:5] + text
    return Packet(seq, payload)


def err_packet_pre41(seq: int, errno: int, message: str) -> Packet:
    """An ERR packet sent before the capabilities are known (no SQLSTATE), as MariaDB does."""
    return Packet(seq, b"\xff" + struct.pack("<H", errno) + message.encode("utf-8", "replace"))


def ok_packet(seq: int, status: int, affected_rows: int = 0) -> Packet:
    return Packet(seq, b"\x00" + lenenc(affected_rows) + b"\x00" + struct.pack("<HH", status, 0))


def eof_packet(seq: int, status: int) -> Packet:
    return Packet(seq, b"\xfe" + struct.pack("<HH", 0, status))


def parse_err(payload: bytes) -> tuple[int, str, str]:
    """(errno, sqlstate, message) of an ERR packet."""
    errno = struct.unpack_from("<H", payload, 1)[0]
    if payload[3:4] == b"#":
        return (
            errno,
            payload[4:9].decode("ascii", "replace"),
            payload[9:].decode("utf-8", "replace"),
        )
    return errno, "HY000", payload[3:].decode("utf-8", "replace")
