"""The one history checker of the failure tests: what was promised, against what exists.

Writer processes (``tests.chaos.writer``) record every attempt's outcome:
acknowledged, refused (a DB-API error that proves nothing happened) or
unknown (the commit may or may not have happened). Once the sites have
caught up, :func:`check` reads every site's own MariaDB (not through the
driver, which would route to the owner) and the store's log, and finds:

- **lost**: an acknowledged transaction missing at some site (RPO 0);
- **duplicated**: a transaction whose row exists more than once at a site
  (the table's key is an AUTO_INCREMENT number, not the transaction id, so
  a transaction applied twice would show);
- **refused but present**: a refusal that lied (something was kept);
- **unknown and partial**: an unknown outcome present at some sites only
  (it must be all or nothing);
- **phantoms**: rows of transactions no writer ever started;
- **stale-epoch entries**: a log entry appended with epoch E after the
  fence to E+1 (a split brain, seen in the log itself, clock-free);
- **late acknowledgements**: a commit acknowledged at a site that had been
  fenced before the commit began (the pause and partition tests name the
  site and the fence time);
- **checksum differences**: ``verify_range`` (what ``mdbc verify`` runs)
  compares every table of the range at one sequence number.

The report prints "acknowledged N, refused N, unknown N (...), lost N,
duplicated N", so ``pytest -s`` and the CI log show the counts of each run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from mdbc_py.config import Config
from mdbc_py.errors import TrimmedError
from mdbc_py.music import MusicStore
from mdbc_py.replication.verify import SiteState, verify_range
from mdbc_py.workload.check import wait_caught_up

HISTORY_TABLE_DDL = (
    "CREATE TABLE `{table}` (seq BIGINT AUTO_INCREMENT PRIMARY KEY, tx VARCHAR(64) NOT NULL, "
    "writer VARCHAR(32) NOT NULL, v VARCHAR(200), KEY (tx))"
)
"""The table writers insert into: one row per transaction, keyed apart from its id."""

OUTCOMES = ("ack", "refused", "unknown")


@dataclass
class Attempt:
    """One transaction of one writer, as the writer recorded it."""

    tx: str
    started: float
    outcome: str = "unknown"  # no end line: the process died or was killed mid-way
    ended: float | None = None
    commit_at: float | None = None
    site: str | None = None
    error: str | None = None


def load_attempts(paths: Iterable[Path]) -> dict[str, Attempt]:
    """Every attempt recorded in the writers' files (an id appears in one file only)."""
    attempts: dict[str, Attempt] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.endswith("}"):  # a line cut short by a kill -9
                continue
            rec = json.loads(line)
            if rec["ev"] == "start":
                attempts[rec["tx"]] = Attempt(rec["tx"], rec["t"])
            elif rec["ev"] == "end":
                a = attempts[rec["tx"]]
                a.outcome, a.ended = rec["outcome"], rec["t"]
                a.commit_at, a.site, a.error = (
                    rec.get("commit_at"),
                    rec.get("site"),
                    rec.get("error"),
                )
    return attempts


def rows_at(cfg: Config, site: str, db: str, table: str) -> Counter[str]:
    """How many rows of each transaction id ``site``'s own database holds."""
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT tx, COUNT(*) FROM `{db}`.`{table}` GROUP BY tx")
            return Counter({str(tx): int(n) for tx, n in cur.fetchall()})
    finally:
        conn.close()


def stale_epoch_entries(store: MusicStore, range_name: str) -> list[str]:
    """Log entries appended with an old epoch after a fence: each one is a split brain."""
    fences = store.history(range_name, limit=1000)
    info = store.describe_range(range_name)
    found: list[str] = []
    seq = info.trim_point + 1
    while True:
        try:
            page = store.read(range_name, seq, limit=1000)
        except TrimmedError:  # trimmed meanwhile: what is gone was checked by no one
            seq = store.describe_range(range_name).trim_point + 1
            continue
        for rec in page:
            for f in fences:
                if rec.seq > f.tail and rec.epoch < f.to_epoch:
                    found.append(f"entry {rec.seq} has epoch {rec.epoch}, appended after the "
                                 f"fence to epoch {f.to_epoch} at tail {f.tail}")  # fmt: skip
        if len(page) < 1000:
            return found
        seq = page[-1].seq + 1


