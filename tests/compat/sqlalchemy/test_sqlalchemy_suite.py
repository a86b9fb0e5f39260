"""SQLAlchemy's dialect suite through ``mysql+mdbc`` passes what it passes through PyMySQL.

``sqlalchemy.testing.suite`` is what SQLAlchemy asks every third-party
dialect to pass. It runs twice on the same MariaDB server (site dc1), in
the session's stand-ins for ``test``, ``test_schema`` and ``test_schema_2``
(see ``tests/compat/conftest.py``), which are configured ranges, so through
mdbc_py every write is captured and logged:
first with ``mysql+pymysql`` (the baseline), then with
``mysql+mdbc://...?site=dc1&config=...``. Every test that passes with PyMySQL
must pass with mdbc_py, unless ``ALLOWED`` names it as an intended
difference, with the error mdbc_py must fail it with and why.

Suite modules (``DEFAULT_SUITE_MODULES``): the run is kept under 8 minutes
on a 2-core machine (PyMySQL ~11 s, mdbc_py ~50 s when the machine is
otherwise idle). Through mdbc_py every DDL statement costs more than
through PyMySQL (capture regenerates the table's triggers), and the suite creates
and drops tables for nearly every test class, so the default leaves out the
three modules whose value per minute is lowest:

- ``test_reflection`` (~4 min through mdbc_py, 13 s through PyMySQL,
  measured on a 2-core machine): ~900 tests that only read
  ``information_schema``, identical through both drivers, and nearly all
  refused through mdbc_py at once by one key-less fixture table. It passes
  with no regression (capture's shadows live in a stage database, so
  reflection no longer sees them), but costs too much for the default run;
- ``test_sequence`` (~1 min): every test that uses a sequence is refused by
  design (see ``ALLOWED``);
- ``test_ddl`` (~1 min): CREATE/DROP/ALTER round trips, which the fixtures
  of every other module exercise too.

Kept: ``test_insert``, ``test_update_delete``, ``test_results``,
``test_select``, ``test_types``, ``test_dialect``, ``test_rowcount`` (the
write, result and transaction paths of the driver), and the small
``test_cte``, ``test_unicode_ddl``, ``test_deprecations``.
``MDBC_COMPAT_SQLA_MODULES`` (``all``, or comma-separated names) runs another
selection; ``ALLOWED`` covers every module.

See ``harness`` for how the suite is run and ``requirements`` for the
optional features opened for MariaDB.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from mdbc_py.config import Config
from mdbc_py.sandbox import Sandbox
from tests.compat.conftest import SITE, CompatDatabases
from tests.compat.sqlalchemy.harness import (
    Allowed,
    Outcome,
    RunResult,
    compare,
    normalize_id,
    run_suite,
    write_suite_dir,
)
from tests.compat.sqlalchemy.requirements import CLOSED, OPENED, MariaDBRequirements
from tests.compat.support import reset_databases, sqlalchemy_url

ALL_SUITE_MODULES = (
    "test_cte",
    "test_ddl",
    "test_deprecations",
    "test_dialect",
    "test_insert",
    "test_reflection",
    "test_results",
    "test_rowcount",
    "test_select",
    "test_sequence",
    "test_types",
    "test_unicode_ddl",
    "test_update_delete",
)
"""Every module of ``sqlalchemy.testing.suite`` in SQLAlchemy 2.0."""

DEFAULT_SUITE_MODULES = tuple(
    m for m in ALL_SUITE_MODULES if m not in ("test_reflection", "test_sequence", "test_ddl")
)

MODULES_ENV = "MDBC_COMPAT_SQLA_MODULES"
"""Set to ``all`` or to comma-separated module names to run another selection."""


def suite_modules() -> tuple[str, ...]:
    """The suite modules to run: ``DEFAULT_SUITE_MODULES`` unless ``MODULES_ENV`` says."""
    value = os.environ.get(MODULES_ENV, "").strip()
    if not value:
        return DEFAULT_SUITE_MODULES
    if value == "all":
        return ALL_SUITE_MODULES
    chosen = tuple(m.strip() for m in value.split(",") if m.strip())
    unknown = sorted(set(chosen) - set(ALL_SUITE_MODULES))
    if unknown:
        raise ValueError(f"{MODULES_ENV}: unknown suite modules {unknown}")
    return chosen


RUN_TIMEOUT = 1500.0
"""Seconds one driver's run may take (the mdbc_py run logs every DDL and commit)."""

NO_PK = "NoPrimaryKeyError"
CROSS_RANGE = "CrossRangeError"
NOT_CAPTURED = "NotCapturedError"

LITERAL_T = "the suite's literal round trip (_LiteralRoundTripFixture) creates a key-less t(x)"

