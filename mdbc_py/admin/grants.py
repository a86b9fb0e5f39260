"""The MariaDB privileges the ``mdbc`` account needs, and a check that it has them.

What is needed is exactly what ``deploy/grant-mdbc.sql`` grants (a test keeps
the two in step):

- on each range's database, :data:`APPLICATION_PRIVILEGES`: the driver runs
  the application's DML and migrations and installs the capture triggers,
  replay applies the same rows and DDL;
- on each range's stage database (``mdbc_stage_<db>``, granted as the pattern
  ``mdbc\\_stage\\_%``), :data:`STAGE_PRIVILEGES`: shadow tables, staged rows
  read and cleared at commit;
- on ``mdbc``, :data:`BOOKKEEPING_PRIVILEGES`: applied positions and site
  state, written with the data they cover;
- globally, :data:`GLOBAL_PRIVILEGES` (``READ_ONLY ADMIN``): replay writes
  through ``read_only=ON`` and promotion flips it.

``check`` reads ``SHOW GRANTS FOR CURRENT_USER`` on a connection made the way
mdbc makes them, plus the grants of the session's active role (the default
role: mdbc never runs ``SET ROLE``), and works out what they imply:

- a global privilege covers every database; ``ALL PRIVILEGES`` covers every
  privilege of its level;
- a database-level grant counts for the databases its name matches (``%`` and
  ``_`` are wildcards, ``\\_`` a literal underscore). Like MariaDB, for the
  account's own grants only the most specific matching line counts (an exact
  name before a pattern, a longer literal prefix before a shorter one);
  the role's grants add to it;
- ``SUPER`` implies ``READ_ONLY ADMIN`` only before MariaDB 10.11, which took
  it out of ``SUPER``;
- table, column and routine grants never satisfy a database-level need.

The password hash that ``SHOW GRANTS`` prints is dropped while parsing; no
attribute or message of :class:`GrantsMissingError` ever holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pymysql.connections import Connection

from mdbc_py.capture.naming import quote_ident, stage_database
from mdbc_py.core.positions import META_DB
from mdbc_py.errors import MdbcError, OperationalError

APPLICATION_PRIVILEGES = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
    "REFERENCES", "CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE",
    "EXECUTE", "CREATE TEMPORARY TABLES", "LOCK TABLES", "TRIGGER",
)  # fmt: skip
"""On each range's database."""

STAGE_PRIVILEGES = ("SELECT", "INSERT", "DELETE", "CREATE", "DROP", "ALTER", "LOCK TABLES")
"""On each stage database (``mdbc_stage_<db>``).

``LOCK TABLES``: regenerating a shadow after a DDL locks the table and its
shadow together (``capture.install``), so no writer stages in between.
"""

STAGE_PATTERN = r"mdbc\_stage\_%"
"""How ``deploy/grant-mdbc.sql`` names every stage database at once."""

BOOKKEEPING_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER")
"""On mdbc's own database (``mdbc``)."""

GLOBAL_PRIVILEGES = ("READ_ONLY ADMIN",)
"""On ``*.*``."""

GRANTEE = "'mdbc'@'%'"
"""The account the suggested GRANT statements name (as ``deploy/grant-mdbc.sql`` does)."""


@dataclass(frozen=True)
class Need:
    """Privileges needed on one database (``database`` None: globally, on ``*.*``)."""

    privileges: tuple[str, ...]
    database: str | None
    why: str
    grant_on: str = ""
    """The object a GRANT should name (``*.*``, ```db`.*`` or a pattern); derived if empty."""

    @property
    def on(self) -> str:
        """The object as a GRANT statement names it."""
        if self.grant_on:
            return self.grant_on
        return "*.*" if self.database is None else f"{quote_ident(like_literal(self.database))}.*"


@dataclass(frozen=True)
class MissingGrant:
    """One privilege the account lacks at one site, and how to grant it."""

    site: str
    privilege: str
    on: str
    why: str
    statement: str


