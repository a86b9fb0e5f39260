"""Entrypoint of the mdbc containers of docker-compose.yml: add the password, then run mdbc.

``mdbc.toml`` (mounted read-only) holds no password, so it can be committed. This
reads it, sets the password of every site's account from ``MDBC_DB_PASSWORD``
(the compose env file, never committed), writes the result with mode 0600 to a
private folder in ``/tmp`` and runs ``mdbc`` with the container's arguments and
``MDBC_CONFIG`` pointing at it. The password is never printed.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from mdbc_py.config import Config, load, save

TEMPLATE = os.environ.get("MDBC_CONFIG_TEMPLATE", "/etc/mdbc/mdbc.toml")


def with_password(cfg: Config, password: str) -> Config:
    """``cfg`` with ``password`` for every site's account."""
    sites = {n: dataclasses.replace(s, password=password) for n, s in cfg.sites.items()}
    return dataclasses.replace(cfg, sites=sites)


def main(argv: list[str]) -> None:
    password = os.environ.get("MDBC_DB_PASSWORD", "")
    if not password:
        sys.exit(
            "MDBC_DB_PASSWORD is not set: copy deploy/compose/compose.env.example to "
            "deploy/compose/compose.env, set the passwords, and run "
            "'docker compose --env-file deploy/compose/compose.env ...'"
        )
    private = Path(tempfile.mkdtemp(prefix="mdbc-"))  # mode 0700
    target = save(with_password(load(TEMPLATE), password), private / "mdbc.toml")
    os.environ["MDBC_CONFIG"] = str(target)
    os.execvp("mdbc", ["mdbc", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
