"""Prometheus metrics of ``mdbc proxy``, and the observer its sessions report to.

A session calls three hooks, each a counter increment or a histogram
observation on a child collector resolved once (the hot path pays a dict
lookup and a lock, about a microsecond):

- :meth:`ProxyMetrics.statement`: every statement a client sends (text or
  prepared execute), by its kind as :mod:`mdbc_py.sql` classifies it;
- :meth:`ProxyMetrics.commit`: every transaction committed through the log,
  by result, with its duration;
- :meth:`ProxyMetrics.error`: every ERR packet the proxy itself sends (the
  server's own errors are relayed and not counted), by the mdbc error class
  and the MySQL error number the client gets.

The listener counts sessions; the monitor (:mod:`.monitor`) sets the
database, store and draining gauges. Every series carries ``site``; no label
holds a user, a statement text or a password. Served by ``mdbc proxy
--metrics-listen`` through the agent's endpoint code (:func:`mdbc_py.metrics.serve`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from mdbc_py import errors
from mdbc_py.sql import Kind

if TYPE_CHECKING:
    from mdbc_py.proxy.commit import Finished

F = TypeVar("F", bound="Finished")

COMMIT_RESULTS = ("ok", "fenced", "store_unavailable", "outcome_unknown",
                  "local_commit_failed", "error")  # fmt: skip
"""As the driver's ``mdbc_driver_commits_total``: ``local_commit_failed`` is durable in
the log, its local COMMIT failed and was repaired from it."""

SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                   5, 10)  # fmt: skip


def commit_result(exc: BaseException) -> str:
    """The ``result`` label of a commit that raised ``exc``."""
    if isinstance(exc, errors.FencedError):
        return "fenced"
    if isinstance(exc, errors.StoreUnavailableError):
        return "store_unavailable"
    if isinstance(exc, errors.CommitOutcomeUnknownError):
        return "outcome_unknown"
    return "error"


class ProxyMetrics:
    """The collectors of one proxy process (one site), and its session observer."""

    def __init__(self, site: str, ranges: Iterable[str] = ()) -> None:
        self.site = site
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_open = Gauge("mdbc_proxy_sessions_open", "Client sessions open now",
                                   ["site"], registry=r)  # fmt: skip
        self.sessions = Counter(
            "mdbc_proxy_sessions",
            "Client connections accepted (each one a session with its own backend session)",
            ["site"],
            registry=r,
        )
        self.statements = Counter(
            "mdbc_proxy_statements",
            "Statements clients sent (text queries and prepared executes), by kind: read, "
            "write, ddl, tcl, session, unknown (as mdbc_py.sql classifies them)",
            ["site", "kind"],
            registry=r,
        )
        self.commits = Counter(
            "mdbc_proxy_commits",
            "Transactions with row changes committed through the log, by result: ok, "
            "fenced, store_unavailable, outcome_unknown, local_commit_failed (durable in the "
            "log, local COMMIT repaired from it), error",
            ["site", "range", "result"],
            registry=r,
        )
        self.commit_seconds = Histogram(
            "mdbc_proxy_commit_seconds",
            "Duration of a commit through the log (read the staged rows, append, local "
            "COMMIT), of commits that succeeded",
            ["site", "range"],
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "mdbc_proxy_errors",
            "ERR packets the proxy itself sent to clients, by mdbc error class (NotOwnerError, "
            "FencedError, RefusedError ...) and the MySQL error number the client got",
            ["site", "class", "code"],
            registry=r,
        )
        self.db_up = Gauge("mdbc_proxy_database_up",
                           "1 if the site's MariaDB answers the proxy's health check",
                           ["site"], registry=r)  # fmt: skip
        self.store_up = Gauge("mdbc_proxy_store_up",
                              "1 if the MUSIC store took the proxy's last heartbeat",
                              ["site"], registry=r)  # fmt: skip
        self.draining = Gauge("mdbc_proxy_draining",
                              "1 while the proxy stops: no new sessions, open transactions "
                              "may finish", ["site"], registry=r)  # fmt: skip
        self.sessions_open.labels(site)
        self.sessions.labels(site)
        self.draining.labels(site)
        self._statements = {k.value: self.statements.labels(site, k.value) for k in Kind}
        for name in ranges:
            for result in COMMIT_RESULTS:
                self.commits.labels(site, name, result)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format (what ``/metrics`` serves)."""
        return bytes(generate_latest(self.registry))

    # -- the session observer ----------------------------------------------------------

    def statement(self, kind: Kind) -> None:
        """A client sent a statement of ``kind``."""
        self._statements[kind.value].inc()

    def error(self, error_class: str, code: int) -> None:
        """The proxy sent the client an ERR packet of its own."""
        self.errors.labels(self.site, error_class, str(code)).inc()

    def commit(self, range_hint: str | None, call: Callable[[], F]) -> F:
        """Run a commit through the log (``call``), counting its result and timing it.

        The commit's :class:`~.commit.Finished` names the range it logged to
        (none: nothing was logged, nothing is counted); a commit that raised
        is counted under ``range_hint`` (the transaction's range, if known).
        """
        started = time.perf_counter()
        try:
            done = call()
        except BaseException as exc:
            name = range_hint or getattr(exc, "range_name", None) or ""
            self.commits.labels(self.site, name, commit_result(exc)).inc()
            raise
        if done.range_name is not None:
            result = "local_commit_failed" if done.repaired else "ok"
            self.commits.labels(self.site, done.range_name, result).inc()
            self.commit_seconds.labels(self.site, done.range_name).observe(
                time.perf_counter() - started
            )
        return done
