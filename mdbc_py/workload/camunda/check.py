"""After a Camunda run: every acknowledged instance completed exactly once, at every site.

Read at each site's own MariaDB (not through a proxy, which would route to
the owner), once every site has applied the whole log:

- every acknowledged start (business key) has exactly one process instance
  at every site, ``COMPLETED`` in Camunda's history;
- every step of every instance committed exactly once: one row per
  instance and step in ``so_marks``, which the step writes in the engine's
  own transaction (a step that ran twice would have left two rows, a step
  whose work was lost none);
- nothing is left running: no execution, job or incident in ``ACT_RU_*``;
- the sites are identical: the result of ``mdbc verify`` for the range
  (per-table checksums of owner and replicas at one log position).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import pymysql

from mdbc_py.config import Config
from mdbc_py.replication.verify import VerifyResult
from mdbc_py.workload.model import q

COMPLETED = "COMPLETED"
RUNTIME_TABLES = ("ACT_RU_EXECUTION", "ACT_RU_JOB", "ACT_RU_INCIDENT")


@dataclass
class CamundaReport:
    """What ``check`` found; ``ok`` when nothing is wrong."""

    sites: list[str]
    acknowledged: int
    steps: tuple[str, ...]
    states: Counter[str] = field(default_factory=Counter)
    missing: dict[str, list[str]] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)
    steps_lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    left_running: dict[str, int] = field(default_factory=dict)
    steps_once: int = 0
    tables_compared: int = 0
    tables_identical: int = 0
    verify_ok: bool = False
    verify_detail: str = ""

    @property
    def lost(self) -> int:
        """Acknowledged instances missing at some site, unfinished, or with a step lost."""
        missing = {k for keys in self.missing.values() for k in keys}
        return len(missing | set(self.unfinished) | {s.split()[0] for s in self.steps_lost})

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not (self.lost or self.twice or any(self.left_running.values())) and self.verify_ok

    def lines(self) -> list[str]:
        """Problems first, then the summary the verdict repeats (see ``summary``)."""
        out = [f"MISSING at {site}: {len(keys)} acknowledged instances, e.g. {keys[:3]}"
               for site, keys in self.missing.items()]  # fmt: skip
        if self.unfinished:
            out.append(f"UNFINISHED: {len(self.unfinished)} acknowledged instances, "
                       f"e.g. {self.unfinished[:3]}")  # fmt: skip
        if self.steps_lost:
            out.append(f"STEP LOST: {len(self.steps_lost)}, e.g. {self.steps_lost[:3]}")
        if self.twice:
            out.append(f"RAN TWICE: {len(self.twice)}, e.g. {self.twice[:3]}")
        out += [f"LEFT RUNNING: {n} rows in {t}" for t, n in self.left_running.items() if n]
        if not self.verify_ok:
            out.append(f"mdbc verify: {self.verify_detail}")
        return out + self.summary()

    def summary(self) -> list[str]:
        """The lines the verdict shows."""
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.states.items()))
        return [
            f"process instances acknowledged: {self.acknowledged} ({states or 'none'})",
            f"steps committed exactly once: {self.steps_once}/"
            f"{self.acknowledged * len(self.steps)} ({len(self.steps)} per instance)",
            f"lost: {self.lost}",
            f"tables identical at {len(self.sites)} sites: "
            f"{self.tables_identical}/{self.tables_compared}",
        ]


def _read(
    cfg: Config, site: str, db: str
) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """(business key -> states of its instances, (key, step) -> marks) at ``site``."""
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=5, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT `BUSINESS_KEY_`, `STATE_` FROM {q(db, 'ACT_HI_PROCINST')}")
            instances: dict[str, list[str]] = defaultdict(list)
            for key, state in cur.fetchall():
                instances[key].append(state)
            cur.execute(f"SELECT `business_key`, `step`, COUNT(*) FROM {q(db, 'so_marks')} "
                        "GROUP BY `business_key`, `step`")  # fmt: skip
            marks = {(k, s): int(n) for k, s, n in cur.fetchall()}
        return dict(instances), marks
    finally:
        conn.close()


def _left_running(cfg: Config, site: str, db: str) -> dict[str, int]:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=5, autocommit=True)
    try:
        with conn.cursor() as cur:
            found = {}
            for table in RUNTIME_TABLES:
                cur.execute(f"SELECT COUNT(*) FROM {q(db, table)}")
                found[table] = int(cur.fetchone()[0])
            return found
    finally:
        conn.close()


def _identity(report: CamundaReport, verified: VerifyResult) -> None:
    owner = verified.checksums.get(verified.owner, {})
    differing = {m.table for m in verified.mismatches}
    for tables in verified.missing_tables.values():
        differing.update(tables)
    report.tables_compared = len(owner)
    report.tables_identical = len(set(owner) - differing)
    report.verify_ok = verified.ok
    if not verified.ok:
        report.verify_detail = " | ".join(verified.describe().splitlines()[:8])


def check(
    cfg: Config,
    db: str,
    acknowledged: Collection[str],
    steps: Sequence[str],
    verified: VerifyResult,
) -> CamundaReport:
    """Run every check of the module docstring at every site of ``cfg``."""
    sites = list(cfg.sites)
    reference = verified.owner
    report = CamundaReport(sites=sites, acknowledged=len(acknowledged), steps=tuple(steps))
    _identity(report, verified)
    seen = {site: _read(cfg, site, db) for site in sites}
    instances, marks = seen[reference]
    for site in sites:
        absent = sorted(k for k in acknowledged if k not in seen[site][0])
        if absent:
            report.missing[site] = absent
    for key in sorted(acknowledged):
        states = instances.get(key, [])
        if states:
            report.states[states[0]] += 1
        if states and states[0] != COMPLETED:
            report.unfinished.append(key)
        for step in steps:
            if marks.get((key, step), 0) == 0 and states:
                report.steps_lost.append(f"{key} {step}")
            elif marks.get((key, step), 0) == 1:
                report.steps_once += 1
    report.twice = sorted(
        [f"{k}: {len(v)} instances" for k, v in instances.items() if len(v) > 1]
        + [f"{k} {s}: {n} times" for (k, s), n in marks.items() if n > 1]
    )
    report.left_running = _left_running(cfg, reference, db)
    return report
