"""``mdbc proxy --site S``: the MySQL-protocol front end (see :mod:`mdbc_py.proxy`).

Exit codes: 0 after a clean stop (SIGTERM/SIGINT: open transactions get
``--drain-seconds`` to finish); 1 when the proxy cannot start (the address
is in use); 2 on bad usage (unknown site, a mode the proxy does not
support, an invalid configuration). ``--mode route`` overrides the
configuration's mode for this proxy only.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading

import click

from cli.common import check_sites, config_option, fail_on_mdbc_errors, load_config
from mdbc_py.proxy import ProxyServer, ProxySettings


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise click.BadParameter(f"{value!r} is not HOST:PORT", param_hint="--listen")
    return host.strip("[]"), int(port)


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
@click.option("-v", "--verbose", is_flag=True, help="Log every session at debug level too.")
@config_option
def proxy(
    site: str,
    listen: str,
    max_sessions: int,
    drain_seconds: float,
    mode: str | None,
    verbose: bool,
    config_path: str | None,
) -> None:
    """Serve MySQL clients with the driver's guarantees; SIGTERM drains and stops."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    host, port = parse_listen(listen)
    cfg = load_config(config_path)
    if mode is not None:
        cfg = dataclasses.replace(cfg, mode=mode)
    check_sites(cfg, [site])
    settings = ProxySettings(host, port, max_sessions, drain_seconds)
    server = fail_on_mdbc_errors(lambda: ProxyServer(cfg, site, settings))
    try:
        address = server.start()
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"mdbc proxy for site {site} on {address[0]}:{address[1]}", err=True)
    done = threading.Event()

    def stop(*_: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not done.wait(1.0):
        pass
    server.stop()
