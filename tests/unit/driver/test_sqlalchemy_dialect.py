"""The mysql+mdbc dialect's connect arguments (no services needed)."""

from __future__ import annotations

from pymysql.constants import CLIENT
from sqlalchemy.engine.url import make_url

from mdbc_py.sqlalchemy import MDBCDialect


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
