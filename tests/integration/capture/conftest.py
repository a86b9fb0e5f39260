"""Fixtures of the capture tests: connections to the sandbox's first site, a fresh database.

Each test gets its own ``capture_<random>`` database, dropped afterwards with
its stage database, so tests neither see each other's shadows nor clash with
other suites.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from pymysql.connections import Connection

from mdbc_py.capture import stage_database
from mdbc_py.config import Config
from tests.exact import same_value


class Connections:
    """Opens connections to site dc1 and closes them all at the end of the test."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._opened: list[Connection] = []

    def __call__(self, **extra: Any) -> Connection:
        """A new connection; keyword arguments go to ``pymysql.connect``."""
        kwargs = self._config.site("dc1").connect_kwargs()
        kwargs.update({"charset": "utf8mb4", "autocommit": False})
        kwargs.update(extra)
        conn = pymysql.connect(**kwargs)
        self._opened.append(conn)
        return conn

    def close_all(self) -> None:
        """Close every connection (their open transactions roll back, locks go)."""
        while self._opened:
            conn = self._opened.pop()
            with contextlib.suppress(pymysql.err.Error):
                conn.close()


Connect = Connections


@pytest.fixture()
def connect(sandbox_config: Config) -> Iterator[Connections]:
    """Open connections to site dc1 (closed after the test)."""
    conns = Connections(sandbox_config)
    yield conns
    conns.close_all()


@pytest.fixture()
def database(connect: Connections) -> Iterator[str]:
    """A fresh, empty database for one test, dropped after it (with its stage database)."""
    name = f"capture_{uuid.uuid4().hex[:12]}"
    with connect(autocommit=True).cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield name
    connect.close_all()  # the test's open transactions would block the DROP
    with connect(autocommit=True).cursor() as cur:
        cur.execute("SET SESSION lock_wait_timeout = 60")
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"DROP DATABASE IF EXISTS `{stage_database(name)}`")


@pytest.fixture()
def admin(connect: Connections) -> Connection:
    """An autocommit connection for DDL and checks."""
    return connect(autocommit=True)


def assert_same_row(
    expected: tuple[tuple[str, Any], ...], got: tuple[tuple[str, Any], ...]
) -> None:
    """Column names, order, types and values of two row images agree exactly."""
    assert [c for c, _ in got] == [c for c, _ in expected]
    for (col, want), (_, have) in zip(expected, got, strict=True):
        assert same_value(want, have), f"{col}: {have!r} ({type(have).__name__}) != {want!r}"


def select_image(conn: Connection, table: str, columns: list[str], where: str, args: Any) -> Any:
    """``((column, value), ...)`` of the one row of ``table`` matching ``where``."""
    cols = ", ".join(f"`{c}`" for c in columns)
    with conn.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM {table} WHERE {where}", args)
        rows = cur.fetchall()
    assert len(rows) == 1, rows
    return tuple(zip(columns, rows[0], strict=True))


def run_sql(conn: Connection, *statements: str) -> None:
    """Execute ``statements`` one by one on ``conn`` (setup of a test's tables)."""
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
