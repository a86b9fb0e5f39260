"""Store contract, both backends: the registry of running proxies.

What each test tries to break: a heartbeat that keeps old info, a dead
proxy's record that never goes away, a proxy taken for a site (it would
hold back trimming), and a keyspace of an older version failing with a
driver error instead of saying what to run.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest

from mdbc_py.config import Config, ConfigError
from mdbc_py.errors import StoreSchemaError
from mdbc_py.music import MusicStore


def fresh_site() -> str:
    """A site name no other test (or earlier run on the shared keyspace) used."""
    return f"px{uuid.uuid4().hex[:10]}"


def test_heartbeat_records_and_replaces_a_proxys_info(store: MusicStore) -> None:
    site = fresh_site()
    store.proxy_heartbeat(site, "host-a 127.0.0.1:3307", {"state": "up", "sessions": "0"}, 30)
    store.proxy_heartbeat(site, "host-b 127.0.0.1:3307", {"state": "up", "sessions": "5"}, 30)
    before = time.time()
    store.proxy_heartbeat(site, "host-a 127.0.0.1:3307", {"state": "draining"}, 30)
    mine = [p for p in store.list_proxies() if p.site == site]
    assert [(p.instance, p.info) for p in mine] == [
        ("host-a 127.0.0.1:3307", {"state": "draining"}),
        ("host-b 127.0.0.1:3307", {"state": "up", "sessions": "5"}),
    ]
    assert mine[0].heartbeat_at >= before - 2  # the store's clock, near this host's
    assert site not in {s.name for s in store.list_sites()}  # a proxy is not a site


def test_a_record_is_gone_once_its_ttl_passed(store: MusicStore) -> None:
    site = fresh_site()
    store.proxy_heartbeat(site, "short", {"state": "up"}, 1)
    store.proxy_heartbeat(site, "long", {"state": "up"}, 60)
    assert {p.instance for p in store.list_proxies() if p.site == site} == {"short", "long"}
    deadline = time.monotonic() + 10
    while {p.instance for p in store.list_proxies() if p.site == site} != {"long"}:
        assert time.monotonic() < deadline, "the record of a silent proxy outlived its ttl"
        time.sleep(0.25)


def test_a_bad_site_name_is_refused(store: MusicStore) -> None:
    with pytest.raises(ConfigError):
        store.proxy_heartbeat("dc1'; DROP", "x", {}, 30)


def test_a_keyspace_without_the_table_says_to_run_init(sandbox_config: Config) -> None:
    from mdbc_py.music.cassandra import CassandraStore

    cfg = replace(sandbox_config.store, keyspace="mdbc_noproxies")
    store = CassandraStore(cfg)  # creates the keyspace, the table included
    try:
        store.session.execute("DROP TABLE IF EXISTS mdbc_noproxies.proxies", timeout=60)
        store.close()
        store = CassandraStore(cfg, create=False)  # as a proxy or status opens it
        with pytest.raises(StoreSchemaError, match="run 'mdbc init' once") as caught:
            store.proxy_heartbeat("dc1", "x", {}, 30)
        assert caught.value.table == "proxies"
        with pytest.raises(StoreSchemaError):
            store.list_proxies()
        store.create_schema()  # what mdbc init does
        store.proxy_heartbeat("dc1", "x", {"state": "up"}, 30)
        assert [p.instance for p in store.list_proxies()] == ["x"]
    finally:
        store.close()
