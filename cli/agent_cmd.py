"""``mdbc agent --site S``: the long-running site agent.

Exit codes: 0 after a clean stop (SIGTERM/SIGINT); 1 on a failure (e.g. the
store unreachable at start); 2 on bad usage; 3 when another agent process
runs for the same site (one line naming it; this one did nothing), or took
the site over while this one could not renew its claim. A supervisor should
not restart on 3 in a tight loop: the other agent is doing the job.
"""

from __future__ import annotations

import logging
import signal

import click

from cli.common import (
    config_option,
    fail_on_mdbc_errors,
    load_config,
    metrics_tls,
    metrics_tls_options,
)
from mdbc_py.metrics import AgentMetrics, serve
from mdbc_py.replication.agent import Agent, AgentSettings, SiteClaimedError

EXIT_SITE_CLAIMED = 3


@click.command("agent")
@click.option("--site", required=True, help="The site this agent runs for.")
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the endpoints bind to (loopback unless told otherwise).",
)
@metrics_tls_options
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Serve /metrics, /health and /health/live on this port (0: do not serve).",
)
@click.option("--lease-ttl", type=click.FloatRange(0.5, 600), default=2.0, show_default=True)
@click.option("--interval", type=click.FloatRange(0.05, 60), default=0.2, show_default=True)
@click.option(
    "--trim-margin",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="Entries kept in the log beyond what every site has applied.",
)
@click.option(
    "--trim-stale-after",
    type=click.FloatRange(1),
    default=600.0,
    show_default=True,
    help="Seconds of silence after which trimming stops waiting for a site.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every decision at debug level too.")
@config_option
def agent(
    site: str,
    metrics_host: str,
    metrics_tls_cert: str | None,
    metrics_tls_key: str | None,
    metrics_tls_client_ca: str | None,
    metrics_port: int,
    lease_ttl: float,
    interval: float,
    trim_margin: int,
    trim_stale_after: float,
    verbose: bool,
    config_path: str | None,
) -> None:
    """Replay, hold leases, fail over automatically; SIGTERM stops it cleanly."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    cfg = load_config(config_path)
    if site not in cfg.sites:
        raise click.BadParameter(f"unknown site {site!r}", param_hint="--site")
    settings = AgentSettings(
        interval=interval,
        lease_ttl=lease_ttl,
        renew_every=min(lease_ttl / 4, 0.5),
        trim_margin=trim_margin,
        trim_stale_after=trim_stale_after,
    )
    metrics = AgentMetrics(site)
    worker = fail_on_mdbc_errors(lambda: Agent(cfg, site, settings, metrics=metrics))
    tls = metrics_tls(metrics_tls_cert, metrics_tls_key, metrics_tls_client_ca)
    if metrics_port:
        server = serve(metrics, metrics_host, metrics_port, worker.health, worker.liveness, tls)
        scheme = "https" if tls else "http"
        click.echo(f"metrics on {scheme}://{metrics_host}:{server.server_port}/metrics", err=True)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    try:
        fail_on_mdbc_errors(worker.run)
    except click.ClickException as exc:
        if isinstance(exc.__context__, SiteClaimedError):
            click.echo(f"Error: {exc.format_message()}", err=True)
            raise SystemExit(EXIT_SITE_CLAIMED) from None
        raise
