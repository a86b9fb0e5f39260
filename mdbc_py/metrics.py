"""Prometheus metrics of a site agent, and the HTTP endpoints ``/metrics``, ``/health``
and ``/health/live`` that the agent and ``mdbc proxy`` serve alike.

Every metric is labelled with the site and, where it says something of one, the
range; no label or value ever carries a password or a connection string.
Counters whose label values are known in advance (every configured range times
every reason or kind) are created at 0 by ``AgentMetrics.prepare``, so a rule
can use ``increase()`` from the agent's first scrape on: a counter that only
appears at its first event cannot show that event as an increase.

Seconds and bytes are the units (Prometheus base units); a ``_total`` suffix is
added by the client library to every counter.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

FAILOVER_REASONS = ("lease_expired", "database_down")
"""Why an agent promoted its site: the owner's lease lapsed, or its database is down."""

OWNER_CHANGE_REASONS = (
    "lease_expired",
    "database_down",
    "switchover",
    "manual_promote",
    "hand_back",
    "other",
)
"""Why a range changed owner, from the reason its history records (see ``owner_changes``)."""

FENCED_OPERATIONS = ("promote", "lease")
"""Writes of an agent the store refused for a newer epoch or another holder."""

STORE_ERROR_KINDS = ("unavailable", "outcome_unknown", "other")
DATABASE_ERROR_KINDS = ("unreachable", "login_refused", "connection_lost", "server_error")

APPLY_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                         10, 30)  # fmt: skip
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


class AgentMetrics:
    """The collectors one agent updates (the order is the dashboard's and the docs')."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.registry = CollectorRegistry()
        labels = ["site", "range"]
        self.is_owner = Gauge("mdbc_is_owner", "1 if this site owns the range", labels,
                              registry=self.registry)  # fmt: skip
        self.owner_info = Info(
            "mdbc_range_owner",
            "The range's owner and state (open, draining, fenced) as this site's agent "
            "reads them from the store; owner is empty when the range has none",
            labels,
            registry=self.registry,
        )
        self.epoch = Gauge("mdbc_epoch", "Current epoch of the range", labels,
                           registry=self.registry)  # fmt: skip
        self.lease_remaining = Gauge(
            "mdbc_lease_remaining_seconds",
            "Seconds before the owner's lease of the range lapses, judged by this agent's "
            "clock (the owner: since its last renewal; a replica: since it last saw the "
            "lease renewed); 0 once it has lapsed",
            labels,
            registry=self.registry,
        )
        self.log_tail = Gauge("mdbc_log_tail", "Sequence number of the range's last entry",
                              labels, registry=self.registry)  # fmt: skip
        self.trim_seq = Gauge(
            "mdbc_trim_seq",
            "Entries up to this sequence number were trimmed from the range's log",
            labels,
            registry=self.registry,
        )
        self.applied = Gauge("mdbc_applied_seq", "Last contiguous entry applied at this site",
                             labels, registry=self.registry)  # fmt: skip
        self.lag_entries = Gauge("mdbc_lag_entries", "Entries in the log not yet applied here",
                                 labels, registry=self.registry)  # fmt: skip
        self.lag_seconds = Gauge(
            "mdbc_lag_seconds",
            "Age of the oldest entry not yet applied here, since this agent first saw it in "
            "the log (its own monotonic clock, no comparison with another host's); 0 when "
            "caught up",
            labels,
            registry=self.registry,
        )
        self.applied_total = Counter("mdbc_entries_applied", "Entries applied by replay",
                                     labels, registry=self.registry)  # fmt: skip
        self.apply_seconds = Histogram(
            "mdbc_apply_seconds",
            "Duration of one replay pass that applied entries (read from the store, apply, "
            "record the position)",
            labels,
            buckets=APPLY_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.apply_batch = Histogram(
            "mdbc_apply_batch_entries",
            "Entries applied by one replay pass",
            labels,
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.apply_error_code = Gauge(
            "mdbc_apply_error_code",
            "MySQL error number of the entry this site's database refuses (0: none)",
            labels,
            registry=self.registry,
        )
        self.apply_error_seq = Gauge(
            "mdbc_apply_error_seq",
            "Sequence number of the entry replay is stuck at (0: none)",
            labels,
            registry=self.registry,
        )
        self.apply_errors = Counter(
            "mdbc_apply_errors",
            "Entries this site's database refused, by MySQL error number",
            ["site", "range", "code"],
            registry=self.registry,
        )
        self.needs_resync = Gauge(
            "mdbc_needs_resync",
            "1 while this site must be rebuilt for the range (mdbc resync --site S --full): "
            "marked needs-resync, or behind the log's trim point; replay of the range stops",
            labels,
            registry=self.registry,
        )
        self.resync_copied = Gauge(
            "mdbc_resync_copied_rows",
            "Rows a full resync of the range at this site has copied so far (0: none running)",
            labels,
            registry=self.registry,
        )
        self.resync_rows = Gauge(
            "mdbc_resync_snapshot_rows",
            "Rows in the snapshot a full resync of the range at this site copies (0: none running)",
            labels,
            registry=self.registry,
        )
        self.failovers = Counter("mdbc_failovers", "Automatic promotions won by this site",
                                 labels, registry=self.registry)  # fmt: skip
        self.failovers_by_reason = Counter(
            "mdbc_failovers_by_reason",
            "Automatic promotions won by this site, by reason: lease_expired, database_down",
            ["site", "range", "reason"],
            registry=self.registry,
        )
        self.owner_changes = Counter(
            "mdbc_owner_changes",
            "Changes of the range's owner this agent saw in the store's history, by reason: "
            "lease_expired and database_down (failovers), switchover, manual_promote, "
            "hand_back (a promotion that could not finish), other",
            ["site", "range", "reason"],
            registry=self.registry,
        )
        self.fenced = Counter(
            "mdbc_fenced_writes",
            "Writes of this agent the store refused because another site holds a newer "
            "epoch: operation promote (another site won) or lease",
            ["site", "range", "operation"],
            registry=self.registry,
        )
        self.db_up = Gauge("mdbc_database_up", "1 if the site's MariaDB answers", ["site"],
                           registry=self.registry)  # fmt: skip
        self.database_errors = Counter(
            "mdbc_database_errors",
            "Failed requests of this agent to its site's MariaDB, by kind: unreachable, "
            "login_refused, connection_lost, server_error",
            ["site", "kind"],
            registry=self.registry,
        )
        self.store_up = Gauge("mdbc_store_up", "1 if the MUSIC store answers", ["site"],
                              registry=self.registry)  # fmt: skip
        self.store_errors = Counter(
            "mdbc_store_errors",
            "Failed requests of this agent to the MUSIC store, by kind: unavailable, "
            "outcome_unknown, other",
            ["site", "kind"],
            registry=self.registry,
        )
        self.ticks = Counter("mdbc_agent_ticks", "Agent loop iterations", ["site"],
                             registry=self.registry)  # fmt: skip

    def prepare(self, ranges: Iterable[str]) -> None:
        """Create every counter of known labels at 0, for the site and each range."""
        for kind in STORE_ERROR_KINDS:
            self.store_errors.labels(self.site, kind)
        for kind in DATABASE_ERROR_KINDS:
            self.database_errors.labels(self.site, kind)
        for name in ranges:
            self.failovers.labels(self.site, name)
            for reason in FAILOVER_REASONS:
                self.failovers_by_reason.labels(self.site, name, reason)
            for reason in OWNER_CHANGE_REASONS:
                self.owner_changes.labels(self.site, name, reason)
            for operation in FENCED_OPERATIONS:
                self.fenced.labels(self.site, name, operation)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format."""
        return bytes(generate_latest(self.registry))


