"""Roles of a ``--secure`` sandbox's Cassandra: an admin, and mdbc with its keyspace only.

A node with PasswordAuthenticator starts with the well-known superuser
``cassandra``/``cassandra``. Once the nodes are up this module, idempotently:

1. logs in (as ``mdbc_admin`` if it exists, else as ``cassandra``);
2. with 3 nodes, replicates ``system_auth`` to all of them, so a login does
   not depend on the one node that happens to hold the role;
3. creates the superuser ``mdbc_admin`` with the sandbox's generated
   password, and takes login and superuser away from ``cassandra``;
4. creates the keyspace (the same replication ``mdbc.toml`` names) and the
   role ``mdbc``, which may log in and is granted ``MDBC_PERMISSIONS`` on
   that keyspace and nothing else: it cannot create, drop, read or write
   another keyspace, nor drop its own. Because the role may not create
   keyspaces, the sandbox creates it.

``grant_keyspaces`` gives the role more keyspaces of its own, created by the
admin and granted the same permissions: a test session's fixtures each use
a keyspace of their own, and the role still cannot create one.

CQL takes role passwords only as string literals (no bind markers), so the
driver escapes them into the statement; they travel over the sandbox's TLS.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from mdbc_py.sandbox.certs import TlsFiles
from mdbc_py.sandbox.processes import SandboxError
from mdbc_py.sandbox.state import SandboxState, ServiceRecord
from mdbc_py.tls import TlsConfig

ADMIN_ROLE = "mdbc_admin"
MDBC_ROLE = "mdbc"
KEYSPACE = "mdbc"
DEFAULT_ROLE = ("cassandra", "cassandra")
SETUP_TIMEOUT = 90.0
KEYSPACE_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")
"""Keyspace names ``grant_keyspaces`` accepts (they go into CQL as identifiers)."""
MDBC_PERMISSIONS = ("CREATE", "ALTER", "SELECT", "MODIFY")
"""What the store needs in its keyspace: its tables and index (music.cql), reads
and writes. Not DROP (which would include dropping the keyspace) nor AUTHORIZE."""


def driver_options(tls: TlsFiles, username: str | None, password: str | None) -> dict[str, Any]:
    """``Cluster`` arguments that reach a secure sandbox node as ``username``."""
    from cassandra.auth import PlainTextAuthProvider

    context = TlsConfig(
        ca=str(tls.ca), cert=str(tls.client_cert), key=str(tls.client_key)
    ).ssl_context("sandbox TLS")
    auth = PlainTextAuthProvider(username, password) if username else None
    return {"auth_provider": auth, "ssl_context": context}


def _session(nodes: list[ServiceRecord], options: dict[str, Any]) -> tuple[Any, Any]:
    from cassandra.cluster import Cluster

    cluster = Cluster(
        [n.host for n in nodes],
        port=nodes[0].port,
        protocol_version=5,
        connect_timeout=5,
        **options,
    )
    try:
        return cluster, cluster.connect()
    except Exception:
        cluster.shutdown()
        raise


def superuser_options(
    nodes: list[ServiceRecord], tls: TlsFiles, state: SandboxState
) -> dict[str, Any]:
    """``Cluster`` arguments of a superuser that can log in now (see ``_login``)."""
    cluster, _, options = _login(nodes, tls, state)
    cluster.shutdown()
    return options


def _login(
    nodes: list[ServiceRecord], tls: TlsFiles, state: SandboxState
) -> tuple[Any, Any, dict[str, Any]]:
    """A superuser session: the sandbox's admin role, or the default one on a fresh node.

    The default role is created a moment after the node opens its port, so
    a refused login is retried until ``SETUP_TIMEOUT``.
    """
    from cassandra import AuthenticationFailed
    from cassandra.cluster import NoHostAvailable

    deadline = time.monotonic() + SETUP_TIMEOUT
    last = "no attempt"
    while True:
        for user, password in ((ADMIN_ROLE, state.store_admin_password), DEFAULT_ROLE):
            options = driver_options(tls, user, password)
            try:
                return (*_session(nodes, options), options)
            except (NoHostAvailable, AuthenticationFailed) as exc:
                last = _brief(exc)
        if time.monotonic() > deadline:
            raise SandboxError(
                f"cassandra: cannot log in as {ADMIN_ROLE} or the default superuser to set up "
                f"roles within {SETUP_TIMEOUT:.0f} s: {last}"
            )
        time.sleep(1.0)


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) < 300 else text[:300] + "..."


def setup_roles(nodes: list[ServiceRecord], tls: TlsFiles, state: SandboxState) -> None:
    """Create the admin and mdbc roles and the keyspace (see the module docstring).

    Any driver error becomes a ``SandboxError`` saying which step failed.
    """
    from cassandra import DriverException
    from cassandra.cluster import NoHostAvailable

    try:
        _setup_roles(nodes, tls, state)
    except (DriverException, NoHostAvailable, OSError) as exc:
        raise SandboxError(f"cassandra: setting up roles failed: {_brief(exc)}") from None


def _setup_roles(nodes: list[ServiceRecord], tls: TlsFiles, state: SandboxState) -> None:
    rf = min(3, len(nodes))
    cluster, session, _ = _login(nodes, tls, state)
    try:
        if rf > 1:
            session.execute(
                "ALTER KEYSPACE system_auth WITH replication = "
                f"{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
            )
        session.execute(
            f"CREATE ROLE IF NOT EXISTS {ADMIN_ROLE} WITH SUPERUSER = true AND LOGIN = true "
            "AND PASSWORD = %s",
            (state.store_admin_password,),
        )
        session.execute(
            f"ALTER ROLE {ADMIN_ROLE} WITH PASSWORD = %s", (state.store_admin_password,)
        )
    finally:
        cluster.shutdown()
    # The rest as the new admin, so the default role can be switched off.
    cluster, session = _session(nodes, driver_options(tls, ADMIN_ROLE, state.store_admin_password))
    try:
        session.execute(
            "ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false AND PASSWORD = %s",
            (state.store_admin_password + "-retired",),
        )
        session.execute(
            f"CREATE ROLE IF NOT EXISTS {MDBC_ROLE} WITH LOGIN = true AND PASSWORD = %s",
            (state.store_password,),
        )
        session.execute(f"ALTER ROLE {MDBC_ROLE} WITH PASSWORD = %s", (state.store_password,))
        _keyspace_for_mdbc(session, KEYSPACE, rf)
    finally:
        cluster.shutdown()


def _keyspace_for_mdbc(session: Any, keyspace: str, rf: int) -> None:
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
    )
    for permission in MDBC_PERMISSIONS:
        session.execute(f"GRANT {permission} ON KEYSPACE {keyspace} TO {MDBC_ROLE}")


def grant_keyspaces(
    nodes: list[ServiceRecord], tls: TlsFiles, state: SandboxState, keyspaces: Iterable[str]
) -> None:
    """Create ``keyspaces`` (if missing) and grant the mdbc role ``MDBC_PERMISSIONS`` on each.

    Names must be lower-case CQL identifiers (``KEYSPACE_NAME``); anything
    else is a ``SandboxError`` before any statement runs.
    """
    from cassandra import DriverException
    from cassandra.cluster import NoHostAvailable

    names = list(keyspaces)
    bad = [n for n in names if not KEYSPACE_NAME.fullmatch(n)]
    if bad:
        raise SandboxError(f"not a keyspace name the sandbox grants: {', '.join(map(repr, bad))}")
    try:
        cluster, session = _session(
            nodes, driver_options(tls, ADMIN_ROLE, state.store_admin_password)
        )
        try:
            for name in names:
                _keyspace_for_mdbc(session, name, min(3, len(nodes)))
        finally:
            cluster.shutdown()
    except (DriverException, NoHostAvailable, OSError) as exc:
        raise SandboxError(f"cassandra: granting keyspaces failed: {_brief(exc)}") from None
