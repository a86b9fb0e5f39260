"""Write the ``mdbc.toml`` of a sandbox: its sites, its store and the SO ranges.

The file of a plain sandbox holds the generated password, so it is created
readable by its owner only. A ``--secure`` sandbox's file holds no secret:
it names password files under ``secrets/`` (mode 0600), the way a deployment
keeps ``mdbc.toml`` in a ConfigMap and mounts its Secrets, plus the TLS
files under ``tls/`` and the store's role. TOML is written by hand (the
standard library only reads it) for the one fixed shape this file has.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mdbc_py.sandbox.state import SandboxState

SO_DATABASES = ("catalogdb", "camundabpmn", "requestdb")
SITE_SECRET = "secrets/mdbc-site-password"
STORE_SECRET = "secrets/mdbc-store-password"
STORE_USER = "mdbc"
CLIENT_TLS = ('ca = "tls/ca.pem"', 'cert = "tls/client.pem"', 'key = "tls/client.key"')


def _toml_str(value: str) -> str:
    # A JSON string literal is a valid TOML basic string for the characters we write.
    return json.dumps(value)


def render_config(state: SandboxState) -> str:
    """The text of ``mdbc.toml`` for the services in ``state``."""
    sites = state.of_kind("mariadb")
    nodes = state.of_kind("cassandra")
    privacy = (
        "# It holds no secret: the passwords are in secrets/, the TLS files in tls/."
        if state.secure
        else "# It holds the sandbox password: keep it private."
    )
    lines = [
        "# Written by 'mdbc sandbox up'. It names this sandbox's sites and MUSIC store.",
        privacy,
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
        if state.secure:
            lines += [
                f"username = {_toml_str(STORE_USER)}",
                f"password_file = {_toml_str(STORE_SECRET)}",
                "",
                "[store.tls]",
                *CLIENT_TLS,
                "check_hostname = true",
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
        ]
        if state.secure:
            lines += [
                f"password_file = {_toml_str(SITE_SECRET)}",
                "",
                f"[sites.{site.name}.tls]",
                *CLIENT_TLS,
                "verify = true",
            ]
        else:
            lines.append(f"password = {_toml_str(state.password)}")
    first = sites[0].name if sites else None
    for db in SO_DATABASES:
        lines += ["", f"[ranges.{db}]", f"database = {_toml_str(db)}"]
        if first:
            lines.append(f"initial_owner = {_toml_str(first)}")
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    tmp.replace(path)


def write_config(path: Path, state: SandboxState) -> None:
    """Write ``mdbc.toml`` atomically with mode 0600 (and a secure sandbox's password files)."""
    if state.secure:
        _write_private(path.parent / SITE_SECRET, state.password)
        _write_private(path.parent / STORE_SECRET, state.store_password)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(render_config(state))
    tmp.replace(path)
