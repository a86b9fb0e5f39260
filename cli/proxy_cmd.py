"""``mdbc proxy --site S``: the MySQL-protocol front end (see :mod:`mdbc_py.proxy`).

Exit codes: 0 after a clean stop (SIGTERM/SIGINT: open transactions get
``--drain-seconds`` to finish); 1 when the proxy cannot start (the address
is in use); 2 on bad usage (unknown site, a mode the proxy does not
support, an invalid configuration). ``--mode route`` overrides the
configuration's mode for this proxy only.

``--tls-cert``/``--tls-key`` give the listener a certificate: the greeting
offers TLS and clients may encrypt their link to the proxy
(``--tls-client-ca``: only clients with a certificate from that CA;
``--tls-required``: no plaintext logins). Without them SSL stays hidden
from clients. TLS from the proxy to MariaDB is the site's
``[sites.NAME.tls]``, as for the driver.

``--metrics-listen [HOST:]PORT`` serves ``/metrics``, ``/health`` and
``/health/live`` (the agent's endpoint code, loopback unless HOST says
otherwise, HTTPS with the same ``--metrics-tls-*`` options as the agent).
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import ssl
import threading

import click

from cli.common import (
    check_sites,
    config_option,
    fail_on_mdbc_errors,
    load_config,
    metrics_tls,
    metrics_tls_options,
)
from mdbc_py.metrics import serve, server_tls
from mdbc_py.proxy import ProxyServer, ProxySettings

METRICS_HOST = "127.0.0.1"
"""Where ``--metrics-listen PORT`` binds: loopback unless HOST:PORT says otherwise."""


def parse_listen(
    value: str, hint: str = "--listen", default_host: str | None = None
) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port); ``PORT`` alone if a default host."""
    if default_host is not None and value.isdigit():
        value = f"{default_host}:{value}"
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        shape = "[HOST:]PORT" if default_host is not None else "HOST:PORT"
        raise click.BadParameter(f"{value!r} is not {shape}", param_hint=hint)
    return host.strip("[]"), int(port)


def listener_tls(
    cert: str | None, key: str | None, client_ca: str | None, required: bool
) -> ssl.SSLContext | None:
    """The server context of ``--tls-cert/--tls-key/--tls-client-ca`` (None: no client TLS)."""
    if bool(cert) != bool(key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if (client_ca or required) and not cert:
        raise click.UsageError("--tls-client-ca and --tls-required need --tls-cert and --tls-key")
    if not cert or not key:
        return None
    try:
        return server_tls(cert, key, client_ca)
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise click.BadParameter(
            f"cannot load the listener's certificate, key or client CA ({reason})",
            param_hint="--tls-cert/--tls-key/--tls-client-ca",
        ) from None


@click.command("proxy")
@click.option("--site", required=True, help="The site whose MariaDB this proxy serves.")
@click.option(
    "--listen",
    default="127.0.0.1:3307",
    show_default=True,
    help="Address to accept MySQL clients on (HOST:PORT; port 0 picks a free one).",
)
@click.option("--max-sessions", type=click.IntRange(1, 100000), default=256, show_default=True)
@click.option(
    "--drain-seconds",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    help="On SIGTERM, how long open transactions may still finish.",
)
@click.option(
    "--mode",
    type=click.Choice(["master-slave", "route"]),
    default=None,
    help="Override the configuration's mode: route sends each session to the MariaDB "
    "of its database's owner.",
)
@click.option(
    "--heartbeat-seconds",
    type=click.FloatRange(0.1, 60),
    default=2.0,
    show_default=True,
    help="How often the proxy checks its database and heartbeats the store (mdbc status).",
)
@click.option(
    "--metrics-listen",
    default=None,
    help="Serve /metrics, /health and /health/live on [HOST:]PORT (HOST default 127.0.0.1; "
    "not served unless given).",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="Offer TLS to clients with this PEM certificate (needs --tls-key); without it "
    "clients connect in plaintext.",
)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--tls-client-ca",
    type=click.Path(exists=True, dir_okay=False),
    help="With --tls-cert: accept only clients whose certificate this CA signed.",
)
@click.option(
    "--tls-required",
    is_flag=True,
    help="With --tls-cert: refuse clients that do not ask for TLS (ERR 3159).",
)
@metrics_tls_options
@click.option("-v", "--verbose", is_flag=True, help="Log every session at debug level too.")
@config_option
def proxy(
    site: str,
    listen: str,
    max_sessions: int,
    drain_seconds: float,
    mode: str | None,
    heartbeat_seconds: float,
    metrics_listen: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_client_ca: str | None,
    tls_required: bool,
    metrics_tls_cert: str | None,
    metrics_tls_key: str | None,
    metrics_tls_client_ca: str | None,
    verbose: bool,
    config_path: str | None,
) -> None:
    """Serve MySQL clients with the driver's guarantees; SIGTERM drains and stops."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    host, port = parse_listen(listen)
    endpoint = (
        parse_listen(metrics_listen, "--metrics-listen", METRICS_HOST) if metrics_listen else None
    )
    tls = metrics_tls(metrics_tls_cert, metrics_tls_key, metrics_tls_client_ca)
    client_tls = listener_tls(tls_cert, tls_key, tls_client_ca, tls_required)
    cfg = load_config(config_path)
    if mode is not None:
        cfg = dataclasses.replace(cfg, mode=mode)
    check_sites(cfg, [site])
    settings = ProxySettings(
        host, port, max_sessions, drain_seconds, heartbeat_seconds, client_tls, tls_required
    )
    server = fail_on_mdbc_errors(lambda: ProxyServer(cfg, site, settings))
    try:
        address = server.start()
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"mdbc proxy for site {site} on {address[0]}:{address[1]}", err=True)
    if client_tls is not None:
        who = "clients with a certificate from --tls-client-ca" if tls_client_ca else "clients"
        how = "required" if tls_required else "offered"
        click.echo(f"TLS {how} to {who}", err=True)
    endpoints = None
    if endpoint is not None:
        try:
            endpoints = serve(
                server.metrics, *endpoint, server.monitor.health, server.monitor.liveness, tls
            )
        except OSError as exc:
            server.stop(drain_seconds=0)
            raise click.ClickException(
                f"cannot serve the metrics on {endpoint[0]}:{endpoint[1]}: {exc.strerror or exc}"
            ) from None
        scheme = "https" if tls else "http"
        click.echo(f"metrics on {scheme}://{endpoint[0]}:{endpoints.server_port}/metrics", err=True)
    done = threading.Event()

    def stop(*_: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not done.wait(1.0):
        pass
    server.stop()
    if endpoints is not None:
        endpoints.shutdown()
        endpoints.server_close()
