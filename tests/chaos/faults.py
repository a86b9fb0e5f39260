"""A fault-injecting TCP proxy for the failure tests: partitions, latency, loss, resets.

A :class:`Link` listens on ``127.0.0.1:<port>`` and forwards every accepted
connection to one target. The tests point a process at the link instead of
the real service (a site's MariaDB, a Cassandra node) and then change the
link's behaviour while the process runs:

- ``heal()``: pass bytes through unchanged (the start state);
- ``blackhole()``: keep every connection open but deliver nothing in either
  direction: no FIN, no RST, the peer just hears nothing (a partition);
- ``lose(direction)``: the same, in one direction only (``"up"``: client to
  target, ``"down"``: target to client);
- ``delay(seconds)``: add latency to every chunk in both directions;
- ``cut()``: reset (RST) every open connection, and every new one while cut.

Why a blackhole *holds* bytes instead of discarding them: a partition drops
IP packets, not bytes of a stream. TCP retransmits what was lost, so after
the partition heals the peer receives the very bytes that were sent during
it (or gives up on the connection by itself). Discarding bytes here would
corrupt the stream, which no network does; holding them and delivering them
on ``heal()`` is what a dropped-packet partition looks like to both ends.

Threads, not asyncio: the tests are synchronous, and a link must keep
working while the test's own thread sleeps or waits on a subprocess. Each
connection has one reader and one sender thread per direction; readers poll
with a short timeout so that ``cut()`` and ``close()`` finish promptly.
Loopback only: a link never listens on anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["up", "down"]
DIRECTIONS: tuple[Direction, Direction] = ("up", "down")

POLL_SECONDS = 0.05
"""How often a blocked reader or sender looks at the link's state."""

CHUNK_BYTES = 65536


class LinkError(Exception):
    """A link could not be set up; ``target`` is where it was meant to forward."""

    def __init__(self, message: str, target: tuple[str, int]) -> None:
        super().__init__(message)
        self.target = target


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with an RST (SO_LINGER 0), as a cut network path would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@dataclass
class _Stream:
    """One direction of one connection: bytes read from ``src``, waiting to go to ``dst``."""

    src: socket.socket
    dst: socket.socket
    direction: Direction
    queue: deque[tuple[float, bytes]] = field(default_factory=deque)  # (due, data); b"" = EOF
    cond: threading.Condition = field(default_factory=threading.Condition)


class _Connection:
    """A client connection and its upstream connection, pumped by four threads."""

    def __init__(self, link: Link, client: socket.socket, upstream: socket.socket) -> None:
        self.link = link
        self.client = client
        self.upstream = upstream
        self.dead = threading.Event()
        self.streams = {
            "up": _Stream(client, upstream, "up"),
            "down": _Stream(upstream, client, "down"),
        }
        self.threads = [
            threading.Thread(target=fn, args=(s,), daemon=True, name=f"{link.name}-{fn.__name__}")
            for s in self.streams.values()
            for fn in (self._read, self._send)
        ]
        self._finished: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def wake(self) -> None:
        for stream in self.streams.values():
            with stream.cond:
                stream.cond.notify_all()

    def _read(self, stream: _Stream) -> None:
        try:
            while not self.dead.is_set():
                ready, _, _ = select.select([stream.src], [], [], POLL_SECONDS)
                if not ready:
                    continue
                data = stream.src.recv(CHUNK_BYTES)
                due = time.monotonic() + self.link.latency
                with stream.cond:
                    stream.queue.append((due, data))
                    stream.cond.notify_all()
                if not data:
                    return
        except (OSError, ValueError):  # reset by the peer, or closed by a cut
            self.kill()

    def _send(self, stream: _Stream) -> None:
        try:
            while not self.dead.is_set():
                with stream.cond:
                    if not stream.queue or self.link.holds(stream.direction):
                        stream.cond.wait(POLL_SECONDS)
                        continue
                    due, data = stream.queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        stream.cond.wait(min(wait, POLL_SECONDS))
                        continue
                    stream.queue.popleft()
                if not data:  # the source closed its side: pass the FIN on
                    stream.dst.shutdown(socket.SHUT_WR)
                    self._done(stream.direction)
                    return
                self.link.count(stream.direction, len(data))
                stream.dst.sendall(data)
        except (OSError, ValueError):
            self.kill()

    def _done(self, direction: str) -> None:
        with self._lock:
            self._finished.add(direction)
            both = len(self._finished) == 2
        if both:  # both sides closed cleanly: close quietly
            self.dead.set()
            for sock in (self.client, self.upstream):
                with contextlib.suppress(OSError):
                    sock.close()
            self.link.forget(self)

    def kill(self) -> None:
        """Reset both sides (RST), as a broken path does; idempotent."""
        if self.dead.is_set():
            return
        self.dead.set()
        _reset(self.client)
        _reset(self.upstream)
        self.link.forget(self)


