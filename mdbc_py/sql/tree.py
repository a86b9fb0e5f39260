"""Classify queries and DML with sqlglot's parser (MySQL dialect).

Used for the statements the fast path declines: subqueries, CTEs, unions,
locking reads, ``INSERT ... SELECT``, multi-table ``UPDATE`` and ``DELETE``.
It receives text already cleaned by :mod:`mdbc_py.sql.lexer` (no comments,
placeholders as ``?``) and rewritten by :mod:`mdbc_py.sql.rewrite` around
sqlglot's MariaDB gaps.

What else sqlglot gets wrong, and what is done about it here:

- ``SELECT ... INTO @var`` comes back as a table named ``@var``: tables under
  an INTO clause are ignored (MariaDB's ``SELECT ... INTO`` never writes a
  table).
- ``DUAL`` and CTE names come back as tables: they are left out.
- Any statement it cannot parse, or parses into something other than a
  query or DML, yields ``None`` and the caller reports UNKNOWN.

Its "unsupported syntax" warning is silenced: it would log application SQL
(with literals) at WARNING level on the first sight of each such statement.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from mdbc_py.sql.statement import Kind, Statement, TableRef

__all__ = ["analyze"]

_DIALECT = MySQL()


class _QuietParser(MySQL.parser_class):  # type: ignore[misc, valid-type]
    """sqlglot's MySQL parser without the per-statement fallback warning."""

    def _warn_unsupported(self) -> None:
        return None


def _parse(text: str) -> exp.Expression | None:
    """The one statement in ``text``, or ``None`` if sqlglot cannot parse it."""
    try:
        trees = _QuietParser(dialect=_DIALECT).parse(_DIALECT.tokenize(text), text)
    except Exception:  # sqlglot raises ParseError, TokenError and, on odd input, others
        return None
    if len(trees) != 1 or not isinstance(trees[0], exp.Expression):
        return None
    return trees[0]


def _ref(table: exp.Table, current_db: str | None) -> TableRef:
    db = table.db
    return TableRef(db if db else current_db, table.name)


def _is_real_table(table: exp.Table, ctes: set[str]) -> bool:
    """False for what sqlglot calls a table but MariaDB does not store."""
    if not isinstance(table.this, exp.Identifier) or table.args.get("catalog"):
        return False
    if table.db:
        return True
    name = table.name
    if name in ctes:
        return False
    if name.upper() == "DUAL" and not table.this.quoted:
        return False
    return table.find_ancestor(exp.Into) is None


def _base_tables(node: exp.Expression | None) -> list[exp.Table]:
    """The tables of a table list: the table and its joins, not subqueries."""
    if not isinstance(node, exp.Table):
        return []
    found = [node]
    for join in node.args.get("joins") or ():
        if isinstance(join.this, exp.Table) and isinstance(join.this.this, exp.Identifier):
            found.append(join.this)
    return found


def _alias_map(tables: list[exp.Table], current_db: str | None) -> dict[str, TableRef]:
    """How each table of a multi-table statement can be referred to."""
    names: dict[str, TableRef] = {}
    for table in tables:
        ref = _ref(table, current_db)
        names.setdefault(table.name, ref)
        if table.alias:
            names[table.alias] = ref
    return names


def _update_targets(root: exp.Update, current_db: str | None) -> frozenset[TableRef] | None:
    """Tables a (multi-table) UPDATE changes: those its SET assigns to."""
    tables = _base_tables(root.this)
    if not tables:
        return None
    every = frozenset(_ref(t, current_db) for t in tables)
    if len(tables) == 1:
        return every
    names = _alias_map(tables, current_db)
    targets: set[TableRef] = set()
    for assignment in root.expressions:
        column = assignment.this if isinstance(assignment, exp.EQ) else None
        if not isinstance(column, exp.Column) or not column.table:
            return every  # an unqualified column may belong to any of them
        if column.db:
            targets.add(TableRef(column.db, column.table))
        elif column.table in names:
            targets.add(names[column.table])
        else:
            return every
    return frozenset(targets)


def _delete_targets(root: exp.Delete, current_db: str | None) -> frozenset[TableRef] | None:
    """Tables a DELETE removes rows from, resolving multi-table aliases."""
    listed = root.args.get("tables")
    if not listed:  # DELETE FROM t ... or DELETE FROM t1, t2 USING ...
        tables = _base_tables(root.this)
        return frozenset(_ref(t, current_db) for t in tables) if tables else None
    sources = _base_tables(root.this)
    for using in root.args.get("using") or ():
        sources.extend(_base_tables(using))
    names = _alias_map(sources, current_db)
    targets: set[TableRef] = set()
    for table in listed:
        if not isinstance(table, exp.Table):
            return None
        if table.db:
            targets.add(_ref(table, current_db))
        else:
            targets.add(names.get(table.name, _ref(table, current_db)))
    return frozenset(targets)


def _insert_target(root: exp.Insert, current_db: str | None) -> frozenset[TableRef] | None:
    target = root.this
    if isinstance(target, exp.Schema):
        target = target.this
    if not isinstance(target, exp.Table) or not isinstance(target.this, exp.Identifier):
        return None
    return frozenset((_ref(target, current_db),))


def analyze(text: str, current_db: str | None) -> Statement | None:
    """Classify one query or DML statement; ``None`` when sqlglot cannot.

    ``text`` must hold exactly one statement, cleaned by the lexer.
    """
    root = _parse(text)
    written: frozenset[TableRef] | None
    if isinstance(root, exp.Query):
        kind, written = Kind.READ, frozenset()
    elif isinstance(root, exp.Insert):
        kind, written = Kind.WRITE, _insert_target(root, current_db)
    elif isinstance(root, exp.Update):
        kind, written = Kind.WRITE, _update_targets(root, current_db)
    elif isinstance(root, exp.Delete):
        kind, written = Kind.WRITE, _delete_targets(root, current_db)
    else:
        return None
    if written is None:
        return None
    ctes = {cte.alias for cte in root.find_all(exp.CTE)}
    # DELETE's target list names aliases, resolved by _delete_targets.
    skip = {id(t) for t in root.args.get("tables") or ()} if isinstance(root, exp.Delete) else ()
    tables = {
        _ref(t, current_db)
        for t in root.find_all(exp.Table)
        if id(t) not in skip and _is_real_table(t, ctes)
    }
    locking = any(True for _ in root.find_all(exp.Lock))
    return Statement(kind, tables=frozenset(tables | written), written=written, locking=locking)
