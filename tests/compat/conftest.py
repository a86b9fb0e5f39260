"""Fixtures of the compatibility suites: the ranges their databases live in, initialised.

The suites compare mdbc_py with PyMySQL on the same MariaDB server, site
``dc1`` of the session sandbox. For mdbc_py to really capture and log the
writes, every database the suites write through it is a configured range
owned by dc1 (keyspace ``mdbc_compat``, apart from the driver tests' store).
Names carry a per-session suffix, as the driver tests' do: each session
starts from empty databases and empty logs, and two sessions sharing a
sandbox cannot clobber each other's tables.

- ``compat_dbapi_<s>``: the PEP 249 suite run through mdbc_py;
- ``compat_sqla_<s>``, ``compat_sqla_<s>_test_schema`` and
  ``..._test_schema_2``: the databases SQLAlchemy's suite needs. Its
  "follower" naming (``<ident>``, ``<ident>_test_schema``...), made for
  parallel runs, is what lets them have session names (see ``harness``).

``compat_plain_<s>`` is deliberately *not* a range: the PyMySQL baseline of
the PEP 249 suite runs there, untouched by capture. All are dropped at the
end of the session (their ranges stay in the store, as the driver tests').

A service that cannot be reached goes through ``tests.conftest.unavailable``:
a failure under ``MDBC_REQUIRE_SERVICES=1`` (CI), never a silent pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest

from mdbc_py.admin.init import initialize
from mdbc_py.config import Config
from mdbc_py.core.runtime import Runtime
from mdbc_py.errors import StoreUnavailableError
from mdbc_py.sandbox import Sandbox, SandboxError
from tests.compat.support import drop_databases, reset_databases, write_config_toml
from tests.conftest import unavailable
from tests.integration.driver.conftest import make_config

COMPAT_KEYSPACE = "mdbc_compat"
SITE = "dc1"


@dataclass(frozen=True)
class CompatDatabases:
    """The databases of one session's compatibility suites."""

    dbapi: str
    """A range: the PEP 249 suite through mdbc_py."""
    dbapi_plain: str
    """Not a range: the PEP 249 suite through PyMySQL."""
    sqla_ident: str
    """SQLAlchemy's follower ident, also the name of its default database."""

    @property
    def sqla(self) -> tuple[str, str, str]:
        """The default database, ``config.test_schema`` and ``config.test_schema_2``."""
        ident = self.sqla_ident
        return (ident, f"{ident}_test_schema", f"{ident}_test_schema_2")

    @property
    def ranges(self) -> list[str]:
        """Every database that is a configured range."""
        return [self.dbapi, *self.sqla]


@pytest.fixture(scope="session")
def compat_databases() -> CompatDatabases:
    """This session's database names."""
    suffix = uuid.uuid4().hex[:6]
    return CompatDatabases(
        dbapi=f"compat_dbapi_{suffix}",
        dbapi_plain=f"compat_plain_{suffix}",
        sqla_ident=f"compat_sqla_{suffix}",
    )


@pytest.fixture(scope="session")
def compat_config(
    sandbox: Sandbox, sandbox_config: Config, compat_databases: CompatDatabases
) -> Iterator[Config]:
    """The sandbox's sites and store with one range per database the suites write.

    Services an earlier test stopped are started again first (as the
    ``running`` fixture does for each test).
    """
    dbs = compat_databases
    cfg = make_config(sandbox_config, dbs.ranges, keyspace=COMPAT_KEYSPACE)
    try:
        for status in sandbox.status():
            if status.state != "up":
                sandbox.start(status.name)
        reset_databases(cfg.site(SITE), [*dbs.ranges, dbs.dbapi_plain])
        report = initialize(cfg)
    except (SandboxError, pymysql.err.OperationalError, StoreUnavailableError) as exc:
        unavailable(f"cannot initialise the compatibility ranges: {exc}")
    if SITE in report.unreachable:
        unavailable(f"site {SITE} unreachable: {report.unreachable[SITE]}")
    yield cfg
    Runtime.reset_all()
    drop_databases(cfg.site(SITE), [*dbs.ranges, dbs.dbapi_plain])


@pytest.fixture(scope="session")
def compat_config_file(compat_config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``compat_config`` as an ``mdbc.toml`` (for URLs and subprocesses)."""
    return write_config_toml(compat_config, tmp_path_factory.mktemp("compat") / "mdbc.toml")
