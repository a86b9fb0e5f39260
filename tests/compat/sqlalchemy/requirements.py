"""The ``requirement_cls`` of the SQLAlchemy suite runs: what MariaDB 10.x supports.

``SuiteRequirements`` leaves most optional features closed, so a third-party
dialect only runs the tests it opts into. The features opened here are the
ones MariaDB has and whose tests send the driver something it must route
right: isolation levels and AUTOCOMMIT (transaction control), multi-table
UPDATE/DELETE and CTEs (statement classification), computed, JSON and UUID
columns (capture of every column type), views, IF [NOT] EXISTS and unicode
names (DDL logging and trigger generation), cross-schema foreign keys.

Both drivers run with this class, so a feature opened here that one of them
lacks shows up as a difference, never as a silent skip. Features whose
tests fail on MariaDB for every driver (DATETIME/TIME without fractional
seconds by default) are closed, as SQLAlchemy's own requirements do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

ISOLATION_LEVELS = frozenset(
    {"READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE", "AUTOCOMMIT"}
)
DEFAULT_ISOLATION_LEVEL = "REPEATABLE READ"

OPENED: dict[str, str] = {
    "isolation_level": "SET SESSION TRANSACTION ISOLATION LEVEL",
    "autocommit": "isolation_level='AUTOCOMMIT' is the DB-API connection's autocommit(True)",
    "views": "CREATE/DROP VIEW in a range database",
    "tuple_in": "(a, b) IN ((..), (..))",
    "ctes": "WITH ... SELECT (MariaDB 10.2+)",
    "window_functions": "OVER (...) (MariaDB 10.2+)",
    "intersect": "INTERSECT (MariaDB 10.3+)",
    "except_": "EXCEPT (MariaDB 10.3+)",
    "update_from": "multi-table UPDATE: the driver must find every table written",
    "delete_from": "multi-table DELETE: the driver must find every table written",
    "json_type": "JSON columns (LONGTEXT with a JSON check in MariaDB) through capture",
    "uuid_data_type": "the native UUID type (MariaDB 10.7+) through capture",
    "computed_columns": "generated columns: capture must not replay them as values",
    "computed_columns_stored": "STORED generated columns",
    "computed_columns_virtual": "VIRTUAL generated columns",
    "server_defaults": "DEFAULT clauses",
    "expression_server_defaults": "DEFAULT (expression) (MariaDB 10.2+)",
    "table_ddl_if_exists": "CREATE TABLE IF NOT EXISTS / DROP TABLE IF EXISTS",
    "index_ddl_if_exists": "CREATE INDEX IF NOT EXISTS / DROP INDEX IF EXISTS",
    "unicode_ddl": "non-ASCII table and column names in DDL and triggers",
    "regexp_match": "REGEXP",
    "regexp_replace": "REGEXP_REPLACE()",
    "mod_operator_as_percent_sign": "'%' reaches the server escaped as '%%' (pyformat)",
    "supports_bitwise_and": "&",
    "supports_bitwise_or": "|",
    "supports_bitwise_xor": "^",
    "supports_bitwise_not": "~",
    "supports_bitwise_shift": "<< and >>",
    "dbapi_lastrowid": "cursor.lastrowid after INSERT",
    "emulated_lastrowid": "AUTO_INCREMENT ids reach inserted_primary_key",
    "comment_reflection": "COMMENT clauses",
    "check_constraint_reflection": "CHECK constraints (MariaDB 10.2+)",
    "column_collation_reflection": "COLLATE clauses",
    "reflect_table_options": "ENGINE / CHARSET table options",
    "foreign_keys_reflect_as_index": "InnoDB indexes every foreign key",
    "unique_constraints_reflect_as_index": "a UNIQUE constraint is a unique index",
    "cross_schema_fk_reflection": "foreign keys from test_schema to test (two ranges)",
    "foreign_key_constraint_option_reflection_ondelete": "ON DELETE actions",
    "foreign_key_constraint_option_reflection_onupdate": "ON UPDATE actions",
}
"""Features opened for MariaDB, with what their tests exercise."""

CLOSED: dict[str, str] = {
    "datetime_microseconds": "DATETIME without (6) drops microseconds on MariaDB",
    "time_microseconds": "TIME without (6) drops microseconds on MariaDB",
    "json_index_supplementary_unicode_element": "MariaDB's JSON functions mangle them",
}
"""Features closed although SuiteRequirements opens them, with the reason."""


def _open(_: object) -> Any:
    return exclusions.open()


def _closed(_: object) -> Any:
    return exclusions.closed()


class MariaDBRequirements(SuiteRequirements):
    """SuiteRequirements with ``OPENED`` opened and ``CLOSED`` closed."""

    def get_isolation_levels(self, config: Any) -> dict[str, Any]:
        """MariaDB's levels, plus AUTOCOMMIT which both drivers implement."""
        return {"default": DEFAULT_ISOLATION_LEVEL, "supported": set(ISOLATION_LEVELS)}


for _name in OPENED:
    setattr(MariaDBRequirements, _name, property(_open))
for _name in CLOSED:
    setattr(MariaDBRequirements, _name, property(_closed))