class Exposition(Protocol):
    """What ``serve`` exposes at ``/metrics``: an agent's or a proxy's collectors."""

    def exposition(self) -> bytes: ...


def serve(
    metrics: Exposition,
    host: str,
    port: int,
    health: Callable[[], dict[str, Any]],
    live: Callable[[], dict[str, Any]] | None = None,
    tls: ssl.SSLContext | None = None,
) -> ThreadingHTTPServer:
    """Serve ``/metrics``, ``/health`` and ``/health/live`` in a daemon thread; return it.

    ``tls``: a server context (see :func:`server_tls`) to serve HTTPS instead.

    ``/health`` (readiness) is 503 while the site cannot do its job (database
    or store down, an entry refused). ``/health/live`` (liveness) is 200 while
    the agent's loop runs, whatever the database does: an agent whose database
    is down must stay up to say so. Without ``live`` it answers 200 as long as
    the process serves.
    """

    def report(check: Callable[[], dict[str, Any]], key: str) -> tuple[bytes, str, int]:
        answer = check()
        body = json.dumps(answer, indent=2).encode()
        return body, "application/json", 200 if answer.get(key) else 503

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/metrics":
                body, ctype, status = metrics.exposition(), CONTENT_TYPE_LATEST, 200
            elif path == "/health/live":
                body, ctype, status = report(live or (lambda: {"live": True}), "live")
            elif path == "/health":
                body, ctype, status = report(health, "healthy")
            else:
                body, ctype, status = b"not found\n", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would drown the agent's own log

    server = ThreadingHTTPServer((host, port), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, name="mdbc-metrics", daemon=True).start()
    return server


def server_tls(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """A TLS 1.2+ server context for the endpoints of an agent or a proxy (PEM files).

    With ``client_ca`` a scraper must present a certificate signed by it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
