"""The driver's session (column definitions parsed once) reads exactly what PyMySQL reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pymysql
import pytest
from pymysql.cursors import DictCursor, SSCursor

from mdbc_py.config import Config
from mdbc_py.driver.raw_session import CACHE_LIMIT, RawSession
from tests.integration.driver.test_type_fidelity import COLUMNS, ROWS


@pytest.fixture()
def table(raw) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A table of every SO column type holding the fidelity rows, in a database of no range."""
    db = f"rs_{uuid.uuid4().hex[:8]}"
    conn = raw()
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
        cur.execute(f"CREATE TABLE {db}.t ({COLUMNS})")
        for row in ROWS:
            names = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            cur.execute(f"INSERT INTO {db}.t ({names}) VALUES ({marks})", list(row.values()))
    yield f"{db}.t"
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE {db}")


def _both(cfg: Config, **kwargs: object) -> tuple[pymysql.Connection, RawSession]:
    args = {**cfg.site("dc1").connect_kwargs(), "autocommit": True, **kwargs}
    return pymysql.connect(**args), RawSession(**args)  # type: ignore[arg-type]


QUERIES = [
    "SELECT * FROM {t} ORDER BY id",
    "SELECT id, js, latin, CAST(js AS CHAR) AS js_text, blob_col FROM {t} ORDER BY id",
    "SELECT COUNT(*), MAX(dec_col), MIN(tm), SUM(big) FROM {t}",
    "SELECT * FROM {t} WHERE id < 0",
]


@pytest.mark.parametrize("cursor_class", [None, DictCursor, SSCursor])
@pytest.mark.parametrize("kwargs", [{}, {"charset": "latin1"}])
def test_every_value_and_description_equals_pymysql(  # type: ignore[no-untyped-def]
    driver_cfg: Config, table: str, cursor_class, kwargs
) -> None:
    plain, cached = _both(driver_cfg, **kwargs)
    try:
        for _ in range(3):  # the first read learns each shape, the next ones reuse it
            for query in QUERIES:
                sql = query.format(t=table)
                results = []
                for conn in (plain, cached):
                    with conn.cursor(cursor_class) as cur:
                        cur.execute(sql)
                        results.append((cur.description, list(cur.fetchall()), cur.rowcount))
                assert results[1] == results[0], sql
        # The empty SELECT * has the shape of the full one: three shapes, each parsed once.
        assert len(cached.shapes) == len(QUERIES) - 1
    finally:
        plain.close()
        cached.close()


def test_multi_statement_results_and_errors_match(driver_cfg: Config, table: str) -> None:
    flags = pymysql.constants.CLIENT.MULTI_STATEMENTS
    plain, cached = _both(driver_cfg, client_flag=flags)
    batch = f"SELECT id, en FROM {table} ORDER BY id; SELECT 1 AS one; DO 1"
    try:
        seen = []
        for conn in (plain, cached):
            sets = []
            with conn.cursor() as cur:
                cur.execute(batch)
                sets.append((cur.description, cur.fetchall()))
                while cur.nextset():
                    sets.append((cur.description, cur.fetchall()))
            seen.append(sets)
        assert seen[1] == seen[0]
        with cached.cursor() as cur, pytest.raises(pymysql.err.OperationalError):
            cur.execute(f"SELECT no_such_column FROM {table}")
        with cached.cursor() as cur:  # the session is usable after the error
            cur.execute("SELECT 2")
            assert cur.fetchone() == (2,)
    finally:
        plain.close()
        cached.close()


def test_the_cache_is_bounded(driver_cfg: Config) -> None:
    _, cached = _both(driver_cfg)
    try:
        with cached.cursor() as cur:
            for i in range(CACHE_LIMIT + 5):
                cur.execute(f"SELECT 1 AS c{i}")
                assert cur.fetchone() == (1,)
                assert cur.description[0][0] == f"c{i}"
        assert 0 < len(cached.shapes) <= CACHE_LIMIT
    finally:
        cached.close()
