"""PEP 249 compliance of mdbc_py, beside PyMySQL's on the same MariaDB server.

The reference is the ``dbapi20`` suite of the dbapi-compliance package. Both
drivers run the *same* subclass of it, differing only in ``driver`` and the
connect arguments, so every difference between the two classes' results is
a difference between the drivers:

- ``TestMdbcCompliance``: ``mdbc_py.connect(site=..., config=..., database=...)``
  on ``compat_dbapi_<s>``, a configured range, so every write of the suite
  goes through capture, the MUSIC log and the commit path;
- ``TestPyMySQLCompliance``: plain PyMySQL on ``compat_plain_<s>`` (not a
  range), the baseline.

Where the suite asks for something MySQL/MariaDB does not do the way the
spec's example database does, the shared class adapts it, for both drivers
alike, as PyMySQL's own suite does; ``ADAPTED`` lists every test and
hook that is overridden and why, and ``test_adapted_table_is_complete``
keeps that list honest. No test is skipped.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, ClassVar

import dbapi20
import pymysql
import pytest

import mdbc_py
from mdbc_py.config import Config, SiteConfig
from mdbc_py.log import Op, decode
from mdbc_py.music import open_store
from mdbc_py.sandbox import Sandbox
from tests.compat.conftest import SITE, CompatDatabases

PREFIX = dbapi20.DatabaseAPI20Test.table_prefix
SUITE_DDL1 = dbapi20.DatabaseAPI20Test.ddl1
"""The suite's own table: ``create table dbapi20test_booze (name varchar(20))``, no primary key."""

ADAPTED: dict[str, str] = {
    "ddl1": (
        "the suite's tables have no primary key, and mdbc_py refuses (by design) a table "
        "without one in a range, since its rows could not be captured; 'name' becomes the "
        "primary key, for both drivers so that they run identical SQL (the suite's own "
        "comment on test_None anticipates a first-column key). "
        "test_suite_table_without_primary_key checks the original statement separately"
    ),
    "ddl2": "as ddl1",
    "tearDown": "also drops the stored procedures the callproc and nextset tests create",
    "test_callproc": (
        "the suite calls the SQL function 'lower' as a procedure; MariaDB's CALL only runs "
        "stored procedures, so the test creates one returning LOWER(arg) as a result set, "
        "then runs the suite's assertions unchanged"
    ),
    "test_nextset": (
        "the suite leaves the procedure to the driver's test; it is created here as in "
        "PyMySQL's suite, and the empty result set MariaDB sends for the CALL statement "
        "itself is accepted before nextset() returns None"
    ),
    "test_fetchone": (
        "MariaDB answers every statement with a result (empty for INSERT and DDL), so "
        "fetchone() after them returns None instead of raising; that is asserted instead, "
        "everything else is the suite's test"
    ),
    "test_fetchall": "as test_fetchone: fetchall() after INSERT/DDL returns an empty sequence",
    "test_setoutputsize_basic": (
        "PyMySQL (and so mdbc_py, which mirrors its cursor) spells the no-op "
        "'setoutputsizes'; the test calls that spelling, then the suite's insert"
    ),
    "test_setoutputsize": (
        "the suite leaves it to the driver: the method does nothing for MariaDB drivers, "
        "so there is nothing more to check than test_setoutputsize_basic does"
    ),
}
"""Every method of the suite that the shared class overrides, with the reason."""

PROCEDURES = (f"{PREFIX}lower", "deleteme")