ALLOWED: dict[str, Allowed] = {
    # -- Tables without a primary key: mdbc_py cannot capture their rows, so
    #    CREATE TABLE of one in a range raises (after creating it).
    "test_ddl::LongNameBlowoutTest::test_long_convention_name": Allowed(
        NO_PK, "the 'fk' variant's table b_related_things_of_value has no primary key"
    ),
    "test_dialect::DifficultParametersTest::test_standalone_bindparam_escape": Allowed(
        NO_PK, "table mytable(<odd column name>) without a primary key"
    ),
    "test_dialect::DifficultParametersTest::test_standalone_bindparam_escape_expanding": Allowed(
        NO_PK, "table mytable(<odd column name>) without a primary key"
    ),
    "test_dialect::EscapingTest::test_percent_sign_round_trip": Allowed(
        NO_PK, "table t(data) without a primary key"
    ),
    "test_reflection::ComponentReflectionTest": Allowed(
        NO_PK, "define_tables creates no_constraints(id), key-less: the class fixture fails"
    ),
    "test_reflection::ComponentReflectionTestExtra::test_check_constraint_no_constraint": Allowed(
        NO_PK, "table no_constraints(id) without a primary key"
    ),
    "test_reflection::ComponentReflectionTestExtra::test_check_constraint_standalone": Allowed(
        NO_PK, "table sa_cc(a) without a primary key"
    ),
    "test_reflection::ComponentReflectionTestExtra::test_nullable_reflection": Allowed(
        NO_PK, "table t(a, b, c) without a primary key"
    ),
    "test_reflection::ComponentReflectionTestExtra::test_numeric_reflection": Allowed(
        NO_PK, "table t(x) without a primary key"
    ),
    "test_reflection::ComponentReflectionTestExtra::test_string_length_reflection": Allowed(
        NO_PK, "table t(x) without a primary key"
    ),
    "test_reflection::HasIndexTest::test_has_index": Allowed(
        rf"{NO_PK}|has_index\('test_table', 'my_idx_2'\)",
        "table test_table_2(foo) has no primary key; the refusal leaves index my_idx_2 "
        "behind, which the next variant of the test finds",
    ),
    "test_reflection::HasTableTest::test_has_table_cache": Allowed(
        NO_PK, "table new_table(col) without a primary key"
    ),
    "test_select::BitwiseTest": Allowed(NO_PK, "table bitwise(a, b) has no primary key"),
    "test_types::BooleanTest::test_render_literal_bool": Allowed(NO_PK, LITERAL_T),
    "test_types::CastTypeDecoratorTest::test_special_type": Allowed(
        NO_PK, "table t(x) without a primary key"
    ),
    "test_types::IntegerTest::test_literal": Allowed(NO_PK, LITERAL_T),
    "test_types::NativeUUIDTest": Allowed(NO_PK, LITERAL_T),
    "test_types::NumericTest": Allowed(NO_PK, f"{LITERAL_T}; so does _do_test"),
    "test_types::StringTest": Allowed(NO_PK, f"{LITERAL_T}; so does the truncation test"),
    "test_types::TextTest": Allowed(NO_PK, LITERAL_T),
    "test_types::UnicodeTextTest": Allowed(NO_PK, LITERAL_T),
    "test_types::UnicodeVarcharTest": Allowed(NO_PK, LITERAL_T),
    "test_types::UuidTest": Allowed(NO_PK, LITERAL_T),
    # -- A transaction writing two databases spans two ranges, which mdbc_py
    #    refuses (each range has its own log and owner).
    "test_reflection::HasIndexTest::test_has_index_schema": Allowed(
        CROSS_RANGE,
        "TablesTest's teardown deletes from test.test_table and test_schema.test_table "
        "in one transaction",
    ),
    "test_select::SameNamedSchemaTableTest": Allowed(
        CROSS_RANGE,
        "insert_data fills test.some_table and test_schema.some_table in one transaction",
    ),
    # -- Sequences: capture leaves MariaDB SEQUENCE objects alone (a sequence
    #    has no primary key and no row images), so a statement that advances
    #    one with NEXTVAL is refused like a write to any uncapturable table.
    "test_sequence::SequenceTest": Allowed(
        NOT_CAPTURED, "INSERT ... VALUES (nextval(tab_id_seq)) advances a sequence"
    ),
}
"""Intended differences: tests PyMySQL passes and mdbc_py must fail, with the error it raises."""


