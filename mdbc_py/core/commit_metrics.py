"""Opt-in Prometheus metrics of a process that commits through the driver.

A service that uses ``mdbc_py.connect`` can export how its commits go:

- ``mdbc_driver_commits_total{site,range,result}``: transactions with row
  changes, by outcome (``ok``, ``fenced``, ``store_unavailable``,
  ``outcome_unknown``, ``local_commit_failed``: durable in the log, the local
  COMMIT failed and was repaired from it, ``error``);
- ``mdbc_driver_commit_seconds{site,range}``: the whole commit, and
  ``mdbc_driver_commit_phase_seconds{site,range,phase}`` split into
  ``capture`` (read the staged rows, build and encode the entry), ``append``
  (the store's conditional write, group commit included) and
  ``local_commit`` (clear the stage, record the position, COMMIT);
- ``mdbc_driver_entry_bytes{site,range}``: size of each encoded entry;
- ``mdbc_driver_append_transactions{range}``: transactions carried by one
  store append (one LWT), from the group committer.

Nothing is collected, and prometheus_client is not even imported, until the
process opts in, in one of these ways:

- ``MDBC_METRICS_PORT=9105`` in the environment: the first connection serves
  ``/metrics`` on ``127.0.0.1:9105`` (``MDBC_METRICS_ADDR`` picks another
  address, e.g. ``0.0.0.0`` in a container);
- ``mdbc_py.core.commit_metrics.serve(port, addr="127.0.0.1")`` from the code;
- ``mdbc_py.core.commit_metrics.enable(registry)`` to collect into a registry the
  application already serves (e.g. ``prometheus_client.REGISTRY``);
- ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus_client's multiprocess mode,
  e.g. gunicorn workers): every process writes its samples to that folder,
  and whatever serves ``/metrics`` (one worker with ``MDBC_METRICS_PORT``, or
  the application's own ``MultiProcessCollector``) adds them up.

When not opted in, a commit pays one function call that returns ``None``.
No label holds a DSN, user or password: only site and range names.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from mdbc_py.errors import ConfigError, MdbcError, OperationalError

log = logging.getLogger(__name__)

ENV_PORT = "MDBC_METRICS_PORT"
ENV_ADDR = "MDBC_METRICS_ADDR"
ENV_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_ADDR = "127.0.0.1"

RESULTS = ("ok", "fenced", "store_unavailable", "outcome_unknown", "local_commit_failed",
           "error")  # fmt: skip
PHASES = ("capture", "append", "local_commit")

SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                   5, 10)  # fmt: skip
BYTES_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216)
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class MetricsServeError(MdbcError, OperationalError):
    """``/metrics`` could not be served (the port is taken, the address is not local ...).

    Facts as attributes: ``addr``, ``port``, ``reason``.
    """

    def __init__(self, addr: str, port: int, reason: str) -> None:
        self.addr = addr
        self.port = port
        self.reason = reason
        super().__init__(
            f"cannot serve the driver's metrics on {addr}:{port}: {reason}; commits are "
            "not affected"
        )


class DriverMetrics:
    """The collectors of one driver process (created by ``enable``)."""

    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter, Histogram

        labels = ["site", "range"]
        self.registry = registry
        self.commits = Counter(
            "mdbc_driver_commits",
            "Transactions with row changes committed through the driver, by result: ok, "
            "fenced, store_unavailable, outcome_unknown, local_commit_failed (durable in the "
            "log, local COMMIT repaired from it), error",
            ["site", "range", "result"],
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "mdbc_driver_commit_seconds",
            "Duration of a driver commit with row changes, from reading the staged rows to "
            "the local COMMIT",
            labels,
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self.phase_seconds = Histogram(
            "mdbc_driver_commit_phase_seconds",
            "Duration of each phase of a driver commit: capture (read staged rows, build and "
            "encode the entry), append (the store's conditional write, group commit "
            "included), local_commit (clear the stage, record the position, COMMIT)",
            ["site", "range", "phase"],
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self.entry_bytes = Histogram(
            "mdbc_driver_entry_bytes",
            "Size of each encoded log entry the driver appends",
            labels,
            buckets=BYTES_BUCKETS,
            registry=registry,
        )
        self.append_transactions = Histogram(
            "mdbc_driver_append_transactions",
            "Transactions carried by one store append (one LWT) of the group committer",
            ["range"],
            buckets=GROUP_BUCKETS,
            registry=registry,
        )

    def commit(
        self,
        site: str,
        range_name: str,
        result: str,
        capture: float,
        append: float | None = None,
        local_commit: float | None = None,
        size: int | None = None,
    ) -> None:
        """Record one commit: its result, and the phases it went through."""
        self.commits.labels(site, range_name, result).inc()
        phases = self.phase_seconds
        phases.labels(site, range_name, "capture").observe(capture)
        total = capture
        if append is not None:
            phases.labels(site, range_name, "append").observe(append)
            total += append
        if local_commit is not None:
            phases.labels(site, range_name, "local_commit").observe(local_commit)
            total += local_commit
        if result in ("ok", "local_commit_failed"):
            self.commit_seconds.labels(site, range_name).observe(total)
        if size is not None:
            self.entry_bytes.labels(site, range_name).observe(size)


_lock = threading.Lock()
_active: DriverMetrics | None = None
_served: tuple[str, int] | None = None
_environment_read = False


def active() -> DriverMetrics | None:
    """The collectors when this process opted in, else None (the commit path's one check)."""
    return _active


def multiprocess() -> bool:
    """True when prometheus_client's multiprocess mode is on (``PROMETHEUS_MULTIPROC_DIR``)."""
    return bool(os.environ.get(ENV_MULTIPROC))


def enable(registry: Any = None) -> DriverMetrics:
    """Start collecting (once per process; later calls return the same collectors).

    ``registry``: where the collectors register, e.g. ``prometheus_client.REGISTRY``
    when the application serves its own ``/metrics``; default a private one that
    ``serve`` exposes.
    """
    global _active
    with _lock:
        if _active is None:
            if registry is None:
                from prometheus_client import CollectorRegistry

                registry = CollectorRegistry()
            _active = DriverMetrics(registry)
        return _active


def _exposed_registry(metrics: DriverMetrics) -> Any:
    """What ``/metrics`` shows: this process's collectors, or every process's in multiprocess."""
    if not multiprocess():
        return metrics.registry
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def serve(port: int, addr: str = DEFAULT_ADDR) -> int:
    """Collect and serve ``/metrics`` on ``addr:port`` in a daemon thread; return the port.

    ``port`` 0 picks a free port. A second call returns the port already
    served. Raises ``MetricsServeError`` when the address cannot be bound.
    """
    global _served
    metrics = enable()
    with _lock:
        if _served is not None:
            return _served[1]
        from prometheus_client import start_http_server

        try:
            server, _ = start_http_server(port, addr=addr, registry=_exposed_registry(metrics))
        except OSError as exc:
            raise MetricsServeError(addr, port, exc.strerror or str(exc)) from None
        _served = (addr, int(server.server_port))
        log.info("driver metrics on http://%s:%d/metrics", addr, _served[1])
        return _served[1]


def configure(port: int | None, addr: str | None = None) -> int | None:
    """Serve as a configuration says (the hook of a ``metrics_port`` key); None: do nothing.

    The environment wins: with ``MDBC_METRICS_PORT`` set this does nothing.
    A port that cannot be bound is logged, not raised: metrics must never
    stop a service from reaching its database. Returns the port served.
    """
    if port is None or os.environ.get(ENV_PORT):
        return None
    return _serve_quietly(port, addr or DEFAULT_ADDR)


def _serve_quietly(port: int, addr: str) -> int | None:
    try:
        return serve(port, addr)
    except MetricsServeError as exc:
        if multiprocess():  # another worker serves every process's samples
            log.info("%s; another process of this service serves them", exc)
        else:
            log.error("%s", exc)
        return None


def from_environment(environ: Mapping[str, str] | None = None) -> None:
    """Opt in as the environment says (``MDBC_METRICS_PORT``, ``PROMETHEUS_MULTIPROC_DIR``).

    Read once per process, when the first connection's runtime is created.
    Raises ``ConfigError`` naming the variable when the port is not a port.
    """
    global _environment_read
    env = os.environ if environ is None else environ
    with _lock:
        if _environment_read:
            return
        _environment_read = True
    raw = env.get(ENV_PORT, "").strip()
    if raw:
        try:
            port = int(raw)
            if not 0 <= port <= 65535:
                raise ValueError
        except ValueError:
            with _lock:
                _environment_read = False
            raise ConfigError(
                f"{ENV_PORT}={raw!r} is not a TCP port (0-65535): set it to the port the "
                "driver's /metrics should listen on, or unset it"
            ) from None
        _serve_quietly(port, env.get(ENV_ADDR, "").strip() or DEFAULT_ADDR)
    elif env.get(ENV_MULTIPROC):
        enable()


def observe_append(range_name: str, transactions: int) -> None:
    """The group committer's report of one successful append (a no-op unless opted in)."""
    metrics = _active
    if metrics is not None:
        metrics.append_transactions.labels(range_name).observe(transactions)


def _reset_for_tests() -> None:
    """Forget the opt-in (tests only; a server already started keeps running)."""
    global _active, _served, _environment_read
    with _lock:
        _active, _served, _environment_read = None, None, False