class GrantsMissingError(MdbcError, OperationalError):
    """The mdbc account lacks privileges it needs; nothing was changed.

    ``missing`` lists every missing privilege at every site checked (one
    :class:`MissingGrant` each), ``sites`` the sites concerned. The message
    names each privilege, the object and the GRANT statement to run as an
    administrator.
    """

    def __init__(self, missing: Sequence[MissingGrant]) -> None:
        self.missing = tuple(missing)
        self.sites = tuple(dict.fromkeys(m.site for m in self.missing))
        lines = [
            f"the mdbc account lacks {len(self.missing)} privilege(s) it needs at "
            f"{', '.join(self.sites)}; nothing was changed. Run as an administrator "
            "(see deploy/grant-mdbc.sql):"
        ]
        for site in self.sites:
            mine = [m for m in self.missing if m.site == site]
            for m in mine:
                lines.append(f"  {site}: {m.privilege} on {m.on} ({m.why})")
            for statement in dict.fromkeys(m.statement for m in mine):
                lines.append(f"  {site}: {statement}")
        super().__init__("\n".join(lines))


def like_literal(name: str) -> str:
    """``name`` with ``\\``, ``_`` and ``%`` escaped: a GRANT on it matches that database only."""
    return name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def needs(databases: Iterable[str]) -> list[Need]:
    """Everything the account needs for ranges over ``databases`` (see module docstring)."""
    out: list[Need] = []
    for db in sorted(set(databases)):
        out.append(Need(APPLICATION_PRIVILEGES, db, f"range database {db}"))
        stage = stage_database(db)
        on = f"`{STAGE_PATTERN}`.*" if _like(STAGE_PATTERN, stage) else ""
        out.append(Need(STAGE_PRIVILEGES, stage, f"stage database of {db}", on))
    out.append(Need(BOOKKEEPING_PRIVILEGES, META_DB, "mdbc bookkeeping"))
    out.append(Need(GLOBAL_PRIVILEGES, None, "replay and promotion set read_only"))
    return out


# -- parsing SHOW GRANTS -------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One ``GRANT privileges ON db.* TO ...`` line at global or database level."""

    privileges: frozenset[str]
    database: str | None  # None: *.*; else the name or LIKE pattern, unquoted
    all_privileges: bool = False


@dataclass
class Grants:
    """What one ``SHOW GRANTS`` output says: privilege grants and roles granted."""

    grants: list[Grant] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)


_IDENT = r"(?:`(?:[^`]|``)*`|[^\s.`]+|\*)"
_OBJECT = re.compile(rf"^(?P<db>{_IDENT})\.(?P<table>{_IDENT})$")


def _unquote(ident: str) -> str:
    if ident.startswith("`") and ident.endswith("`") and len(ident) >= 2:
        return ident[1:-1].replace("``", "`")
    return ident


def _split_on(text: str) -> tuple[str, str] | None:
    """Split ``privs ON rest`` at the first `` ON `` outside backquotes and parentheses."""
    depth, quoted, i = 0, False, 0
    upper = text.upper()
    while i < len(text):
        ch = text[i]
        if ch == "`":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and upper.startswith(" ON ", i):
            return text[:i], text[i + 4 :]
        i += 1
    return None


def _split_privileges(text: str) -> list[str]:
    """``SELECT (a, b), INSERT`` -> ``["SELECT (a, b)", "INSERT"]``."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _object_and_rest(rest: str) -> tuple[str, str]:
    """The object named after ON (up to `` TO ``), backquotes respected."""
    quoted = False
    for i, ch in enumerate(rest):
        if ch == "`":
            quoted = not quoted
        elif not quoted and rest.upper().startswith(" TO ", i):
            return rest[:i].strip(), rest[i + 4 :]
    return rest.strip(), ""


def parse_show_grants(lines: Iterable[str]) -> Grants:
    """Parse ``SHOW GRANTS`` lines into global/database grants and granted roles.

    Lines that grant on a table, a column or a routine, ``PROXY`` and
    ``SET DEFAULT ROLE`` lines are skipped: they never satisfy a
    database-level need.
    """
    out = Grants()
    for line in lines:
        text = line.strip()
        if not text.upper().startswith("GRANT "):
            continue
        body = text[len("GRANT ") :]
        split = _split_on(body)
        if split is None:  # GRANT `role`, `role2` TO `user`@`host`
            roles, _, _ = body.partition(" TO ")
            out.roles += [_unquote(r) for r in _split_privileges(roles)]
            continue
        privs_text, rest = split
        obj, _ = _object_and_rest(rest)
        match = _OBJECT.match(obj)
        if match is None or match["table"] != "*":
            continue  # table, routine (PROCEDURE db.p) or proxy grants
        privileges = [p.upper() for p in _split_privileges(privs_text)]
        if any("(" in p for p in privileges):
            continue  # column grants on a table: not at this level
        database = None if match["db"] == "*" else _unquote(match["db"])
        every = any(p in ("ALL", "ALL PRIVILEGES") for p in privileges)
        names = frozenset(" ".join(p.split()) for p in privileges) - {"USAGE"}
        out.grants.append(Grant(names, database, all_privileges=every))
    return out


def _like(pattern: str, name: str) -> bool:
    """MariaDB's database-name match: ``%`` any run, ``_`` one character, ``\\`` escapes."""
    regex, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(regex), name, re.S) is not None


