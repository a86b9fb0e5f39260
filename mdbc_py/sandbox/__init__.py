"""``mdbc sandbox``: real MariaDB sites and Cassandra nodes as local processes.

A sandbox is one folder holding the data, logs and state of N MariaDB servers
(sites ``dc1``, ``dc2`` ...) and 0, 1 or 3 Cassandra nodes (``node1`` ...),
plus a ready-to-use ``mdbc.toml`` naming them. Tests, the demo and users
all start their services through it, so what is tested is what users run.

Rules it keeps: ``up`` twice is harmless (running services are left alone);
a failed ``up`` stops what it started and says why in one line; ``down``,
``kill`` and ``start`` touch only processes this sandbox started (by pid,
checked against the command line).

The sites' ``mdbc`` account has least privilege: the privileges of
``deploy/grant-mdbc.sql``, with the application's ones on every database
but ``mysql`` because tests create databases with random names (production
grants them per database; see ``mariadb.account_grants``). What needs
more (accounts, grants, the binary log) is done as the site's root over its
unix socket: ``admin_connection``.

``up(secure=True)`` makes a secure sandbox (it stays secure on every later
``up``): a private CA and certificates under ``DIR/tls``, MariaDB sites that
require TLS, Cassandra nodes with password authentication, authorization
and client TLS, an ``mdbc`` Cassandra role granted only its keyspace, and an
``mdbc.toml`` that uses all of it and holds no secret itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdbc_py.sandbox import cassandra, cassandra_auth, mariadb
from mdbc_py.sandbox.certs import TlsFiles, ensure_certificates
from mdbc_py.sandbox.config_file import write_config
from mdbc_py.sandbox.processes import (
    SandboxError,
    kill,
    pid_matches,
    port_bindable,
    port_open,
    signal_process,
    terminate,
)
from mdbc_py.sandbox.state import SandboxState, ServiceRecord

__all__ = ["DEFAULT_DIR", "Sandbox", "SandboxError", "ServiceStatus"]

DEFAULT_DIR = ".sandbox"
DEFAULT_BASE_PORT = 3310
DEFAULT_FIRST_IP = "127.0.0.1"
ALLOWED_NODE_COUNTS = (0, 1, 3)
LOCK_FILE = ".lock"

Say = Callable[[str], None]


@dataclass(frozen=True)
class ServiceStatus:
    """What ``mdbc sandbox status`` shows of one service."""

    name: str
    kind: str
    address: str
    pid: int | None
    state: str  # up, down (not running), starting (running, not accepting yet)
    startup_seconds: float | None
    home: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "pid": self.pid,
            "state": self.state,
            "startup_seconds": self.startup_seconds,
            "home": self.home,
        }


def _quiet(_: str) -> None:
    pass


def _ip_plus(first_ip: str, offset: int) -> str:
    try:
        parts = [int(p) for p in first_ip.split(".")]
    except ValueError:
        parts = []
    if len(parts) != 4 or parts[0] != 127 or parts[3] + offset > 254:
        raise SandboxError(f"{first_ip!r}: Cassandra nodes need loopback addresses 127.x.y.z")
    parts[3] += offset
    return ".".join(str(p) for p in parts)


class Sandbox:
    """The services of one sandbox folder."""

    def __init__(self, directory: str | Path = DEFAULT_DIR, say: Say = _quiet) -> None:
        self.directory = Path(directory).resolve()
        self.say = say
        self.state = SandboxState.load(self.directory)

    @contextlib.contextmanager
    def _locked(self, create: bool = False) -> Iterator[None]:
        """Hold the sandbox's lock file and work on a fresh copy of its state.

        Several processes may drive one sandbox (a test session, a developer's
        CLI): each operation re-reads the state under an exclusive lock and
        saves it before releasing, so no process overwrites another's pids.
        """
        if not create and not self.directory.is_dir():
            yield
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self.state = SandboxState.load(self.directory)
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @property
    def config_path(self) -> Path:
        """The ``mdbc.toml`` that names this sandbox's sites and store."""
        return self.directory / "mdbc.toml"

    @property
    def password(self) -> str:
        """Password of the ``mdbc`` account on every site of this sandbox."""
        return self.state.password

    @property
    def secure(self) -> bool:
        """True for a sandbox made with ``--secure`` (TLS and authentication everywhere)."""
        return self.state.secure

    @property
    def tls_files(self) -> TlsFiles | None:
        """The certificates of a secure sandbox, or None."""
        return TlsFiles(self.directory / "tls") if self.state.secure else None

    def admin_connection(self, site: str) -> Any:
        """A root connection (unix socket, autocommit) to one running site of this sandbox.

        Creating accounts, granting, reading the binary log or ``mysql.*``
        needs an administrator, not the ``mdbc`` account of ``mdbc.toml``:
        tests that do such things use this, the sandbox's own.
        """
        rec = self._get(site)
        if rec.kind != "mariadb":
            raise SandboxError(f"{site} is a {rec.kind} node, not a MariaDB site")
        return mariadb.admin_connection(rec)

    def cassandra_admin_options(self) -> dict[str, Any]:
        """``Cluster`` keyword arguments of the sandbox's Cassandra superuser.

        Empty for a plain sandbox (anyone may do anything there); for a
        secure one, its TLS context and the ``mdbc_admin`` login: what a
        test that creates keyspaces of its own or reads ``system_auth``
        needs, as ``admin_connection`` is for MariaDB.
        """
        tls = self.tls_files
        if tls is None:
            return {}
        return cassandra_auth.driver_options(
            tls, cassandra_auth.ADMIN_ROLE, self.state.store_admin_password
        )

    def grant_keyspaces(self, names: list[str]) -> None:
        """Give a secure sandbox's ``mdbc`` Cassandra role these keyspaces too.

        The role may not create keyspaces (least privilege); the sandbox's
        admin role creates each one and grants it the permissions it has on
        its own. Tests whose fixtures use keyspaces of their own call this.
        A plain sandbox has no roles: nothing to do.
        """
        tls = self.tls_files
        nodes = self.state.of_kind("cassandra")
        if tls is None or not nodes or not names:
            return
        cassandra_auth.grant_keyspaces(nodes, tls, self.state, names)

    def secrets(self) -> tuple[str, ...]:
        """Every password this sandbox made (to withhold from output, or scan for)."""
        return self.state.secrets()

    # -- planning -------------------------------------------------------

    def _plan(self, sites: int, nodes: int, base_port: int, first_ip: str) -> list[ServiceRecord]:
        """The records the requested shape needs, reusing those already known."""
        if sites < 0 or sites > 9:
            raise SandboxError(f"--sites must be between 0 and 9, not {sites}")
        if nodes not in ALLOWED_NODE_COUNTS:
            raise SandboxError(f"--cassandra-nodes must be 0, 1 or 3, not {nodes}")
        wanted: list[ServiceRecord] = []
        for i in range(1, sites + 1):
            name = f"dc{i}"
            rec = self.state.services.get(name) or ServiceRecord(
                name=name,
                kind="mariadb",
                host="127.0.0.1",
                port=base_port + i,
                home=str(self.directory / name),
                extra={"server_id": i},
            )
            wanted.append(rec)
        for i in range(1, nodes + 1):
            name = f"node{i}"
            if name in self.state.services:
                wanted.append(self.state.services[name])
                continue
            host = _ip_plus(first_ip, i - 1)
            wanted.append(
                ServiceRecord(
                    name=name,
                    kind="cassandra",
                    host=host,
                    port=cassandra.NATIVE_PORT,
                    home=str(self.directory / name),
                    extra={
                        "jmx_port": 7100 + int(host.split(".")[-1]),
                        "index": i - 1,
                        "count": nodes,
                        "seed": _ip_plus(first_ip, 0),
                    },
                )
            )
        return wanted

    def _preflight(self, records: list[ServiceRecord]) -> None:
        """Check binaries and ports before anything starts, so a failure starts nothing."""
        if any(r.kind == "mariadb" for r in records):
            mariadb.find_binary("mariadbd")
            mariadb.find_binary("mariadb-install-db")
        if any(r.kind == "cassandra" for r in records):
            cassandra.check_installed()
        for rec in records:
            if self.is_running(rec):
                continue
            ports = [rec.port]
            if rec.kind == "cassandra":
                ports.append(cassandra.STORAGE_PORT)
            for port in ports:
                if not port_bindable(rec.host, port):
                    raise SandboxError(
                        f"{rec.name}: port {rec.host}:{port} is already in use by another "
                        "process; stop it or pick other ports (--base-port / --cassandra-ip)"
                    )

    # -- lifecycle ------------------------------------------------------

    def up(
        self,
        sites: int = 2,
        cassandra_nodes: int = 1,
        base_port: int = DEFAULT_BASE_PORT,
        first_ip: str = DEFAULT_FIRST_IP,
        heap_mb: int = 512,
        secure: bool = False,
    ) -> list[ServiceRecord]:
        """Start every requested service not already running; write ``mdbc.toml``.

        On any failure, the services started by this call are stopped again
        and a SandboxError says which one failed and why. ``secure`` makes a
        new sandbox secure; an existing plain one is refused (its data was
        written without authentication), a secure one stays secure.
        """
        records = self._plan(sites, cassandra_nodes, base_port, first_ip)
        self._preflight(records)
        with self._locked(create=True):
            self._choose_security(secure)
            return self._up_locked(self._plan(sites, cassandra_nodes, base_port, first_ip), heap_mb)

    def _choose_security(self, secure: bool) -> None:
        if self.state.secure or not secure:
            if self.state.secure and not secure:
                self.say("sandbox was made with --secure: it stays secure")
            return
        if self.state.services:
            raise SandboxError(
                f"sandbox {self.directory} was made without --secure and holds data; "
                "use another --dir for a secure sandbox"
            )
        self.state.secure = True

    def _certificates(self, records: list[ServiceRecord]) -> TlsFiles | None:
        if not self.state.secure:
            return None
        addresses = [r.host for r in records] + [r.host for r in self.state.services.values()]
        return ensure_certificates(self.directory / "tls", addresses)

    def _up_locked(self, records: list[ServiceRecord], heap_mb: int) -> list[ServiceRecord]:
        self._preflight(records)
        tls = self._certificates(records)
        started: list[ServiceRecord] = []
        try:
            for rec in records:
                self.state.services[rec.name] = rec
                if self.is_running(rec):
                    self.say(f"{rec.name}: already running (pid {rec.pid})")
                    continue
                self._start_record(rec, heap_mb)
                started.append(rec)
                self.state.save()
            nodes = [r for r in records if r.kind == "cassandra"]
            if len(nodes) > 1 and any(r in started for r in nodes):
                options = None
                if tls is not None:
                    options = cassandra_auth.superuser_options(nodes, tls, self.state)
                seconds = cassandra.wait_cluster(nodes, options=options)
                self.say(f"cassandra: {len(nodes)} nodes see each other after {seconds:.1f} s")
            if nodes and tls is not None:
                cassandra_auth.setup_roles(nodes, tls, self.state)
                self.say(f"cassandra: roles {cassandra_auth.MDBC_ROLE!r} (keyspace only) ready")
        except BaseException:
            for rec in reversed(started):
                self._stop_record(rec, graceful=False)
            self.state.save()
            raise
        self.state.save()
        write_config(self.config_path, self.state)
        self.say(f"config: {self.config_path}")
        return records

    def _start_record(self, rec: ServiceRecord, heap_mb: int) -> None:
        self.say(f"{rec.name}: starting {rec.kind} on {rec.host}:{rec.port} ...")
        try:
            tls = self.tls_files  # made by up() before any service starts
            if rec.kind == "mariadb":
                seconds = mariadb.start(rec, self.state.password, tls)
            else:
                cassandra.write_config(
                    rec, rec.extra["seed"], rec.extra["index"], rec.extra["count"], tls
                )
                seconds = cassandra.start(rec, heap_mb)
        except SandboxError as exc:
            tail = (mariadb if rec.kind == "mariadb" else cassandra).log_tail(rec)
            self._stop_record(rec, graceful=False)
            raise SandboxError(f"{exc}; log: {tail}") from None
        rec.startup_seconds = round(seconds, 2)
        rec.started_at = time.time()
        self.say(f"{rec.name}: up in {seconds:.1f} s (pid {rec.pid})")

    def _stop_record(self, rec: ServiceRecord, graceful: bool = True) -> None:
        if rec.pid:
            if graceful:
                terminate(rec.pid, rec.marker)
            else:
                kill(rec.pid, rec.marker)
        rec.pid = None

    def down(self, names: list[str] | None = None) -> list[str]:
        """Stop the services (all, or the named ones) gracefully; keep their data."""
        with self._locked():
            return self._down_locked(names)

    def _down_locked(self, names: list[str] | None) -> list[str]:
        running = [rec for rec in self._select(names) if self.is_running(rec)]
        for rec in running:  # signal all first: they shut down in parallel
            self.say(f"{rec.name}: stopping (pid {rec.pid})")
            signal_process(rec.pid or 0, rec.marker, signal.SIGTERM)
        for rec in running:
            self._stop_record(rec)
        for rec in self._select(names):
            rec.pid = None
        stopped = [rec.name for rec in running]
        self.state.save()
        return stopped

    def kill(self, name: str) -> None:
        """kill -9 one service: the crash a failure test wants."""
        with self._locked():
            self._kill_locked(name)

    def _kill_locked(self, name: str) -> None:
        rec = self._get(name)
        if not self.is_running(rec):
            raise SandboxError(f"{name} is not running")
        kill(rec.pid or 0, rec.marker)
        self.say(f"{name}: killed (SIGKILL)")
        rec.pid = None
        self.state.save()

    def pause(self, name: str, paused: bool = True) -> None:
        """SIGSTOP (or SIGCONT) one service: a hung, not dead, server."""
        self.state = SandboxState.load(self.directory)
        rec = self._get(name)
        sig = signal.SIGSTOP if paused else signal.SIGCONT
        if not signal_process(rec.pid or 0, rec.marker, sig):
            raise SandboxError(f"{name} is not running")

    def start(self, name: str, heap_mb: int = 512) -> float:
        """Start one stopped or killed service again, with its data; return start-up seconds."""
        with self._locked():
            return self._start_locked(name, heap_mb)

    def _start_locked(self, name: str, heap_mb: int) -> float:
        rec = self._get(name)
        if self.is_running(rec):
            self.say(f"{name}: already running (pid {rec.pid})")
            return 0.0
        self._preflight([rec])
        self._start_record(rec, heap_mb)
        self.state.save()
        return rec.startup_seconds or 0.0

    # -- inspection -----------------------------------------------------

    def _get(self, name: str) -> ServiceRecord:
        try:
            return self.state.services[name]
        except KeyError:
            known = ", ".join(sorted(self.state.services)) or "none"
            raise SandboxError(
                f"no service {name!r} in sandbox {self.directory} (known: {known})"
            ) from None

    def _select(self, names: list[str] | None) -> list[ServiceRecord]:
        if not names:
            return list(self.state.services.values())
        return [self._get(n) for n in names]

    def is_running(self, rec: ServiceRecord) -> bool:
        """True if the recorded pid is alive and still the process we started."""
        return pid_matches(rec.pid, rec.marker)

    def status(self) -> list[ServiceStatus]:
        """One line per service: running and accepting connections, or not."""
        self.state = SandboxState.load(self.directory)
        rows = []
        for rec in self.state.of_kind("mariadb") + self.state.of_kind("cassandra"):
            running = self.is_running(rec)
            if not running:
                state = "down"
            elif port_open(rec.host, rec.port):
                state = "up"
            else:
                state = "starting"
            rows.append(
                ServiceStatus(
                    name=rec.name,
                    kind=rec.kind,
                    address=f"{rec.host}:{rec.port}",
                    pid=rec.pid if running else None,
                    state=state,
                    startup_seconds=rec.startup_seconds,
                    home=rec.home,
                )
            )
        return rows