@dataclass
class HistoryReport:
    """What :func:`check` found (see the module docstring); ``ok`` when nothing is wrong."""

    sites: list[str]
    counts: Counter[str] = field(default_factory=Counter)
    unknown_present: int = 0
    lost: dict[str, list[str]] = field(default_factory=dict)
    duplicated: dict[str, list[str]] = field(default_factory=dict)
    refused_present: dict[str, list[str]] = field(default_factory=dict)
    unknown_partial: list[str] = field(default_factory=list)
    phantoms: dict[str, list[str]] = field(default_factory=dict)
    stale_epoch: list[str] = field(default_factory=list)
    late_acks: list[str] = field(default_factory=list)
    verify_problems: list[str] = field(default_factory=list)

    @property
    def n_lost(self) -> int:
        return len({tx for txs in self.lost.values() for tx in txs})

    @property
    def n_duplicated(self) -> int:
        return len({tx for txs in self.duplicated.values() for tx in txs})

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.refused_present or self.unknown_partial
                    or self.phantoms or self.stale_epoch or self.late_acks
                    or self.verify_problems)  # fmt: skip

    def summary(self) -> str:
        unknown = self.counts["unknown"]
        return (
            f"acknowledged {self.counts['ack']}, refused {self.counts['refused']}, "
            f"unknown {unknown} ({self.unknown_present} present everywhere, "
            f"{unknown - self.unknown_present - len(self.unknown_partial)} nowhere"
            + (f", {len(self.unknown_partial)} PARTIAL" if self.unknown_partial else "")
            + "), "
            f"lost {self.n_lost}, duplicated {self.n_duplicated}"
        )

    def lines(self) -> list[str]:
        """Problems first (a few examples each), then the summary."""
        out = []
        for label, per_site in (
            ("LOST (acknowledged, missing)", self.lost),
            ("DUPLICATED", self.duplicated),
            ("REFUSED BUT PRESENT", self.refused_present),
            ("PHANTOM (never attempted)", self.phantoms),
        ):
            for site, txs in per_site.items():
                out.append(f"{label} at {site}: {len(txs)}, e.g. {txs[:5]}")
        if self.unknown_partial:
            out.append(f"UNKNOWN AT SOME SITES ONLY: {len(self.unknown_partial)}, "
                       f"e.g. {self.unknown_partial[:5]}")  # fmt: skip
        out += [f"STALE EPOCH: {s}" for s in self.stale_epoch[:5]]
        out += [f"LATE ACK: {s}" for s in self.late_acks[:5]]
        out += [f"VERIFY: {s}" for s in self.verify_problems]
        out.append(self.summary())
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def check(
    cfg: Config,
    store: MusicStore,
    range_name: str,
    files: Iterable[Path],
    table: str = "hist",
    fenced: Mapping[str, float] | None = None,
    timeout: float = 90.0,
) -> HistoryReport:
    """Wait for every site to catch up, then check the whole history (module docstring).

    ``fenced`` maps a site to the time (``time.time()``) it was fenced: a
    commit begun there after that time must not have been acknowledged.
    """
    db = cfg.ranges[range_name].database
    sites = sorted(cfg.sites)
    attempts = load_attempts(files)
    report = HistoryReport(sites=sites)
    report.counts.update(a.outcome for a in attempts.values())
    wait_caught_up(cfg, store, ranges=[range_name], sites=sites, timeout=timeout)
    present = {site: rows_at(cfg, site, db, table) for site in sites}
    for site, rows in present.items():
        acked = [tx for tx, a in attempts.items() if a.outcome == "ack" and rows[tx] == 0]
        if acked:
            report.lost[site] = sorted(acked)
        dup = sorted(tx for tx, n in rows.items() if n > 1)
        if dup:
            report.duplicated[site] = dup
        kept = sorted(tx for tx, a in attempts.items() if a.outcome == "refused" and rows[tx])
        if kept:
            report.refused_present[site] = kept
        phantom = sorted(tx for tx in rows if tx not in attempts)
        if phantom:
            report.phantoms[site] = phantom
    for tx, a in attempts.items():
        if a.outcome != "unknown":
            continue
        at = {site for site in sites if present[site][tx]}
        if at == set(sites):
            report.unknown_present += 1
        elif at:
            report.unknown_partial.append(f"{tx} at {sorted(at)} only")
    for site, when in (fenced or {}).items():
        report.late_acks += [
            f"{tx}: commit begun at {site} {a.commit_at - when:+.2f} s after its fence, "
            "acknowledged"
            for tx, a in sorted(attempts.items())
            if a.outcome == "ack" and a.site == site and a.commit_at and a.commit_at > when
        ]
    report.stale_epoch = stale_epoch_entries(store, range_name)
    result = verify_range(cfg, store, range_name, timeout=timeout)
    report.verify_problems = [
        f"{r.site} ({r.role}): {r.state.value} {r.detail}".strip()
        for r in result.sites.values()
        if r.state is not SiteState.OK
    ]
    print(f"[history] {range_name}: {report.summary()}", flush=True)
    return report
