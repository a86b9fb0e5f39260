"""Load the SO schemas through the mdbc_py driver, and seed what SO expects to find.

A schema goes in statement by statement through an mdbc_py connection at
the range's owner, never through a side door: each ``CREATE TABLE`` then
runs at the owner, becomes a DDL entry of the range's log (so every
replica creates the same table in the same order) and gets its capture
triggers at once, so the next transaction on it is replicated too.

The seed data is what an SDC distribution and a Camunda deployment leave
behind before the first request: the default service and its
``createInstance`` recipe in the catalog, the deployed process definition
in the Camunda database, and the site rows of the request DB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mdbc_py
from mdbc_py.config import Config
from mdbc_py.core.runtime import Runtime
from mdbc_py.workload.model import (
    BUILDING_BLOCKS,
    ORCHESTRATION_URI,
    PROCESS_KEY,
    SERVICE_MODEL_NAME,
    SoDatabases,
    derived_id,
    now,
    q,
)
from mdbc_py.workload.session import DbSession

SCHEMA_DIR = Path(__file__).resolve().parent / "sql"
"""The SO schema files (catalogdb.sql, requestdb.sql, camundabpmn.sql), shipped in the
package so that an installed wheel can run the demo; ``schemas/`` links to them."""

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def split_statements(text: str) -> list[str]:
    """The SQL statements of ``text``, comments removed, without their ``;``.

    Quotes (``'``, ``"``, backquotes) are honoured, so a ``;`` or ``--``
    inside a string or identifier does not split or truncate a statement.
    """
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < n:
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
            buf.append(ch)
        elif ch == "#" or (
            text.startswith("--", i) and text[i + 2 : i + 3] in ("", " ", "\t", "\r", "\n")
        ):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            buf.append(" ")
            continue
        elif ch == ";":
            statements.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    statements.append("".join(buf).strip())
    return [s for s in statements if s]


def schema_path(name: str) -> Path:
    """The schema file of SO database ``name`` (``catalogdb``, ``requestdb``, ``camundabpmn``)."""
    path = SCHEMA_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SO schema {name!r}: {path} does not exist")
    return path


def range_of(cfg: Config, database: str) -> str:
    """The name of the range that holds the whole of ``database``."""
    for rng in cfg.ranges.values():
        if rng.database == database and rng.tables is None:
            return rng.name
    raise ValueError(f"no range of the configuration holds database {database!r}")


def owner_of(cfg: Config, database: str) -> str:
    """The site that owns the range of ``database`` now (asked of the store)."""
    info = Runtime.for_config(cfg).owner(range_of(cfg, database), fresh=True)
    if info.owner is None:
        raise ValueError(f"range of database {database!r} has no owner; run 'mdbc init'")
    return str(info.owner)


def load_schema(
    cfg: Config, database: str, path: str | Path, site: str | None = None, say: Say = _quiet
) -> list[str]:
    """Run every statement of ``path`` in ``database`` at its owner (or ``site``).

    Returns the statements run. Each one is a logged DDL entry; a statement
    MariaDB refuses raises its error and nothing after it runs.
    """
    statements = split_statements(Path(path).read_text(encoding="utf-8"))
    at = site or owner_of(cfg, database)
    conn = mdbc_py.connect(site=at, config=cfg, database=database, autocommit=True)
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
    finally:
        conn.close()
    say(f"schema {Path(path).stem}: {len(statements)} statements loaded into {database} at {at}")
    return statements


def load_so_schemas(
    cfg: Config, dbs: SoDatabases | None = None, site: str | None = None, say: Say = _quiet
) -> dict[str, list[str]]:
    """Load the three SO schemas into their databases (see ``load_schema``)."""
    dbs = dbs or SoDatabases()
    return {
        database: load_schema(cfg, database, schema_path(name), site, say)
        for name, database in dbs.by_schema().items()
    }


@contextlib.contextmanager
def _session(cfg: Config, database: str) -> Iterator[DbSession]:
    session = DbSession(cfg, owner_of(cfg, database), database)
    try:
        yield session
    finally:
        session.close()


HEAT_TEMPLATE = (
    "heat_template_version: 2013-05-23\n"
    "description: base module of the demo VNF (é, ü: latin1 text)\n"
    "parameters:\n  vnf_name: {type: string}\n  flavor: {type: string, default: m1.small}\n"
    "resources:\n  server:\n    type: OS::Nova::Server\n"
)

BPMN_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
    f'<bpmn:process id="{PROCESS_KEY}" isExecutable="true">'
    + "".join(f'<bpmn:serviceTask id="{bb}" camunda:asyncAfter="true"/>' for bb in BUILDING_BLOCKS)
    + "</bpmn:process></bpmn:definitions>\n"
)


def process_definition_id() -> str:
    """The deployed process's id: Camunda's ``key:version:id``, or the bare id if that
    is longer than the 64 characters of ``ID_`` (as Camunda does)."""
    generated = derived_id("procdef", PROCESS_KEY)
    full = f"{PROCESS_KEY}:1:{generated}"
    return full if len(full) <= 64 else generated


def _seed_catalog(db: str) -> Callable[[Any], None]:
    service = derived_id("service", SERVICE_MODEL_NAME)
    template = derived_id("heat_template", "base")
    vnf = derived_id("vnf_resource", "demo")

    def work(cur: Any) -> None:
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'service')} (`MODEL_UUID`, `MODEL_NAME`, "
            "`MODEL_INVARIANT_UUID`, `MODEL_VERSION`, `DESCRIPTION`, `SERVICE_TYPE`) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (service, SERVICE_MODEL_NAME, derived_id("invariant", SERVICE_MODEL_NAME), "1.0",
             "Default service for VID to use for infra APIH orchestration", "DEMO"),
        )  # fmt: skip
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'service_recipe')} (`ACTION`, `VERSION_STR`, "
            "`DESCRIPTION`, `ORCHESTRATION_URI`, `RECIPE_TIMEOUT`, `SERVICE_MODEL_UUID`) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            ("createInstance", "1", "recipe to create a service instance", ORCHESTRATION_URI,
             180, service),
        )  # fmt: skip
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'heat_template')} (`ARTIFACT_UUID`, `NAME`, `VERSION`, "
            "`BODY`, `TIMEOUT_MINUTES`) VALUES (%s, %s, %s, %s, %s)",
            (template, "base_demo.yaml", "1", HEAT_TEMPLATE, 60),
        )
        cur.executemany(
            f"INSERT IGNORE INTO {q(db, 'heat_template_params')} (`HEAT_TEMPLATE_ARTIFACT_UUID`, "
            "`PARAM_NAME`, `IS_REQUIRED`, `PARAM_TYPE`) VALUES (%s, %s, %s, %s)",
            [(template, "vnf_name", b"\x01", "string"), (template, "flavor", b"\x00", "string")],
        )
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'vnf_resource')} (`MODEL_UUID`, `MODEL_VERSION`, "
            "`MODEL_NAME`, `HEAT_TEMPLATE_ARTIFACT_UUID`) VALUES (%s, %s, %s, %s)",
            (vnf, "1.0", "demoVNF", template),
        )
        cur.executemany(
            f"INSERT IGNORE INTO {q(db, 'building_block_detail')} (`BUILDING_BLOCK_NAME`, "
            "`RESOURCE_TYPE`, `TARGET_ACTION`) VALUES (%s, %s, %s)",
            [(bb, "VNF" if "Vnf" in bb else "SERVICE", "ACTIVATE" if "Activate" in bb else "ASSIGN")
             for bb in BUILDING_BLOCKS],
        )  # fmt: skip

    return work


def _seed_camunda(db: str) -> Callable[[Any], None]:
    deployment = derived_id("deployment", PROCESS_KEY)
    procdef = process_definition_id()

    def work(cur: Any) -> None:
        cur.executemany(
            f"INSERT IGNORE INTO {q(db, 'ACT_GE_PROPERTY')} (`NAME_`, `VALUE_`, `REV_`) "
            "VALUES (%s, %s, 1)",
            [("schema.version", "7.16.0"), ("schema.history", "create(7.16.0)"),
             ("next.dbid", "1"), ("deployment.lock", "0"), ("startup.lock", "0")],
        )  # fmt: skip
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'ACT_RE_DEPLOYMENT')} (`ID_`, `NAME_`, `DEPLOY_TIME_`, "
            "`SOURCE_`) VALUES (%s, %s, %s, %s)",
            (deployment, "mso-bpmn-infra", now(), "process application"),
        )
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'ACT_GE_BYTEARRAY')} (`ID_`, `REV_`, `NAME_`, "
            "`DEPLOYMENT_ID_`, `BYTES_`, `GENERATED_`, `TYPE_`, `CREATE_TIME_`) "
            "VALUES (%s, 1, %s, %s, %s, 0, 1, %s)",
            (derived_id("bpmn", PROCESS_KEY), f"{PROCESS_KEY}.bpmn", deployment,
             BPMN_XML.encode(), now()),
        )  # fmt: skip
        cur.execute(
            f"INSERT IGNORE INTO {q(db, 'ACT_RE_PROCDEF')} (`ID_`, `REV_`, `NAME_`, `KEY_`, "
            "`VERSION_`, `DEPLOYMENT_ID_`, `RESOURCE_NAME_`, `HAS_START_FORM_KEY_`, "
            "`SUSPENSION_STATE_`, `HISTORY_TTL_`) VALUES (%s, 1, %s, %s, 1, %s, %s, 0, 1, %s)",
            (procdef, PROCESS_KEY, PROCESS_KEY, deployment, f"{PROCESS_KEY}.bpmn", 30),
        )
        cur.executemany(
            f"INSERT IGNORE INTO {q(db, 'ACT_RU_JOBDEF')} (`ID_`, `REV_`, `PROC_DEF_ID_`, "
            "`PROC_DEF_KEY_`, `ACT_ID_`, `JOB_TYPE_`, `JOB_CONFIGURATION_`, `SUSPENSION_STATE_`, "
            "`DEPLOYMENT_ID_`) VALUES (%s, 1, %s, %s, %s, 'async-continuation', "
            "'async-after', 1, %s)",
            [(derived_id("jobdef", bb), procdef, PROCESS_KEY, bb, deployment)
             for bb in ("StartEvent_1", *BUILDING_BLOCKS)],
        )  # fmt: skip

    return work


def _seed_requests(db: str, sites: list[str]) -> Callable[[Any], None]:
    def work(cur: Any) -> None:
        cur.executemany(
            f"INSERT IGNORE INTO {q(db, 'site_status')} (`SITE_NAME`, `STATUS`) VALUES (%s, %s)",
            [(site, b"\x01") for site in sites],
        )

    return work


def seed_so_data(cfg: Config, dbs: SoDatabases | None = None, say: Say = _quiet) -> None:
    """Write the catalog, Camunda and request DB rows the workload needs (idempotent)."""
    dbs = dbs or SoDatabases()
    for database, work in (
        (dbs.catalog, _seed_catalog(dbs.catalog)),
        (dbs.camunda, _seed_camunda(dbs.camunda)),
        (dbs.request, _seed_requests(dbs.request, list(cfg.sites))),
    ):
        with _session(cfg, database) as session:
            session.transaction(work)
    say("seed: default service and recipe, deployed process definition, site rows")
