"""Options and error handling shared by the ``mdbc`` commands.

Every command reaches its configuration, its sites and its failures through
this module, so that all of them answer the same way:

- exit 0: done (for ``status``: every site reachable and healthy);
- exit 1: the operation failed, or (``status``, ``verify``) something is
  unhealthy or unreachable; one line says what and what to do;
- exit 2: bad usage: an unknown option, range or site, or a configuration
  file that is missing, unreadable or invalid. One line, no traceback;
- exit 3 (``mdbc agent`` only): another agent already runs for the site
  (one agent per site, enforced through the store); nothing was done.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from mdbc_py.config import Config, load
from mdbc_py.errors import ConfigError, Error
from mdbc_py.metrics import server_tls

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class BadUsage(click.ClickException):
    """Bad usage found after parsing (e.g. an unusable config file): one line, exit 2.

    ``click.UsageError`` would print the usage block as well; a configuration
    problem is not about the command line's shape, so one line says it all.
    """

    exit_code = EXIT_USAGE


def config_option(func: F) -> F:
    """``-c/--config PATH`` (default: $MDBC_CONFIG, then ./mdbc.toml)."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        envvar="MDBC_CONFIG",
        default=None,
        help="mdbc.toml to use (default: $MDBC_CONFIG, then ./mdbc.toml).",
    )(func)


_secrets: set[str] = set()
"""Passwords of every configuration this process loaded: never printed (see ``safe``)."""


def safe(text: str) -> str:
    """``text``, or a line saying it was withheld if a configured password occurs in it.

    mdbc_py's own messages never carry a password, but an error passed up
    from a library or a server might echo one. Masking only the password
    would show where it occurred (and so give a short one away), so the
    whole text is withheld.
    """
    if any(secret in text for secret in _secrets):
        return "(message withheld: it contains a configured password)"
    return text


def remember_secrets(*values: str | None) -> None:
    """Add passwords this process knows (besides its configuration's) to what ``safe`` withholds."""
    _secrets.update(v for v in values if v)


def load_config(path: str | None) -> Config:
    """Load the configuration; a missing, unreadable or invalid file is bad usage (exit 2)."""
    try:
        cfg = load(path)
    except ConfigError as exc:
        raise BadUsage(str(exc)) from None
    except Error as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    remember_secrets(cfg.store.password, *(s.password for s in cfg.sites.values()))
    return cfg


def check_sites(cfg: Config, names: Iterable[str], param_hint: str = "--site") -> None:
    """Refuse a site the configuration does not name: bad usage, exit 2, for every command."""
    for name in names:
        if name not in cfg.sites:
            known = ", ".join(sorted(cfg.sites)) or "none"
            raise click.BadParameter(
                f"unknown site {name!r} (configured sites: {known})", param_hint=param_hint
            )


def check_ranges(cfg: Config, names: Iterable[str], param_hint: str = "RANGE") -> None:
    """Refuse a range the configuration does not name: bad usage, exit 2."""
    for name in names:
        if name not in cfg.ranges:
            known = ", ".join(sorted(cfg.ranges)) or "none"
            raise click.BadParameter(
                f"unknown range {name!r} (configured: {known})", param_hint=param_hint
            )


def say(message: str) -> None:
    """Progress for the operator on stderr (never a password: see ``safe``)."""
    click.echo(safe(message), err=True)


def fail_on_mdbc_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``; an mdbc_py or database error becomes one clear line.

    A ``ConfigError`` is about how the command was set up (an unknown site,
    an invalid configuration), so it exits 2 like any other bad usage;
    every other error is a failed operation and exits 1.
    """
    try:
        return call()
    except ConfigError as exc:
        raise BadUsage(f"{type(exc).__name__}: {safe(str(exc))}") from None
    except Error as exc:
        raise click.ClickException(f"{type(exc).__name__}: {safe(str(exc))}") from None


def metrics_tls_options(func: F) -> F:
    """``--metrics-tls-cert/-key/-client-ca``: HTTPS for the endpoints of an agent or a proxy."""
    options = [
        click.option(
            "--metrics-tls-cert",
            type=click.Path(exists=True, dir_okay=False),
            help="Serve the endpoints over HTTPS with this PEM certificate "
            "(needs --metrics-tls-key).",
        ),
        click.option("--metrics-tls-key", type=click.Path(exists=True, dir_okay=False)),
        click.option(
            "--metrics-tls-client-ca",
            type=click.Path(exists=True, dir_okay=False),
            help="With HTTPS: accept only scrapers whose certificate this CA signed.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def metrics_tls(cert: str | None, key: str | None, client_ca: str | None) -> ssl.SSLContext | None:
    """The server TLS context the ``--metrics-tls-*`` options ask for (None: plain HTTP)."""
    if bool(cert) != bool(key):
        raise click.UsageError("--metrics-tls-cert and --metrics-tls-key go together")
    if client_ca and not cert:
        raise click.UsageError("--metrics-tls-client-ca needs --metrics-tls-cert and -key")
    return server_tls(cert, key, client_ca) if cert and key else None
