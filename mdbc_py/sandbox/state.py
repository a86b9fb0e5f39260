"""The sandbox's record of what it started: one JSON file in the sandbox folder.

The file is the only link between ``mdbc sandbox up`` and a later ``down``,
``kill`` or ``status`` run from another process, so it is rewritten
atomically (write to a temporary file, then rename) after every change.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "sandbox.json"


@dataclass
class ServiceRecord:
    """One service of the sandbox: a MariaDB server (a site) or a Cassandra node."""

    name: str
    kind: str  # "mariadb" or "cassandra"
    host: str
    port: int
    home: str
    pid: int | None = None
    marker: str = ""
    startup_seconds: float | None = None
    started_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class SandboxState:
    """Everything the sandbox knows about the services it started."""

    directory: str
    password: str = field(default_factory=_new_password, repr=False)
    services: dict[str, ServiceRecord] = field(default_factory=dict)
    secure: bool = False
    """Made with ``--secure``: TLS and authentication on every service (it stays so)."""
    store_password: str = field(default_factory=_new_password, repr=False)
    """Password of the ``mdbc`` Cassandra role of a secure sandbox."""
    store_admin_password: str = field(default_factory=_new_password, repr=False)
    """Password of the sandbox's Cassandra superuser role (``mdbc_admin``)."""

    @classmethod
    def load(cls, directory: Path) -> SandboxState:
        """Read the state of the sandbox in ``directory`` (a fresh one if none)."""
        path = directory / STATE_FILE
        if not path.is_file():
            return cls(directory=str(directory))
        raw = json.loads(path.read_text(encoding="utf-8"))
        services = {n: ServiceRecord(**s) for n, s in raw.get("services", {}).items()}
        state = cls(directory=str(directory), password=raw["password"], services=services)
        state.secure = bool(raw.get("secure", False))
        # Older state files have no store passwords: keep the fresh ones made above.
        state.store_password = raw.get("store_password") or state.store_password
        state.store_admin_password = raw.get("store_admin_password") or state.store_admin_password
        return state

    def secrets(self) -> tuple[str, ...]:
        """Every password this sandbox made (for output filters and secret scans)."""
        return (self.password, self.store_password, self.store_admin_password)

    def save(self) -> None:
        """Write the state atomically, readable by its owner only (it holds passwords)."""
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (STATE_FILE + ".tmp")
        data = {
            "password": self.password,
            "secure": self.secure,
            "store_password": self.store_password,
            "store_admin_password": self.store_admin_password,
            "services": {n: asdict(s) for n, s in sorted(self.services.items())},
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        tmp.replace(directory / STATE_FILE)

    def of_kind(self, kind: str) -> list[ServiceRecord]:
        """The services of one kind, in name order (dc1, dc2 ...; node1, node2 ...)."""
        return sorted(
            (s for s in self.services.values() if s.kind == kind),
            key=lambda s: (len(s.name), s.name),
        )
