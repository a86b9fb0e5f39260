"""Run a MariaDB server (one sandbox site) as a plain process on loopback.

Each site gets its own datadir, port (33xx), socket and server id, with the
settings SO needs (utf8mb4, large packets for 16 MiB LONGBLOBs, binary log
in ROW format so MariaDB's own replication can be benchmarked beside ours).
The sandbox creates one account, ``mdbc``, with a generated password, reachable
over TCP from 127.0.0.1, with least privilege (see ``account_grants``); root
stays on the unix socket only and is the sandbox's admin access
(``admin_connection``) for what the ``mdbc`` account must not do. A ``--secure``
sandbox's sites have the sandbox CA's server certificate and
``require_secure_transport=ON``: a plaintext TCP login is refused (the unix
socket, used by root for set-up, counts as secure).
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
from pathlib import Path

import pymysql

from mdbc_py.admin import grants
from mdbc_py.sandbox.certs import TlsFiles
from mdbc_py.sandbox.processes import SandboxError, spawn, wait_until
from mdbc_py.sandbox.state import ServiceRecord

ACCOUNT = "mdbc"
"""The least-privilege account mdbc uses at every site (not an administrator)."""
INSTALL_HINT = "install it with: scripts/install-deps (or: apt-get install mariadb-server)"
START_TIMEOUT = 60.0


def find_binary(name: str) -> str:
    """Absolute path of a MariaDB program, looking in sbin too (Debian puts mariadbd there)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        raise SandboxError(f"{name} not found: {INSTALL_HINT}")
    return found


def socket_path(record: ServiceRecord) -> str:
    """The unix socket of the site; kept short (the kernel allows 107 bytes)."""
    path = str(Path(record.home) / "mysqld.sock")
    if len(path) > 100:
        raise SandboxError(
            f"sandbox folder {record.home!r} is too deep for a unix socket path; "
            "use a shorter --dir"
        )
    return path