def _specificity(pattern: str) -> tuple[int, int]:
    """Sort key of a database grant: exact names first, then longer literal prefixes."""
    literal = 0
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            literal += 1
            i += 2
            continue
        if pattern[i] in "%_":
            return (0, literal)
        literal += 1
        i += 1
    return (1, literal)


@dataclass(frozen=True)
class Holdings:
    """The account's effective grants: its own plus its active role's."""

    own: Grants
    role: Grants
    super_implies_read_only_admin: bool = False

    def _db_grants(self, grants: Grants, database: str) -> list[Grant]:
        matching = [
            g for g in grants.grants if g.database is not None and _like(g.database, database)
        ]
        return matching

    def has(self, privilege: str, database: str | None) -> bool:
        """True if ``privilege`` is held on ``database`` (None: globally)."""
        for grants in (self.own, self.role):
            for g in grants.grants:
                if g.database is None and self._covers(g, privilege, glob=True):
                    return True
        if database is None:
            return False
        own = self._db_grants(self.own, database)
        if own:
            best = max(own, key=lambda g: _specificity(g.database or ""))
            if self._covers(best, privilege, glob=False):
                return True
        return any(self._covers(g, privilege, glob=False)
                   for g in self._db_grants(self.role, database))  # fmt: skip

    def _covers(self, grant: Grant, privilege: str, *, glob: bool) -> bool:
        if grant.all_privileges or privilege in grant.privileges:
            return True
        return (
            glob
            and privilege == "READ_ONLY ADMIN"
            and self.super_implies_read_only_admin
            and "SUPER" in grant.privileges
        )


def missing(holdings: Holdings, site: str, wanted: Iterable[Need]) -> list[MissingGrant]:
    """Each needed privilege ``holdings`` does not cover, with its GRANT statement."""
    out: list[MissingGrant] = []
    for need in wanted:
        lacking = [p for p in need.privileges if not holdings.has(p, need.database)]
        statement = f"GRANT {', '.join(lacking)} ON {need.on} TO {GRANTEE};"
        out += [MissingGrant(site, p, need.on, need.why, statement) for p in lacking]
    return out


def _version_before_10_11(version: str) -> bool:
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return False
    return (int(match[1]), int(match[2])) < (10, 11)


def read_holdings(conn: Connection) -> Holdings:
    """The effective grants of the session's account (own grants plus its active role's)."""
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS FOR CURRENT_USER")
        own = parse_show_grants(row[0] for row in cur.fetchall())
        cur.execute("SELECT CURRENT_ROLE(), VERSION()")
        role_name, version = cur.fetchone()
        role = Grants()
        if role_name:
            cur.execute(f"SHOW GRANTS FOR {quote_ident(role_name)}")
            role = parse_show_grants(row[0] for row in cur.fetchall())
    return Holdings(own, role, super_implies_read_only_admin=_version_before_10_11(version))


def check(conn: Connection, site: str, databases: Iterable[str]) -> list[MissingGrant]:
    """What the session's account lacks at ``site`` for ranges over ``databases``."""
    return missing(read_holdings(conn), site, needs(databases))