@pytest.mark.services
class _MariaDBCompliance(dbapi20.DatabaseAPI20Test):
    """The suite as it applies to any MariaDB driver; subclasses pick the driver."""

    __test__ = False

    driver: ModuleType
    refuses_tables_without_pk: ClassVar[bool] = False

    ddl1 = f"create table {PREFIX}booze (name varchar(20) primary key)"
    ddl2 = f"create table {PREFIX}barflys (name varchar(20) primary key, drink varchar(30))"
    lower_func = f"{PREFIX}lower"

    def connect_kwargs(self, cfg: Config, site: SiteConfig, dbs: CompatDatabases) -> dict[str, Any]:
        """The keyword arguments of ``driver.connect``."""
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def _services(
        self, running: Sandbox, compat_config: Config, compat_databases: CompatDatabases
    ) -> None:
        self.config = compat_config
        self.databases = compat_databases
        self.connect_kw_args = self.connect_kwargs(
            compat_config, compat_config.site(SITE), compat_databases
        )

    def tearDown(self) -> None:
        super().tearDown()
        con = self._connect()
        try:
            cur = con.cursor()
            for name in PROCEDURES:
                cur.execute(f"drop procedure if exists {name}")
            con.commit()
        finally:
            con.close()

    # -- adapted tests (see ADAPTED) ----------------------------------------------

    def test_callproc(self) -> None:
        con = self._connect()
        try:
            con.cursor().execute(
                f"create procedure {self.lower_func}(in s varchar(20)) select lower(s)"
            )
        finally:
            con.close()
        super().test_callproc()

    def help_nextset_setUp(self, cur: Any) -> None:
        cur.execute(
            "create procedure deleteme() begin "
            f"select count(*) from {PREFIX}booze; select name from {PREFIX}booze; end"
        )

    def help_nextset_tearDown(self, cur: Any) -> None:
        cur.execute("drop procedure deleteme")

    def test_nextset(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            self.help_nextset_setUp(cur)
            try:
                cur.callproc("deleteme")
                self.assertEqual(cur.fetchone()[0], len(self.samples))
                self.assertTrue(cur.nextset())
                self.assertEqual(len(cur.fetchall()), len(self.samples))
                if cur.nextset():  # the CALL statement's own (empty) result
                    self.assertEqual(len(cur.fetchall()), 0)
                self.assertIsNone(cur.nextset(), "no more result sets: nextset() is None")
            finally:
                self.help_nextset_tearDown(cur)
        finally:
            con.close()

    def test_fetchone(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.assertRaises(self.driver.Error, cur.fetchone)
            self.executeDDL1(cur)
            self.assertIsNone(cur.fetchone(), "a DDL statement has an empty result")
            cur.execute(f"select name from {PREFIX}booze")
            self.assertIsNone(cur.fetchone())
            self.assertIn(cur.rowcount, (-1, 0))
            cur.execute(f"{self.insert} into {PREFIX}booze values ('Victoria Bitter')")
            self.assertIsNone(cur.fetchone(), "an INSERT has an empty result")
            cur.execute(f"select name from {PREFIX}booze")
            r = cur.fetchone()
            self.assertEqual(len(r), 1)
            self.assertEqual(r[0], "Victoria Bitter")
            self.assertIsNone(cur.fetchone())
            self.assertIn(cur.rowcount, (-1, 1))
        finally:
            con.close()

    def test_fetchall(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.assertRaises(self.driver.Error, cur.fetchall)
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            self.assertEqual(len(cur.fetchall()), 0, "an INSERT has an empty result")
            cur.execute(f"select name from {PREFIX}booze")
            rows = cur.fetchall()
            self.assertIn(cur.rowcount, (-1, len(self.samples)))
            self.assertEqual(sorted(r[0] for r in rows), sorted(self.samples))
            self.assertEqual(len(cur.fetchall()), 0)
            self.assertIn(cur.rowcount, (-1, len(self.samples)))
            self.executeDDL2(cur)
            cur.execute(f"select name from {PREFIX}barflys")
            self.assertEqual(len(cur.fetchall()), 0)
            self.assertIn(cur.rowcount, (-1, 0))
        finally:
            con.close()

    def test_setoutputsize_basic(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            cur.setoutputsizes(1000)
            cur.setoutputsizes(2000, 0)
            self._paraminsert(cur)
        finally:
            con.close()

    def test_setoutputsize(self) -> None:
        pass

    # -- beyond the suite ------------------------------------------------------------

    def test_suite_table_without_primary_key(self) -> None:
        """The suite's original, key-less table: mdbc_py refuses it in a range, PyMySQL not.

        mdbc_py refuses it before it runs (DDL cannot be rolled back, and a
        table it cannot capture could be neither written nor resynced), so
        the statement raises a ``ProgrammingError`` and no table exists.
        """
        con = self._connect()
        try:
            cur = con.cursor()
            if self.refuses_tables_without_pk:
                self.assertRaises(self.driver.ProgrammingError, cur.execute, SUITE_DDL1)
            else:
                cur.execute(SUITE_DDL1)
            cur.execute(f"show tables like '{PREFIX}booze'")
            created = 0 if self.refuses_tables_without_pk else 1
            self.assertEqual(len(cur.fetchall()), created, "created if and only if accepted")
        finally:
            con.close()


class TestPyMySQLCompliance(_MariaDBCompliance):
    """The baseline: PyMySQL itself, on a database that is not a range."""

    __test__ = True
    driver = pymysql

    def connect_kwargs(self, cfg: Config, site: SiteConfig, dbs: CompatDatabases) -> dict[str, Any]:
        return {**site.connect_kwargs(), "database": dbs.dbapi_plain, "charset": "utf8mb4"}


class TestMdbcCompliance(_MariaDBCompliance):
    """mdbc_py on a range database: every write captured and logged before COMMIT."""

    __test__ = True
    driver = mdbc_py
    refuses_tables_without_pk = True

    def connect_kwargs(self, cfg: Config, site: SiteConfig, dbs: CompatDatabases) -> dict[str, Any]:
        return {"site": site.name, "config": cfg, "database": dbs.dbapi, "charset": "utf8mb4"}

    def test_writes_reach_the_log(self) -> None:
        """The suite's DDL and INSERT through mdbc_py are entries of the range's log.

        Without this, a misconfigured range would let the whole class pass
        as plain PyMySQL would.
        """
        rng = self.databases.dbapi
        store = open_store(self.config.store, create=False)
        try:
            tail = store.describe_range(rng).tail
            con = self._connect()
            try:
                cur = con.cursor()
                self.executeDDL1(cur)
                cur.execute(f"{self.insert} into {PREFIX}booze values ('Victoria Bitter')")
                con.commit()
            finally:
                con.close()
            entries = [decode(r.payload) for r in store.iter_entries(rng, tail + 1)]
        finally:
            store.close()
        assert any(e.ddl is not None and f"{PREFIX}booze" in e.ddl.sql for e in entries)
        changes = [c for e in entries for c in e.changes]
        assert [(c.table, c.op, c.row) for c in changes] == [
            (f"{rng}.{PREFIX}booze", Op.INSERT, (("name", "Victoria Bitter"),))
        ]


def test_adapted_table_is_complete() -> None:
    """``ADAPTED`` names exactly the suite members the shared class overrides."""
    suite = vars(dbapi20.DatabaseAPI20Test)
    overridden = {
        name
        for name in vars(_MariaDBCompliance)
        if name in suite and (name.startswith("test_") or name in ("ddl1", "ddl2", "tearDown"))
    }
    assert overridden == set(ADAPTED)