def initialize(record: ServiceRecord) -> None:
    """Create the system tables of a new datadir (skipped when they exist)."""
    datadir = Path(record.home) / "data"
    if (datadir / "mysql").is_dir():
        return
    datadir.mkdir(parents=True, exist_ok=True)
    argv = [
        find_binary("mariadb-install-db"),
        "--no-defaults",
        f"--datadir={datadir}",
        f"--user={getpass.getuser()}",
        "--auth-root-authentication-method=socket",
        "--skip-test-db",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(datadir, ignore_errors=True)
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SandboxError(f"{record.name}: mariadb-install-db failed: {' | '.join(tail)}")


def server_argv(record: ServiceRecord, tls: TlsFiles | None = None) -> list[str]:
    """The mariadbd command line of one site (with TLS required when ``tls`` is given)."""
    home = Path(record.home)
    secure = []
    if tls is not None:
        secure = [
            f"--ssl-ca={tls.ca}",
            f"--ssl-cert={tls.server_cert}",
            f"--ssl-key={tls.server_key}",
            "--require-secure-transport=ON",
        ]
    return [
        find_binary("mariadbd"),
        "--no-defaults",
        f"--datadir={home / 'data'}",
        f"--port={record.port}",
        f"--bind-address={record.host}",
        f"--socket={socket_path(record)}",
        f"--pid-file={home / 'mariadbd.pid'}",
        f"--log-error={home / 'error.log'}",
        f"--tmpdir={home / 'tmp'}",
        f"--user={getpass.getuser()}",
        f"--server-id={record.extra.get('server_id', 1)}",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
        "--max-allowed-packet=256M",
        "--innodb-buffer-pool-size=128M",
        "--innodb-log-file-size=96M",
        "--log-bin=mariadb-bin",
        "--binlog-format=ROW",
        "--log-bin-trust-function-creators=1",
        "--max-connections=500",
        *secure,
    ]


def _root_connection(record: ServiceRecord) -> pymysql.Connection:
    return pymysql.connect(unix_socket=socket_path(record), user="root", connect_timeout=2)


def admin_connection(record: ServiceRecord) -> pymysql.Connection:
    """The site's administrator (root over the unix socket), autocommit on.

    For what the ``mdbc`` account is not meant to do: create accounts,
    grant, read the binary log, look into ``mysql.*``.
    """
    conn = _root_connection(record)
    conn.autocommit(True)
    return conn


GUARDED_DATABASES = ("mysql",)
"""Databases the ``%`` grant must not reach: ``mysql`` holds the accounts."""

GUARD_PRIVILEGE = "SHOW VIEW"
"""The one privilege a guarded database gets (it shows view definitions, no data)."""


def account_grants(account: str) -> list[str]:
    """The GRANT statements that give the sandbox's ``account`` least privilege.

    The privileges are those of ``deploy/grant-mdbc.sql``
    (``mdbc_py.admin.grants``), with one difference: the application's
    privileges are given on every database (``%``) instead of per range
    database, because the tests create databases with random names that no
    list can know in advance. Production grants them per database.

    Not on ``*.*``: a global (or ``%``) INSERT would cover the ``mysql``
    database, and writing there is creating accounts and granting (MariaDB
    accepts CREATE USER from anyone with INSERT on ``mysql``). MariaDB uses
    the most specific matching database grant of an account, so an exact
    grant of ``SHOW VIEW`` on ``mysql`` shuts the ``%`` grant out of it,
    as ``mdbc`` and ``mdbc\\_stage\\_%`` get exactly their own privileges.
    Globally only ``READ_ONLY ADMIN``: no ``ALL``, ``SUPER``,
    ``GRANT OPTION``, ``CREATE USER`` or ``FILE``.
    """
    return [
        f"GRANT {', '.join(grants.APPLICATION_PRIVILEGES)} ON `%`.* TO {account}",
        f"GRANT {', '.join(grants.STAGE_PRIVILEGES)} ON `{grants.STAGE_PATTERN}`.* TO {account}",
        f"GRANT {', '.join(grants.BOOKKEEPING_PRIVILEGES)} ON `{grants.META_DB}`.* TO {account}",
        *(f"GRANT {GUARD_PRIVILEGE} ON `{db}`.* TO {account}" for db in GUARDED_DATABASES),
        f"GRANT {', '.join(grants.GLOBAL_PRIVILEGES)} ON *.* TO {account}",
    ]


def _accepts_root(record: ServiceRecord) -> bool:
    try:
        _root_connection(record).close()
    except pymysql.err.Error:
        return False
    return True


def create_admin_account(record: ServiceRecord, password: str) -> None:
    """Create (or re-key) the ``mdbc`` account the configuration file names.

    The session stops writing to the binary log first: MariaDB logs
    ``CREATE USER ... IDENTIFIED BY`` / ``ALTER USER`` as statements, and
    with the password in them the binlog would hold it in plain text on
    disk after every start. Each site creates its own account, so no
    replica needs these events. The account's privileges are reset and
    given again on every start (``account_grants``, which only adds), and
    an account of an older version, with ``ALL ... WITH GRANT OPTION``, is
    first stripped of everything. Only then: the server already accepts
    connections while this runs, and an agent that logged in between a
    REVOKE and the GRANTs would be refused its own bookkeeping tables.
    """
    conn = _root_connection(record)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            for host in ("127.0.0.1", "localhost"):
                cur.execute(
                    f"CREATE USER IF NOT EXISTS '{ACCOUNT}'@'{host}' IDENTIFIED BY %s",
                    (password,),
                )
                cur.execute(f"ALTER USER '{ACCOUNT}'@'{host}' IDENTIFIED BY %s", (password,))
                account = f"'{ACCOUNT}'@'{host}'"
                cur.execute(f"SHOW GRANTS FOR {account}")
                if any(_excessive(line) for (line,) in cur.fetchall()):
                    cur.execute(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}")
                for statement in account_grants(account):
                    cur.execute(statement)
    finally:
        conn.close()


def _excessive(grant: str) -> bool:
    """A ``SHOW GRANTS`` line beyond least privilege (an older sandbox's account)."""
    return "ALL PRIVILEGES" in grant or "WITH GRANT OPTION" in grant


def client_ssl(tls: TlsFiles | None) -> dict[str, object] | None:
    """PyMySQL ``ssl=`` for a sandbox site: verify the server by the sandbox CA."""
    if tls is None:
        return None
    return {
        "ca": str(tls.ca),
        "cert": str(tls.client_cert),
        "key": str(tls.client_key),
        "verify_mode": True,
        "check_hostname": True,
    }


def start(record: ServiceRecord, password: str, tls: TlsFiles | None = None) -> float:
    """Start the site's mariadbd and wait until its admin account can log in over TCP.

    Returns the seconds start-up took. With ``tls`` the server requires TLS
    and the login check uses it.
    """
    initialize(record)
    home = Path(record.home)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    argv = server_argv(record, tls)
    record.marker = f"--datadir={home / 'data'}"
    proc = spawn(argv, home / "mariadbd.out")
    record.pid = proc.pid
    alive = lambda: proc.poll() is None  # noqa: E731
    seconds = wait_until(lambda: _accepts_root(record), START_TIMEOUT, record.name, alive)
    create_admin_account(record, password)

    def tcp_login() -> bool:
        try:
            pymysql.connect(
                host=record.host,
                port=record.port,
                user=ACCOUNT,
                password=password,
                connect_timeout=2,
                ssl=client_ssl(tls),
            ).close()
        except pymysql.err.Error:
            return False
        return True

    return seconds + wait_until(tcp_login, START_TIMEOUT, record.name, alive)


def log_tail(record: ServiceRecord, lines: int = 5) -> str:
    """The last lines of the server's error log, to explain a failed start."""
    path = Path(record.home) / "error.log"
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no error log)"
