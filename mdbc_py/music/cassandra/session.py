"""Connecting to Cassandra, and turning driver errors into the store's typed errors.

Every call of the backend goes through ``run``, so that the application
only ever sees ``StoreUnavailableError`` (not enough replicas, timeouts,
no host) or a ``CommitOutcomeUnknownError`` (a conditional write that timed
out after it may have been accepted), never a cassandra-driver class.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import TypeVar

from cassandra import (
    ConsistencyLevel,
    OperationTimedOut,
    ReadFailure,
    ReadTimeout,
    Unauthorized,
    Unavailable,
    WriteFailure,
    WriteTimeout,
)
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    Session,
)
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    RoundRobinPolicy,
    TokenAwarePolicy,
)

from mdbc_py.config import StoreConfig
from mdbc_py.errors import StoreUnavailableError
from mdbc_py.music.cassandra.rows import row_factory
from mdbc_py.music.store import with_facts
from mdbc_py.tls import cassandra_options

log = logging.getLogger(__name__)

T = TypeVar("T")

REQUEST_TIMEOUT = 10.0

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    NoHostAvailable,
    Unavailable,
    ReadTimeout,
    ReadFailure,
)
"""Errors after which the store is sure nothing was written (or it was a read)."""

UNCERTAIN_ERRORS: tuple[type[BaseException], ...] = (WriteTimeout, WriteFailure, OperationTimedOut)
"""Errors after which a write may or may not have been applied."""


def connect(cfg: StoreConfig) -> tuple[Cluster, Session]:
    """Open a session with QUORUM reads and writes and SERIAL conditions by default."""
    base = RoundRobinPolicy() if not cfg.local_dc else DCAwareRoundRobinPolicy(cfg.local_dc)
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(base),
        consistency_level=ConsistencyLevel.QUORUM,
        serial_consistency_level=ConsistencyLevel.SERIAL,
        request_timeout=REQUEST_TIMEOUT,
        row_factory=row_factory,
    )
    cluster = Cluster(
        list(cfg.contact_points),
        port=cfg.port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        reconnection_policy=ConstantReconnectionPolicy(1.0),
        connect_timeout=5,
        protocol_version=5,
        **cassandra_options(cfg),  # credentials and TLS of [store] / [store.tls]
        # Without TCP_NODELAY a request larger than one segment waits for the
        # peer's delayed ACK: 40 ms per append of a few KiB.
        sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    try:
        session = cluster.connect()
    except UNAVAILABLE_ERRORS + UNCERTAIN_ERRORS as exc:
        cluster.shutdown()
        points = ", ".join(f"{p}:{cfg.port}" for p in cfg.contact_points)
        raise StoreUnavailableError(
            f"cannot reach the MUSIC store (Cassandra at {points}): {_brief(exc)}; "
            "check that the nodes are up ('mdbc sandbox status') and the address in mdbc.toml"
        ) from None
    return cluster, session


def authorization_unavailable(exc: Unauthorized) -> bool:
    """True if Cassandra refused because it could not read permissions, not for lack of them.

    With authentication on, a node checks the role's permissions in
    ``system_auth`` (read at LOCAL_QUORUM on a cache miss). With too few
    replicas up that read fails and the request is refused as
    ``Unauthorized`` "Unable to perform authorization ...: Cannot achieve
    consistency level": the request never ran, and it is the store that is
    unavailable, not the role that lacks a grant (that one reads "User ...
    has no SELECT permission on ...").
    """
    return "unable to perform authorization" in str(exc).lower()


def _brief(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "..."


def cause_of(exc: BaseException) -> str:
    """What went wrong, without the verdict of the message that carried it.

    A ``StoreUnavailableError`` from ``run`` says "nothing was written",
    true of the call that failed; quoting it whole inside another error
    (e.g. an append whose outcome is unknown) would contradict that error.
    """
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, str) else _brief(exc)


def run(what: str, call: Callable[[], T], uncertain_ok: bool = False) -> T:
    """Run one store call, mapping unavailability to ``StoreUnavailableError``.

    Uncertain write errors are re-raised unchanged to the callers that can
    find out whether their write happened (``uncertain_ok``); for every other
    call they mean unavailability too.
    """
    try:
        return call()
    except (Unauthorized, *UNAVAILABLE_ERRORS, *UNCERTAIN_ERRORS) as exc:
        if isinstance(exc, Unauthorized) and not authorization_unavailable(exc):
            raise  # a grant is missing: not the store's availability
        if uncertain_ok and isinstance(exc, UNCERTAIN_ERRORS):
            raise
        cause = _brief(exc)
        if isinstance(exc, Unauthorized):
            cause = f"Cassandra could not read the role's permissions ({cause})"
        verdict = (
            "a write may or may not have been applied"
            if isinstance(exc, UNCERTAIN_ERRORS)
            else "nothing was written"
        )
        raise with_facts(
            StoreUnavailableError(
                f"MUSIC store unavailable during {what}: {cause}; {verdict}, "
                "retry once enough Cassandra replicas are up"
            ),
            operation=what,
            cause=cause,
        ) from None
