"""The SQLAlchemy dialects ``mysql+mdbc`` and ``mariadb+mdbc``: SQLAlchemy over mdbc_py.

    create_engine("mysql+mdbc://user:pw@host:3306/requestdb?site=dc1&config=/etc/mdbc/mdbc.toml")
    create_engine("mariadb+mdbc://user:pw@host:3306/requestdb?site=dc1&config=/etc/mdbc/mdbc.toml")

Everything SQL-related is MySQL's dialect as used with PyMySQL (mdbc_py
speaks PyMySQL's protocol, types and errors); only the DB-API module and the
two extra connect arguments (``site``, ``config``) differ. Registered through
the ``sqlalchemy.dialects`` entry point, so no import is needed. The
``mariadb+`` form is SQLAlchemy's MariaDB dialect (it insists on a MariaDB
server and uses MariaDB-only SQL where there is some), built the way
SQLAlchemy builds ``mariadb+pymysql``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from sqlalchemy.dialects.mysql.mariadb import MariaDBDialect
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.engine.url import URL

MDBC_QUERY_ARGS = ("site", "config")


class MDBCDialect(MySQLDialect_pymysql):
    """MySQL dialect with mdbc_py as the DB-API driver."""

    driver = "mdbc"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        import mdbc_py

        return mdbc_py

    def _found_rows_client_flag(self) -> int | None:
        """PyMySQL's FOUND_ROWS flag: UPDATE row counts mean "rows matched", as the ORM expects.

        The base class looks for ``<dbapi>.constants.CLIENT``; mdbc_py speaks
        PyMySQL's protocol, so the flag is PyMySQL's.
        """
        from pymysql.constants import CLIENT

        return int(CLIENT.FOUND_ROWS)

    def create_connect_args(self, url: URL, _translate_args: Any = None) -> Any:
        """PyMySQL's arguments, plus ``site`` and ``config`` from the URL query."""
        extra = {k: url.query[k] for k in MDBC_QUERY_ARGS if k in url.query}
        url = url.difference_update_query(MDBC_QUERY_ARGS)
        args, kwargs = super().create_connect_args(url, _translate_args)
        kwargs.update(extra)
        return args, kwargs


class MariaDBDialect_mdbc(MariaDBDialect, MDBCDialect):
    """``mariadb+mdbc``: what ``sqlalchemy.dialects.mysql.mariadb.loader`` builds per driver."""

    supports_statement_cache = True


dialect = MDBCDialect
