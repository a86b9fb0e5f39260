"""resync_site against real sites: replay, full rebuild from a snapshot, and refusals."""

from __future__ import annotations

import time

import pytest

from mdbc_py import capture
from mdbc_py.core import positions
from mdbc_py.errors import ConfigError, TrimmedError, UnknownRangeError
from mdbc_py.replication.resync import (
    NeedsFullResyncError,
    ResyncRefusedError,
    SiteUnreachableError,
    resync_site,
)
from mdbc_py.replication.verify import SiteState, verify_range

from .conftest import TABLES, Repl, with_dead_site

BIG = bytes(range(256)) * (48 * 1024)  # a 12 MiB LONGBLOB, every byte value


def site_position(repl: Repl, site: str) -> positions.Position:
    conn = repl.raw(site)
    with conn.cursor() as cur:
        return positions.read(cur, repl.name)


def row_counts(repl: Repl, site: str) -> dict[str, int]:
    conn = repl.raw(site, database=repl.name)
    out = {}
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT COUNT(*) FROM `{table}`")
            out[table] = cur.fetchone()[0]
    return out


def test_full_resync_rebuilds_an_empty_site(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 700, blob=BIG)
    repl.churn()
    tail = repl.tail()
    repl.catch_up("dc2")
    with repl.raw("dc1", database=repl.name).cursor() as cur:  # schema objects with no rows
        cur.execute("CREATE VIEW v_named AS SELECT id, name FROM parent WHERE name LIKE 'caf%'")
        cur.execute(
            "CREATE TRIGGER misc_default BEFORE INSERT ON misc FOR EACH ROW "
            "SET NEW.utf = COALESCE(NEW.utf, 'default')"
        )
    expected = row_counts(repl, "dc1")
    calls: list[tuple[int, int]] = []

    (result,) = resync_site(
        repl.cfg,
        repl.store,
        "dc3",
        [repl.name],
        full=True,
        progress=lambda d, t: calls.append((d, t)),
    )

    total = sum(expected.values())
    assert result.full and result.site == "dc3" and result.range_name == repl.name
    assert result.snapshot_seq == tail and result.position == tail
    assert result.rows_copied == total and result.applied_after == 0
    assert result.seconds > 0
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done) and len(calls) > 3
    assert {t for _, t in calls} == {total}
    assert row_counts(repl, "dc3") == expected
    assert site_position(repl, "dc3") == positions.Position(tail, frozenset())
    assert repl.store.applied_positions(repl.name)["dc3"].seq == tail
    assert capture.captured_tables(repl.raw("dc3"), repl.name) == sorted(TABLES)
    conn = repl.raw("dc3", database=repl.name)
    with conn.cursor() as cur:
        cur.execute("SELECT data FROM parent WHERE id = 1")
        assert cur.fetchone()[0] == BIG
        cur.execute("SELECT COUNT(*) FROM v_named")
        assert cur.fetchone()[0] == expected["parent"]
        cur.execute(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s "
            "AND TRIGGER_NAME NOT LIKE 'mdbc%%'",
            (repl.name,),
        )
        assert cur.fetchall() == (("misc_default",),)
    verdict = verify_range(repl.cfg, repl.store, repl.name)
    assert verdict.ok, verdict.describe()

    # The rebuilt site keeps replaying from there, exactly once.
    repl.write(1000, 30)
    repl.catch_up("dc2")
    assert repl.catch_up("dc3").position == repl.tail()
    verdict = verify_range(repl.cfg, repl.store, repl.name)
    assert verdict.ok, verdict.describe()


def test_full_resync_clears_the_targets_stage_and_legacy_shadows(repl: Repl) -> None:
    """Rows staged at the target belong to data the rebuild replaces: their shadows go."""
    repl.create_schema()
    repl.write(1, 20)
    repl.catch_up("dc2")
    stage = capture.stage_database(repl.name)
    with repl.raw("dc2", database=repl.name).cursor() as cur:
        cur.execute("INSERT INTO misc (k) VALUES ('written around the driver')")
        # What an older mdbc left: a shadow inside the application's database.
        cur.execute(f"CREATE TABLE mdbc_s_parent LIKE `{stage}`.mdbc_s_parent")
    assert capture.out_of_band(repl.raw("dc2"), repl.name, []) == {"misc": 1}

    resync_site(repl.cfg, repl.store, "dc2", [repl.name], full=True)

    look = repl.raw("dc2")
    assert capture.out_of_band(look, repl.name, []) == {}
    assert capture.captured_tables(look, repl.name) == sorted(TABLES)
    with look.cursor() as cur:
        cur.execute(f"SHOW TABLES FROM `{repl.name}`")
        assert sorted(n for (n,) in cur.fetchall()) == sorted(TABLES)
        cur.execute(f"SHOW TABLES FROM `{stage}`")
        assert sorted(n for (n,) in cur.fetchall()) == [f"mdbc_s_{t}" for t in sorted(TABLES)]
    repl.catch_up("dc3")
    verdict = verify_range(repl.cfg, repl.store, repl.name)
    assert verdict.ok, verdict.describe()


