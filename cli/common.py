"""Options and error handling shared by the ``mdbc`` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from mdbc_py.config import Config, load
from mdbc_py.errors import Error

F = TypeVar("F", bound=Callable[..., Any])


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


def load_config(path: str | None) -> Config:
    """Load the configuration, turning a ConfigError into a one-line CLI error."""
    try:
        return load(path)
    except Error as exc:
        raise click.ClickException(str(exc)) from None


def fail_on_mdbc_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``; an mdbc_py or database error becomes one clear line and exit code 1."""
    try:
        return call()
    except Error as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