@pytest.mark.services
@pytest.mark.timeout(2 * RUN_TIMEOUT + 300)
def test_mdbc_passes_what_pymysql_passes(
    running: Sandbox,
    compat_config: Config,
    compat_config_file: Path,
    compat_databases: CompatDatabases,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run the suite with both drivers; only allow-listed differences may remain."""
    site = compat_config.site(SITE)
    dbs = compat_databases
    suite_dir = write_suite_dir(tmp_path / "suite", suite_modules(), dbs.sqla_ident)
    mdbc_query = {"site": site.name, "config": str(compat_config_file)}
    runs: dict[str, RunResult] = {}
    for driver, query in (("pymysql", {}), ("mdbc", mdbc_query)):
        reset_databases(site, dbs.sqla)  # each run starts from empty databases
        url = sqlalchemy_url(driver, site, dbs.sqla_ident, query)
        runs[driver] = run_suite(suite_dir, driver, url, tmp_path, RUN_TIMEOUT)
    result = compare(runs["pymysql"], runs["mdbc"], ALLOWED)
    with capsys.disabled():
        print("\n" + result.summary())
    baseline = runs["pymysql"].counts()
    assert baseline["passed"] > sum(baseline.values()) / 2, (
        f"the PyMySQL baseline mostly failed: see {runs['pymysql'].log}"
    )
    assert set(runs["mdbc"].outcomes) == set(runs["pymysql"].outcomes), "different test sets"
    assert not result.unneeded_keys, "allow-list entries that explain no difference"
    assert not result.regressions, result.summary()


# -- the harness itself (no services) -----------------------------------------------


def test_junit_ids_are_the_same_for_both_drivers() -> None:
    """The per-backend class suffix is dropped, the parameters are kept."""
    for backend in ("mariadb+pymysql_10_11_19_0", "mariadb+mdbc_10_11_19_0", "mysql+mdbc_8_0"):
        assert (
            normalize_id(f"test_types.NumericTest_{backend}", "test_decimal[x-1]")
            == "test_types::NumericTest::test_decimal[x-1]"
        )
    assert (
        normalize_id("test_dialect.ExceptionTest", "test_a")
        == "test_dialect::ExceptionTest::test_a"
    )


def test_compare_allows_only_the_listed_error() -> None:
    """An allowed test failing for another reason, or not run, is a regression."""

    def run(driver: str, **outcomes: Outcome) -> RunResult:
        ids = {f"test_m::{k.replace('__', '::')}": v for k, v in outcomes.items()}
        return RunResult(driver, ids, 1.0, 0, Path(driver))

    ok, failed = Outcome("passed"), Outcome("failed")
    baseline = run("pymysql", A__t1=ok, A__t2=ok, B__t1=ok, C__t1=ok, D__t1=failed, E__t1=ok)
    candidate = run(
        "mdbc",
        A__t1=Outcome("failed", "x NoPrimaryKeyError y"),
        A__t2=Outcome("failed", "IntegrityError"),
        B__t1=Outcome("skipped"),
        D__t1=ok,
        E__t1=ok,
    )
    allow = {
        "test_m::A": Allowed("NoPrimaryKeyError", "r"),
        "test_m::E::t1": Allowed("NoPrimaryKeyError", "stale: passes now"),
        "test_m::Z": Allowed("E", "misspelt"),
        "test_other::Z": Allowed("E", "a module that was not run"),
    }
    result = compare(baseline, candidate, allow)
    assert result.allowed == {"test_m::A::t1": "test_m::A"}
    assert set(result.regressions) == {"test_m::A::t2", "test_m::B::t1", "test_m::C::t1"}
    assert result.improvements == ["test_m::D::t1"]
    assert result.unneeded_keys == ["test_m::E::t1", "test_m::Z"]


def test_requirement_names_exist() -> None:
    """Every opened or closed feature is a real SuiteRequirements property (no typo)."""
    from sqlalchemy.testing.requirements import SuiteRequirements

    for name in (*OPENED, *CLOSED):
        assert isinstance(getattr(SuiteRequirements, name, None), property), name
        assert isinstance(getattr(MariaDBRequirements, name), property), name


def test_allow_list_keys_are_well_formed() -> None:
    """Keys are ``module::Class`` or ``module::Class::test``, of a module that is run."""
    for key, entry in ALLOWED.items():
        parts = key.split("::")
        assert len(parts) in (2, 3) and parts[0] in ALL_SUITE_MODULES, key
        assert entry.error and entry.reason, key


def test_suite_module_names_are_sqlalchemys() -> None:
    """``ALL_SUITE_MODULES`` is exactly what the installed SQLAlchemy ships."""
    spec = importlib.util.find_spec("sqlalchemy.testing.suite")
    assert spec is not None and spec.submodule_search_locations
    (folder,) = spec.submodule_search_locations
    shipped = {p.stem for p in Path(folder).glob("test_*.py")}
    assert shipped == set(ALL_SUITE_MODULES)
