"""After a run: prove that nothing acknowledged was lost and every site agrees.

Checked, reading each site's own MariaDB (not through the driver, which
would route to the owner):

- every acknowledged request is in ``infra_active_requests`` at every site,
  and every request has the same status and progress at every site;
- no job was lost: every acknowledged request reached a final state
  (COMPLETE or FAILED), no runnable job is left in ``ACT_RU_JOB``, and the
  request's status agrees with its process instance in the Camunda history;
- every table of the three SO databases has the same ``CHECKSUM TABLE`` at
  every site (replicas converge byte for byte).

Run it once every site has applied the whole log (``wait_caught_up``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pymysql
from pymysql.connections import Connection

from mdbc_py.config import Config
from mdbc_py.core import positions
from mdbc_py.music import MusicStore
from mdbc_py.mysql_errors import NO_SUCH_TABLE_OR_DB, errno
from mdbc_py.workload.model import COMPLETE, FINAL_STATES, SoDatabases, q


@contextmanager
def _site(cfg: Config, site: str) -> Iterator[Connection]:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=3, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def applied_positions(cfg: Config, range_name: str, sites: Collection[str]) -> dict[str, int]:
    """The contiguous applied position of ``range_name`` at each site, read there."""
    found = {}
    for site in sites:
        with _site(cfg, site) as conn, conn.cursor() as cur:
            found[site] = positions.read(cur, range_name).contiguous
    return found


def wait_caught_up(
    cfg: Config,
    store: MusicStore,
    ranges: Collection[str] | None = None,
    sites: Collection[str] | None = None,
    timeout: float = 60.0,
) -> dict[str, int]:
    """Wait until every site has applied every range's whole log; return the tails.

    Raises TimeoutError naming the sites and positions that lag.
    """
    ranges = list(ranges or cfg.ranges)
    sites = list(sites or cfg.sites)
    deadline = time.monotonic() + timeout
    while True:
        tails = {r: store.describe_range(r).tail for r in ranges}
        behind = {}
        for r in ranges:
            pos = applied_positions(cfg, r, sites)
            lagging = {s: p for s, p in pos.items() if p < tails[r]}
            if lagging:
                behind[r] = lagging
        if not behind:
            return tails
        if time.monotonic() > deadline:
            raise TimeoutError(f"sites not caught up after {timeout:.0f} s: tails {tails}, "
                               f"behind {behind}")  # fmt: skip
        time.sleep(0.2)


@dataclass
class CheckReport:
    """What ``check`` found; ``ok`` when nothing is wrong."""

    sites: list[str]
    acknowledged: int
    states: Counter[str] = field(default_factory=Counter)
    missing: dict[str, list[str]] = field(default_factory=dict)
    differing: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    jobs_left: int = 0
    process_mismatch: list[str] = field(default_factory=list)
    table_mismatch: list[str] = field(default_factory=list)
    tables_compared: int = 0

    @property
    def lost(self) -> int:
        """Acknowledged requests missing at some site or never finished."""
        missing = {r for ids in self.missing.values() for r in ids}
        return len(missing | set(self.unfinished))

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not (self.lost or self.differing or self.jobs_left or self.process_mismatch
                    or self.table_mismatch)  # fmt: skip

    def lines(self) -> list[str]:
        """The report as short lines, problems first."""
        out = []
        for site, ids in self.missing.items():
            out.append(f"MISSING at {site}: {len(ids)} acknowledged requests, e.g. {ids[:3]}")
        if self.differing:
            out.append(f"DIFFERENT between sites: {len(self.differing)} requests, "
                       f"e.g. {self.differing[:3]}")  # fmt: skip
        if self.unfinished:
            out.append(f"UNFINISHED: {len(self.unfinished)} acknowledged requests, "
                       f"e.g. {self.unfinished[:3]}")  # fmt: skip
        if self.jobs_left:
            out.append(f"JOBS LEFT: {self.jobs_left} runnable jobs in ACT_RU_JOB")
        if self.process_mismatch:
            out.append(f"STATE MISMATCH request vs process: {len(self.process_mismatch)}, "
                       f"e.g. {self.process_mismatch[:3]}")  # fmt: skip
        out += [f"TABLE DIFFERS: {m}" for m in self.table_mismatch[:10]]
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.states.items()))
        out.append(f"requests acknowledged: {self.acknowledged} ({states or 'none'})")
        out.append(f"lost: {self.lost}")
        same = self.tables_compared - len(self.table_mismatch)
        out.append(f"tables identical at {len(self.sites)} sites: {same}/{self.tables_compared}")
        return out


"""Unknown database, unknown table: a site that never received the schema holds nothing."""


def _requests(conn: Connection, db: str) -> dict[str, tuple[str | None, int | None]]:
    with conn.cursor() as cur:
        try:
            cur.execute(f"SELECT `REQUEST_ID`, `REQUEST_STATUS`, `PROGRESS` "
                        f"FROM {q(db, 'infra_active_requests')}")  # fmt: skip
        except pymysql.err.ProgrammingError as exc:
            if errno(exc) in NO_SUCH_TABLE_OR_DB:
                return {}
            raise
        return {r[0]: (r[1], None if r[2] is None else int(r[2])) for r in cur.fetchall()}


def _processes(conn: Connection, db: str) -> tuple[dict[str, str], int]:
    with conn.cursor() as cur:
        try:
            cur.execute(f"SELECT `BUSINESS_KEY_`, `STATE_` FROM {q(db, 'ACT_HI_PROCINST')}")
        except pymysql.err.ProgrammingError as exc:
            if errno(exc) in NO_SUCH_TABLE_OR_DB:
                return {}, 0
            raise
        states = {r[0]: r[1] for r in cur.fetchall()}
        cur.execute(f"SELECT COUNT(*) FROM {q(db, 'ACT_RU_JOB')} WHERE `RETRIES_` > 0")
        return states, int(cur.fetchone()[0])


def _checksums(conn: Connection, db: str) -> dict[str, int | None]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT `TABLE_NAME` FROM `information_schema`.`TABLES` WHERE `TABLE_SCHEMA` = %s "
            "AND `TABLE_TYPE` = 'BASE TABLE' AND `TABLE_NAME` NOT LIKE 'mdbc\\_%%'",
            (db,),
        )
        tables = sorted(r[0] for r in cur.fetchall())
        sums: dict[str, int | None] = {}
        for table in tables:
            cur.execute(f"CHECKSUM TABLE {q(db, table)}")
            row = cur.fetchone()
            sums[table] = None if row is None or row[1] is None else int(row[1])
        return sums


def check(
    cfg: Config,
    dbs: SoDatabases,
    acknowledged: Collection[str],
    sites: Collection[str] | None = None,
) -> CheckReport:
    """Run every check of the module docstring at ``sites`` (default: all)."""
    sites = list(sites or cfg.sites)
    report = CheckReport(sites=sites, acknowledged=len(acknowledged))
    requests: dict[str, dict[str, tuple[str | None, int | None]]] = {}
    sums: dict[str, dict[str, dict[str, int | None]]] = {}
    processes: dict[str, str] = {}
    for i, site in enumerate(sites):
        with _site(cfg, site) as conn:
            requests[site] = _requests(conn, dbs.request)
            sums[site] = {db: _checksums(conn, db) for db in dbs.all()}
            if i == 0:
                processes, report.jobs_left = _processes(conn, dbs.camunda)
    reference = requests[sites[0]]
    for site in sites:
        absent = sorted(r for r in acknowledged if r not in requests[site])
        if absent:
            report.missing[site] = absent
        if site != sites[0]:
            keys = reference.keys() | requests[site].keys()
            report.differing += [r for r in keys if reference.get(r) != requests[site].get(r)]
    report.differing = sorted(set(report.differing))
    for request_id in acknowledged:
        status = reference.get(request_id, (None, None))[0]
        if status is None:
            continue
        report.states[status] += 1
        if status not in FINAL_STATES:
            report.unfinished.append(request_id)
        elif (status == COMPLETE) != (processes.get(request_id) == "COMPLETED"):
            report.process_mismatch.append(request_id)
    for db, tables in sums[sites[0]].items():
        for table in tables:
            report.tables_compared += 1
            seen = {site: sums[site].get(db, {}).get(table, -1) for site in sites}
            if len(set(seen.values())) > 1:
                report.table_mismatch.append(f"{db}.{table}: {seen}")
    return report
