"""``mdbc sandbox``: start and stop local MariaDB sites and Cassandra nodes."""

from __future__ import annotations

import os
import time

import click

from cli.common import remember_secrets, safe, say
from cli.output import FORMATS, emit
from mdbc_py.sandbox import DEFAULT_BASE_PORT, DEFAULT_DIR, Sandbox, SandboxError


def _dir_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--dir",
        "directory",
        default=lambda: os.environ.get("MDBC_SANDBOX_DIR", DEFAULT_DIR),
        show_default=f"$MDBC_SANDBOX_DIR or {DEFAULT_DIR}",
        help="Folder holding the sandbox's data, logs, state and mdbc.toml.",
    )(func)


def _open(directory: str) -> Sandbox:
    """The sandbox in ``directory``; its progress lines never show its password."""

    def tell(message: str) -> None:
        remember_secrets(*box.secrets())  # read now: ``up`` may have just made them
        say(message)

    box = Sandbox(directory, say=tell)
    return box


def _check_names(box: Sandbox, names: list[str]) -> None:
    """An unknown service name is bad usage (exit 2), as an unknown site is for every command."""
    known = box.state.services
    for name in names:
        if name not in known:
            raise click.BadParameter(
                f"no service {name!r} in sandbox {box.directory} "
                f"(known: {', '.join(sorted(known)) or 'none'})",
                param_hint="NAME",
            )


def _fail(box: Sandbox, exc: SandboxError) -> None:
    remember_secrets(*box.secrets())
    raise click.ClickException(safe(str(exc)))


@click.group("sandbox")
def sandbox() -> None:
    """Real MariaDB sites and Cassandra nodes as local processes, for tests and demos."""


@sandbox.command("up")
@click.option("--sites", type=click.IntRange(0, 9), default=2, show_default=True)
@click.option(
    "--cassandra-nodes", type=click.Choice(["0", "1", "3"]), default="1", show_default=True
)
@click.option(
    "--base-port",
    type=click.IntRange(1024, 65000),
    default=DEFAULT_BASE_PORT,
    show_default=True,
    help="Site dcN listens on base-port + N.",
)
@click.option(
    "--cassandra-ip",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address of node1; further nodes take the next addresses.",
)
@click.option(
    "--heap-mb",
    type=click.IntRange(256, 8192),
    default=512,
    show_default=True,
    help="Java heap of each Cassandra node.",
)
@click.option(
    "--secure",
    is_flag=True,
    help="TLS and authentication on every service: a CA and certificates in DIR/tls, "
    "sites requiring TLS, Cassandra with password auth, authorization and client TLS, "
    "and an mdbc role granted only its keyspace. A secure sandbox stays secure.",
)
@_dir_option
def up(
    sites: int,
    cassandra_nodes: str,
    base_port: int,
    cassandra_ip: str,
    heap_mb: int,
    secure: bool,
    directory: str,
) -> None:
    """Start N MariaDB sites and 0, 1 or 3 Cassandra nodes; write DIR/mdbc.toml."""
    box = _open(directory)
    began = time.monotonic()
    try:
        box.up(sites, int(cassandra_nodes), base_port, cassandra_ip, heap_mb, secure=secure)
    except SandboxError as exc:
        _fail(box, exc)
    click.echo(f"sandbox ready in {time.monotonic() - began:.1f} s; config: {box.config_path}")


@sandbox.command("status")
@click.option("-o", "--output", "fmt", type=click.Choice(FORMATS), default="table")
@_dir_option
def status(fmt: str, directory: str) -> None:
    """One row per service: address, pid, state (up / starting / down), start-up time."""
    rows = [s.as_dict() for s in _open(directory).status()]
    emit(rows, ["name", "kind", "address", "pid", "state", "startup_seconds"], fmt)


@sandbox.command("down")
@click.argument("names", nargs=-1)
@_dir_option
def down(names: tuple[str, ...], directory: str) -> None:
    """Stop all services of the sandbox (or the NAMES given); their data is kept."""
    box = _open(directory)
    _check_names(box, list(names))
    try:
        stopped = box.down(list(names) or None)
    except SandboxError as exc:
        _fail(box, exc)
    click.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@sandbox.command("kill")
@click.argument("name")
@_dir_option
def kill(name: str, directory: str) -> None:
    """kill -9 one site (dcN) or Cassandra node (nodeN), to test failure."""
    box = _open(directory)
    _check_names(box, [name])
    try:
        box.kill(name)
    except SandboxError as exc:
        _fail(box, exc)


@sandbox.command("start")
@click.argument("name")
@_dir_option
def start(name: str, directory: str) -> None:
    """Start one site or node again after kill or down, with its data."""
    box = _open(directory)
    _check_names(box, [name])
    try:
        seconds = box.start(name)
    except SandboxError as exc:
        _fail(box, exc)
    click.echo(f"{name}: up in {seconds:.1f} s")
