"""SQLAlchemy reflection through ``mysql+mdbc`` sees the application's tables only.

Capture keeps its shadow tables in a separate stage database, so
``inspect(engine).get_table_names()``, ``MetaData.reflect()`` (and so
Alembic's autogenerate, which reflects the same way) and ``SHOW TABLES``
list no ``mdbc_`` table, although every table of the range is captured.
Runs in ``compat_dbapi_<s>``, a configured range; the tables are dropped
at the end through the driver, as the application would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa

from mdbc_py import capture
from mdbc_py.config import Config
from mdbc_py.sandbox import Sandbox
from tests.compat.conftest import SITE, CompatDatabases
from tests.compat.support import sqlalchemy_url

pytestmark = pytest.mark.services


@pytest.fixture()
def engine(
    running: Sandbox,
    compat_config: Config,
    compat_config_file: Path,
    compat_databases: CompatDatabases,
) -> Iterator[sa.engine.Engine]:
    """A ``mysql+mdbc`` engine on the range ``compat_dbapi_<s>`` at site dc1."""
    site = compat_config.site(SITE)
    query = {"site": site.name, "config": str(compat_config_file)}
    url = sqlalchemy_url("mdbc", site, compat_databases.dbapi, query)
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield eng
    eng.dispose()


def test_reflection_lists_no_capture_table(
    engine: sa.engine.Engine, compat_config: Config, compat_databases: CompatDatabases
) -> None:
    db = compat_databases.dbapi
    suffix = uuid.uuid4().hex[:6]
    names = [f"refl_parent_{suffix}", f"refl_child_{suffix}"]
    meta = sa.MetaData()
    sa.Table(names[0], meta, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        names[1],
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey(f"{names[0]}.id")),
        sa.Column("note", sa.String(20)),
    )
    meta.create_all(engine)
    try:
        with engine.begin() as conn:  # captured and logged: the tables are captured
            conn.execute(meta.tables[names[0]].insert(), [{"id": 1}])
            conn.execute(meta.tables[names[1]].insert(), [{"id": 1, "parent_id": 1}])

        listed = sa.inspect(engine).get_table_names()
        assert set(names) <= set(listed)
        assert not [n for n in listed if n.startswith("mdbc_")], listed
        reflected = sa.MetaData()
        reflected.reflect(engine)
        assert not [n for n in reflected.tables if n.startswith("mdbc_")]
        assert set(names) <= set(reflected.tables)

        raw = pymysql.connect(**compat_config.site(SITE).connect_kwargs(), autocommit=True)
        try:
            with raw.cursor() as cur:
                cur.execute(f"SHOW TABLES FROM `{db}`")
                assert not [n for (n,) in cur.fetchall() if n.startswith("mdbc_")]
            assert set(names) <= set(capture.captured_tables(raw, db))
        finally:
            raw.close()
    finally:
        meta.drop_all(engine)
