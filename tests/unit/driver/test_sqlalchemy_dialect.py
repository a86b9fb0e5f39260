"""The mysql+mdbc and mariadb+mdbc dialects: registration and connect arguments (no services)."""

from __future__ import annotations

from pymysql.constants import CLIENT
from sqlalchemy.dialects.mysql.mariadb import MariaDBDialect
from sqlalchemy.engine.url import make_url

from mdbc_py.sqlalchemy import MariaDBDialect_mdbc, MDBCDialect


def test_connect_args_carry_site_config_and_found_rows() -> None:
    dialect = MDBCDialect()
    dialect.dbapi = MDBCDialect.import_dbapi()
    url = make_url("mysql+mdbc://u:p@127.0.0.1:3321/requestdb?site=dc1&config=/etc/mdbc/mdbc.toml")
    args, kwargs = dialect.create_connect_args(url)
    assert args == []
    assert (kwargs["site"], kwargs["config"], kwargs["database"]) == (
        "dc1",
        "/etc/mdbc/mdbc.toml",
        "requestdb",
    )
    assert kwargs["client_flag"] & CLIENT.FOUND_ROWS, "UPDATE rowcount would not be rows matched"


def test_both_urls_resolve_through_the_entry_points() -> None:
    mysql = make_url("mysql+mdbc://u:p@h/db").get_dialect()
    mariadb = make_url("mariadb+mdbc://u:p@h/db").get_dialect()
    assert issubclass(mysql, MDBCDialect) and not issubclass(mysql, MariaDBDialect)
    assert mariadb is MariaDBDialect_mdbc and issubclass(mariadb, MDBCDialect)
    assert mariadb.import_dbapi().__name__ == "mdbc_py"
