"""The listener's bounds: a session limit, and a stop that drains open transactions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pymysql
import pytest

from mdbc_py.config import Config
from mdbc_py.music import MusicStore
from mdbc_py.proxy import ProxyServer, ProxySettings
from tests.proxy.conftest import rows, table_name, via_proxy, wait_until


def test_session_limit_and_draining_stop(
    proxy_cfg: Config,
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
) -> None:
    server = ProxyServer(proxy_cfg, "dc1", ProxySettings(port=0, max_sessions=2, drain_seconds=60))
    host, port = server.start()
    args: dict[str, Any] = via_proxy(proxy_cfg.site("dc1"), (host, port))
    stopper = threading.Thread(target=server.stop)
    try:
        idle = pymysql.connect(**args, database=range_a)
        busy = pymysql.connect(**args, database=range_a)
        with pytest.raises(pymysql.err.OperationalError) as info:
            pymysql.connect(**args)
        assert info.value.args[0] == 1040 and "at most 2" in info.value.args[1]

        t = table_name()
        cur = busy.cursor()
        cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
        tail = store.describe_range(range_a).tail
        cur.execute(f"INSERT INTO {t} VALUES (1)")  # a transaction is open
        stopper.start()
        wait_until(lambda: server.session_count == 1, "the idle session was not ended at once")
        with pytest.raises(pymysql.err.Error):
            idle.cursor().execute("SELECT 1")
        busy.commit()  # the open transaction may still finish, through the log
        stopper.join(timeout=30)
        assert not stopper.is_alive(), "the stop did not end once the transaction finished"
        assert [r.seq for r in store.iter_entries(range_a, tail + 1)] == [tail + 1]
        assert rows(raw, f"SELECT id FROM {range_a}.{t}") == ((1,),)
        with pytest.raises(pymysql.err.OperationalError):
            pymysql.connect(**args, connect_timeout=2)
    finally:
        if stopper.ident is None:
            server.stop(drain_seconds=0)
        stopper.join(timeout=30)
