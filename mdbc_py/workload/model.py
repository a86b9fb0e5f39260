"""Names and constants the SO workload shares: databases, statuses, the flow, ids.

The three SO databases are named by configuration (tests use fresh names
for each run), so every statement qualifies its tables with the database
held in :class:`SoDatabases` instead of relying on a current database.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from mdbc_py.config import Config

SO_DATABASES = ("catalogdb", "requestdb", "camundabpmn")
"""The real names; each has its schema in ``mdbc_py/workload/sql/<name>.sql``."""

IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
FINAL_STATES = (COMPLETE, FAILED)

PROCESS_KEY = "CreateGenericALaCarteServiceInstance"
"""The BPMN process SO runs for a-la-carte "create service instance" requests."""

ORCHESTRATION_URI = f"/mso/async/services/{PROCESS_KEY}"

SERVICE_MODEL_NAME = "VID_DEFAULT"
"""The catalog's default service, whose createInstance recipe the API handler finds."""

BUILDING_BLOCKS = (
    "AssignServiceInstanceBB",
    "AssignVnfBB",
    "ActivateVnfBB",
    "ActivateServiceInstanceBB",
)
"""The flow's steps; a save point is committed after each (an async continuation)."""

_NAMESPACE = uuid.UUID("6f3c6b1e-0d7e-4c55-9a55-2a1f8d1d0c11")


def derived_id(*parts: str) -> str:
    """A stable id from ``parts``: a retried transaction writes the same rows again."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def now() -> datetime.datetime:
    """Local wall-clock time with millisecond precision (what DATETIME(3) keeps)."""
    t = datetime.datetime.now()
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def q(db: str, table: str) -> str:
    """A backquoted, database-qualified table name."""
    return f"`{db}`.`{table}`"


@dataclass(frozen=True)
class SoDatabases:
    """The database names of the three SO ranges in one configuration."""

    catalog: str = "catalogdb"
    request: str = "requestdb"
    camunda: str = "camundabpmn"

    def by_schema(self) -> dict[str, str]:
        """Schema name (``catalogdb`` ...) to the database it is loaded into."""
        return {"catalogdb": self.catalog, "requestdb": self.request, "camundabpmn": self.camunda}

    def all(self) -> tuple[str, str, str]:
        """The three database names."""
        return (self.catalog, self.request, self.camunda)

    def ranges(self, cfg: Config) -> dict[str, str]:
        """Database name to the name of the range that holds it in ``cfg``."""
        found: dict[str, str] = {}
        for rng in cfg.ranges.values():
            if rng.database in self.all() and rng.tables is None:
                found[rng.database] = rng.name
        missing = [db for db in self.all() if db not in found]
        if missing:
            raise ValueError(
                f"no range holds the whole of database(s) {', '.join(missing)}; "
                "configure one range per SO database"
            )
        return found