def test_a_site_behind_the_trim_point_needs_full_and_full_fixes_it(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 100)
    middle = repl.tail()
    repl.catch_up("dc2", upto=middle)
    repl.write(200, 100)
    repl.churn()
    tail = repl.tail()
    repl.catch_up("dc3")
    repl.store.set_applied("dc1", repl.name, tail)  # the owner's agent reports it
    time.sleep(1.5)
    for site in ("dc1", "dc3"):  # dc2 stays silent: trimming does not wait for it
        repl.store.heartbeat(site)
    trim_point = repl.store.trim(repl.name, stale_after=1.0)
    assert trim_point > middle
    assert "dc2" in repl.store.needs_resync(repl.name)
    with pytest.raises(TrimmedError):
        repl.catch_up("dc2")
    before = site_position(repl, "dc2")
    verdict = verify_range(repl.cfg, repl.store, repl.name, catch_up=True, timeout=10)
    assert verdict.sites["dc2"].state is SiteState.NEEDS_RESYNC and verdict.sites["dc3"].position
    assert not verdict.ok

    with pytest.raises(NeedsFullResyncError, match="--full"):
        resync_site(repl.cfg, repl.store, "dc2", [repl.name])
    assert site_position(repl, "dc2") == before

    (result,) = resync_site(repl.cfg, repl.store, "dc2", [repl.name], full=True)

    assert result.snapshot_seq == tail and result.position == tail
    assert "dc2" not in repl.store.needs_resync(repl.name)
    verdict = verify_range(repl.cfg, repl.store, repl.name)
    assert verdict.ok, verdict.describe()


def test_replay_resync_continues_from_the_sites_position(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 60)
    middle = repl.tail()
    repl.catch_up("dc2")
    repl.catch_up("dc3", upto=middle)
    repl.write(100, 60)
    tail = repl.tail()
    calls: list[tuple[int, int]] = []

    (result,) = resync_site(
        repl.cfg, repl.store, "dc3", [repl.name], progress=lambda d, t: calls.append((d, t))
    )

    assert not result.full and result.snapshot_seq is None and result.rows_copied == 0
    assert result.applied_after == tail - middle and result.position == tail
    assert calls[-1] == (tail - middle, tail - middle)
    repl.catch_up("dc2")
    verdict = verify_range(repl.cfg, repl.store, repl.name)
    assert verdict.ok, verdict.describe()


def test_a_site_marked_needs_resync_must_be_rebuilt(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 10)
    repl.catch_up("dc2")
    conn = repl.raw("dc2")
    with conn.cursor() as cur:
        positions.set_state(cur, f"needs-resync:{repl.name}", "DDL not logged")

    with pytest.raises(NeedsFullResyncError, match="DDL not logged"):
        resync_site(repl.cfg, repl.store, "dc2", [repl.name])
    resync_site(repl.cfg, repl.store, "dc2", [repl.name], full=True)

    with conn.cursor() as cur:
        assert positions.get_states(cur, [f"needs-resync:{repl.name}"]) == {}
    (result,) = resync_site(repl.cfg, repl.store, "dc2", [repl.name])
    assert result.applied_after == 0 and result.position == repl.tail()


def test_the_owner_and_unknown_names_are_refused_with_nothing_changed(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 10)
    tail = repl.tail()
    before = (row_counts(repl, "dc1"), site_position(repl, "dc1"))

    for full in (False, True):
        with pytest.raises(ResyncRefusedError, match=f"cannot resync the owner of {repl.name}"):
            resync_site(repl.cfg, repl.store, "dc1", [repl.name], full=full)
    with pytest.raises(ResyncRefusedError, match="owns every configured range"):
        resync_site(repl.cfg, repl.store, "dc1")
    with pytest.raises(UnknownRangeError):
        resync_site(repl.cfg, repl.store, "dc2", [repl.name, "rp_nosuchrange"], full=True)
    with pytest.raises(ConfigError):
        resync_site(repl.cfg, repl.store, "dc9", [repl.name])

    assert (row_counts(repl, "dc1"), site_position(repl, "dc1")) == before
    assert site_position(repl, "dc2") == positions.Position(0, frozenset())
    assert repl.tail() == tail


def test_unreachable_databases_are_refused_with_nothing_changed(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 10)
    repl.catch_up("dc3", upto=1)
    before = site_position(repl, "dc3")

    with pytest.raises(SiteUnreachableError, match=r"site 'dc2' \(.*\) is unreachable"):
        resync_site(with_dead_site(repl, "dc2"), repl.store, "dc2", [repl.name])
    with pytest.raises(SiteUnreachableError, match=r"site 'dc1' \(.*\) is unreachable"):
        resync_site(with_dead_site(repl, "dc1"), repl.store, "dc3", [repl.name], full=True)

    assert site_position(repl, "dc3") == before
