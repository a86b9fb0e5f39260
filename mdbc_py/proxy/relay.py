"""Relaying one command's response from the backend to the client.

Each reader knows the shape of one kind of response (a text or binary
result set, a prepared-statement OK, a field list ...), so it reads exactly
that response and no more. Packets reach the client renumbered from the
sequence id the client expects, so the proxy can leave out or add packets
(a refused command, the terminal packet replaced by an ERR) and the client
still sees a well-formed exchange.

``query(hold=True)`` relays every packet of a (possibly multi-result)
response except the very last, terminal one, and returns it: the session
runs the commit core before the client learns the statement finished, and
may send an ERR in place of that packet.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdbc_py.proxy import wire


@dataclass
class Relay:
    """The two streams of one session and the client's next sequence id."""

    client: wire.PacketStream
    backend: wire.PacketStream
    cseq: int = 0
    status: int = 0
    """Status flags of the last OK/EOF the server sent (in the relayed traffic)."""

    def start(self, command: wire.Packet) -> None:
        """A client command arrived: its answer starts at the following sequence id."""
        self.cseq = command.next_seq

    def reply(self, packet: wire.Packet) -> None:
        """Queue ``packet`` for the client, renumbered."""
        out = packet if packet.seq == self.cseq else wire.Packet(self.cseq, packet.payload)
        self.client.queue(out)
        self.cseq = out.next_seq

    def answer(self, packet: wire.Packet) -> None:
        """Queue the last packet of a response and send everything queued."""
        self.reply(packet)
        self.client.flush()

    def forward(self, command: wire.Packet) -> None:
        """Send a client command to the backend as it came."""
        self.backend.send(wire.Packet(0, command.payload))

    def note(self, packet: wire.Packet) -> None:
        """Take the status flags of an OK/EOF packet as the session's."""
        status = wire.status_of(packet)
        if status is not None:
            self.status = status

    # -- response readers ---------------------------------------------------------

    def query(self, hold: bool = False) -> wire.Packet:
        """Relay a COM_QUERY / COM_STMT_EXECUTE response; return its terminal packet.

        With ``hold`` the terminal packet is not sent (the caller answers).
        """
        while True:
            terminal = self._one_result()
            self.note(terminal)
            status = wire.status_of(terminal)
            if status is not None and status & wire.SERVER_MORE_RESULTS_EXISTS:
                self.reply(terminal)
                continue
            if not hold:
                self.answer(terminal)
            return terminal

    def _one_result(self) -> wire.Packet:
        first = self.backend.read_packet()
        if first.first == wire.LOCAL_INFILE_HEADER:
            # Never asked for (LOCAL_FILES is masked); answer "no file" and read the verdict.
            self.backend.send(wire.Packet(first.next_seq, b""))
            return self.backend.read_packet()
        if first.is_ok or first.is_err:
            return first
        columns, _ = wire.read_lenenc(first.payload, 0)
        self.reply(first)
        for _ in range(columns):
            self.reply(self.backend.read_packet())
        eof = self.backend.read_packet()
        status = wire.status_of(eof)
        if eof.is_err or (status is not None and status & wire.SERVER_STATUS_CURSOR_EXISTS):
            return eof
        self.reply(eof)
        while True:
            row = self.backend.read_packet()
            if row.is_eof or row.is_err:
                return row
            self.reply(row)

    def simple(self) -> wire.Packet:
        """Relay a one-packet response (OK, ERR, EOF or a statistics string)."""
        packet = self.backend.read_packet()
        self.note(packet)
        self.answer(packet)
        return packet

    def until_eof(self) -> wire.Packet:
        """Relay packets up to an EOF or ERR (COM_FIELD_LIST, COM_STMT_FETCH)."""
        while True:
            packet = self.backend.read_packet()
            if packet.is_eof or packet.is_err:
                self.note(packet)
                self.answer(packet)
                return packet
            self.reply(packet)

    def prepare(self) -> wire.Packet:
        """Relay a COM_STMT_PREPARE response; return its first packet (OK or ERR)."""
        first = self.backend.read_packet()
        if first.is_err or len(first.payload) < 9:
            self.answer(first)
            return first
        columns = int.from_bytes(first.payload[5:7], "little")
        params = int.from_bytes(first.payload[7:9], "little")
        self.reply(first)
        for count in (params, columns):
            if count:
                for _ in range(count + 1):  # definitions, then EOF
                    self.reply(self.backend.read_packet())
        self.client.flush()
        return first

    def auth(self) -> wire.Packet:
        """Relay a re-authentication (COM_CHANGE_USER) until the server's OK or ERR."""
        while True:
            packet = self.backend.read_packet()
            self.answer(packet)
            if packet.is_ok or packet.is_err:
                self.note(packet)
                return packet
            if packet.payload[:2] == b"\x01\x03":
                continue
            self.backend.send(self.client.read_packet())
