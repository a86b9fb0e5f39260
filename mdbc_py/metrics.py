"""Prometheus metrics of a site agent, and its HTTP endpoints ``/metrics`` and ``/health``.

Every metric is labelled with the range (and the site where it says of one);
no label or value ever carries a password or a connection string.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)


class AgentMetrics:
    """The collectors one agent updates."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.registry = CollectorRegistry()
        labels = ["site", "range"]
        self.is_owner = Gauge("mdbc_is_owner", "1 if this site owns the range", labels,
                              registry=self.registry)  # fmt: skip
        self.epoch = Gauge("mdbc_epoch", "Current epoch of the range", labels,
                           registry=self.registry)  # fmt: skip
        self.log_tail = Gauge("mdbc_log_tail", "Sequence number of the range's last entry",
                              labels, registry=self.registry)  # fmt: skip
        self.applied = Gauge("mdbc_applied_seq", "Last contiguous entry applied at this site",
                             labels, registry=self.registry)  # fmt: skip
        self.lag_entries = Gauge("mdbc_lag_entries", "Entries in the log not yet applied here",
                                 labels, registry=self.registry)  # fmt: skip
        self.lag_seconds = Gauge("mdbc_lag_seconds",
                                 "Age of the oldest entry not yet applied here", labels,
                                 registry=self.registry)  # fmt: skip
        self.applied_total = Counter("mdbc_entries_applied", "Entries applied by replay",
                                     labels, registry=self.registry)  # fmt: skip
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
        self.failovers = Counter("mdbc_failovers", "Automatic promotions won by this site",
                                 labels, registry=self.registry)  # fmt: skip
        self.db_up = Gauge("mdbc_database_up", "1 if the site's MariaDB answers", ["site"],
                           registry=self.registry)  # fmt: skip
        self.store_up = Gauge("mdbc_store_up", "1 if the MUSIC store answers", ["site"],
                              registry=self.registry)  # fmt: skip
        self.ticks = Counter("mdbc_agent_ticks", "Agent loop iterations", ["site"],
                             registry=self.registry)  # fmt: skip

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format."""
        return bytes(generate_latest(self.registry))


def serve(
    metrics: AgentMetrics, host: str, port: int, health: Callable[[], dict[str, Any]]
) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/health`` in a daemon thread; return the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                body, ctype, status = metrics.exposition(), CONTENT_TYPE_LATEST, 200
            elif self.path.startswith("/health"):
                report = health()
                body = json.dumps(report, indent=2).encode()
                ctype, status = "application/json", 200 if report.get("healthy") else 503
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
    threading.Thread(target=server.serve_forever, name="mdbc-metrics", daemon=True).start()
    return server
