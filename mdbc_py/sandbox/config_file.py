"""Write the ``mdbc.toml`` of a sandbox: its sites, its store and the SO ranges.

The file holds the sandbox's generated password, so it is created readable
by its owner only. TOML is written by hand (the standard library only reads
it) for the one fixed shape this file has.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mdbc_py.sandbox.state import SandboxState

SO_DATABASES = ("catalogdb", "camundabpmn", "requestdb")


def _toml_str(value: str) -> str:
    # A JSON string literal is a valid TOML basic string for the characters we write.
    return json.dumps(value)


def render_config(state: SandboxState) -> str:
    """The text of ``mdbc.toml`` for the services in ``state``."""
    sites = state.of_kind("mariadb")
    nodes = state.of_kind("cassandra")
    lines = [
        "# Written by 'mdbc sandbox up'. It names this sandbox's sites and MUSIC store.",
        "# It holds the sandbox password: keep it private.",
        'mode = "master-slave"',
        "",
        "[store]",
    ]
    if nodes:
        rf = min(3, len(nodes))
        lines += [
            'backend = "cassandra"',
            f"contact_points = [{', '.join(_toml_str(n.host) for n in nodes)}]",
            f"port = {nodes[0].port}",
            'keyspace = "mdbc"',
            f'replication = {{ class = "SimpleStrategy", replication_factor = {rf} }}',
        ]
    else:
        lines += ['backend = "embedded"', 'path = "music.sqlite"']
    for site in sites:
        lines += [
            "",
            f"[sites.{site.name}]",
            f"host = {_toml_str(site.host)}",
            f"port = {site.port}",
            'user = "mdbc"',
            f"password = {_toml_str(state.password)}",
        ]
    first = sites[0].name if sites else None
    for db in SO_DATABASES:
        lines += ["", f"[ranges.{db}]", f"database = {_toml_str(db)}"]
        if first:
            lines.append(f"initial_owner = {_toml_str(first)}")
    return "\n".join(lines) + "\n"


def write_config(path: Path, state: SandboxState) -> None:
    """Write ``mdbc.toml`` atomically with mode 0600."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(render_config(state))
    tmp.replace(path)