class Link:
    """One proxied path ``127.0.0.1:port -> target`` whose behaviour tests switch (see module)."""

    def __init__(self, target: tuple[str, int], name: str = "link", port: int = 0) -> None:
        self.target = target
        self.name = name
        self.latency = 0.0
        self.bytes = {"up": 0, "down": 0}
        self.accepted = 0
        self._held: set[Direction] = set()
        self._cut = False
        self._lock = threading.Lock()
        self._conns: set[_Connection] = set()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind(("127.0.0.1", port))
        except OSError as exc:
            self._listener.close()
            raise LinkError(
                f"link {name}: cannot listen on 127.0.0.1:{port}: {exc.strerror}", target
            ) from None
        self._listener.listen(64)
        self._listener.settimeout(POLL_SECONDS)
        self.port = int(self._listener.getsockname()[1])
        self._acceptor = threading.Thread(target=self._accept, daemon=True, name=f"{name}-accept")
        self._acceptor.start()

    def __repr__(self) -> str:
        return f"Link({self.name}: 127.0.0.1:{self.port} -> {self.target[0]}:{self.target[1]})"

    # -- what tests call -------------------------------------------------------------

    def heal(self) -> None:
        """Pass everything again: held bytes are delivered, latency goes back to zero."""
        self._set(held=set(), cut=False, latency=0.0)

    def blackhole(self) -> None:
        """Deliver nothing either way; connections stay open (no FIN, no RST)."""
        self._set(held={"up", "down"})

    def lose(self, direction: Direction) -> None:
        """Deliver nothing in ``direction`` only (one-way loss)."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
        self._set(held={direction})

    def delay(self, seconds: float) -> None:
        """Add ``seconds`` of latency to every chunk read from now on, both directions."""
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, not {seconds}")
        self._set(latency=seconds)

    def cut(self) -> None:
        """Reset every open connection, and every new one until ``heal()``."""
        self._set(cut=True)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.kill()

    def close(self) -> None:
        """Stop listening and reset every connection."""
        self._stop.set()
        self._acceptor.join(timeout=5)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.kill()

    @property
    def connections(self) -> int:
        """Connections open through the link now."""
        with self._lock:
            return len(self._conns)

    # -- used by the connections ---------------------------------------------------------

    def holds(self, direction: Direction) -> bool:
        return direction in self._held

    def count(self, direction: Direction, n: int) -> None:
        with self._lock:
            self.bytes[direction] += n

    def forget(self, conn: _Connection) -> None:
        with self._lock:
            self._conns.discard(conn)

    def _set(
        self,
        held: set[Direction] | None = None,
        cut: bool | None = None,
        latency: float | None = None,
    ) -> None:
        with self._lock:
            if held is not None:
                self._held = set(held)
            if cut is not None:
                self._cut = cut
            if latency is not None:
                self.latency = latency
            conns = list(self._conns)
        for conn in conns:
            conn.wake()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._cut:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)  # the target is down: the client sees its connection fail
                continue
            upstream.settimeout(None)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.settimeout(None)
            conn = _Connection(self, client, upstream)
            with self._lock:
                self._conns.add(conn)
                self.accepted += 1
            conn.start()


class Faults:
    """The links of one test, closed together (the ``faults`` fixture)."""

    def __init__(self) -> None:
        self.links: dict[str, Link] = {}

    def link(self, name: str, target: tuple[str, int]) -> Link:
        """A new link called ``name`` forwarding to ``target``."""
        if name in self.links:
            raise ValueError(f"link {name!r} exists already")
        self.links[name] = Link(target, name=name)
        return self.links[name]

    def heal_all(self) -> None:
        for link in self.links.values():
            link.heal()

    def close(self) -> None:
        for link in self.links.values():
            link.close()
        self.links.clear()
