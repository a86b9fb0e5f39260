"""``mdbc sandbox up --secure``: TLS and authentication on both services, for real.

One site and one Cassandra node, started through the CLI as users do. The
written ``mdbc.toml`` is the only way in: a plaintext MariaDB login is
refused, a TLS one with the configuration works and a certificate from
another CA is not trusted; Cassandra refuses anonymous and plaintext
clients and the retired default superuser, and accepts the ``mdbc`` role,
which may use its own keyspace and nothing else. The store session itself
is wired elsewhere, so the Cassandra checks connect through
``mdbc_py.tls.cassandra_options`` directly. Finally nothing the sandbox
printed or wrote outside ``secrets/`` and its state file holds a password.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from cassandra import Unauthorized
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable

from mdbc_py.config import Config, load
from mdbc_py.sandbox import Sandbox, SandboxError
from mdbc_py.sandbox.certs import ensure_certificates
from mdbc_py.tls import TlsConfig, cassandra_options
from tests.conftest import TEST_BASE_PORT, TEST_CASSANDRA_IP, unavailable

BASE_PORT = TEST_BASE_PORT + 40
_octets = TEST_CASSANDRA_IP.split(".")
CASSANDRA_IP = ".".join([*_octets[:3], str(int(_octets[3]) + 50)])

pytestmark = pytest.mark.services


def _mdbc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, str]]:
    """A secure sandbox and everything its ``up`` printed (for the secret scan)."""
    directory = tmp_path_factory.mktemp("secure")
    args = ["sandbox", "up", "--secure", "--sites", "1", "--cassandra-nodes", "1"]
    args += ["--base-port", str(BASE_PORT), "--cassandra-ip", CASSANDRA_IP, "--dir", str(directory)]
    done = _mdbc(*args)
    box = Sandbox(directory)
    if done.returncode != 0:
        box.down()
        unavailable(f"secure sandbox: {done.stderr.strip()[-500:]}")
    again = _mdbc(*args[:-2], "--dir", str(directory))  # up twice is harmless
    try:
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr
        yield box, done.stdout + done.stderr + again.stdout + again.stderr
    finally:
        box.down()


@pytest.fixture(scope="module")
def cfg(secure: tuple[Sandbox, str]) -> Config:
    return load(secure[0].config_path)


# -- MariaDB ----------------------------------------------------------------------


def test_a_plaintext_mariadb_login_is_refused(cfg: Config) -> None:
    site = cfg.site("dc1")
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(
            host=site.host,
            port=site.port,
            user=site.user,
            password=site.password,
            ssl_disabled=True,  # PyMySQL would otherwise try unverified TLS on its own
            connect_timeout=5,
        )
    # MariaDB 10.11 reports a refused insecure transport as a plain access denial.
    assert info.value.args[0] == 1045
    # The very same credentials over TLS are accepted: it was the transport.
    pymysql.connect(**site.connect_kwargs(), connect_timeout=5).close()


def test_a_tls_login_with_the_config_works(cfg: Config) -> None:
    site = cfg.site("dc1")
    assert site.tls is not None and site.tls.verify and site.tls.check_hostname
    conn = pymysql.connect(**site.connect_kwargs(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            (_, version) = cur.fetchone()
    finally:
        conn.close()
    assert version.startswith("TLSv1.")


def test_a_server_is_not_trusted_on_another_ca(cfg: Config, tmp_path: Path) -> None:
    stranger = ensure_certificates(tmp_path / "stranger", [])
    site = cfg.site("dc1")
    kwargs = {**site.connect_kwargs(), "ssl": TlsConfig(ca=str(stranger.ca)).pymysql_ssl()}
    with pytest.raises(pymysql.err.OperationalError, match="CERTIFICATE_VERIFY_FAILED"):
        pymysql.connect(**kwargs, connect_timeout=5)


# -- Cassandra --------------------------------------------------------------------


def _cluster(cfg: Config, **options: Any) -> Cluster:
    return Cluster(
        list(cfg.store.contact_points),
        port=cfg.store.port,
        protocol_version=5,
        connect_timeout=5,
        **options,
    )


def _refused(cfg: Config, **options: Any) -> str:
    cluster = _cluster(cfg, **options)
    try:
        with pytest.raises(NoHostAvailable) as info:
            cluster.connect()
    finally:
        cluster.shutdown()
    return str(info.value)


def test_cassandra_refuses_anonymous_clients(cfg: Config) -> None:
    tls_only = cassandra_options(cfg.store)["ssl_context"]
    assert "authentication" in _refused(cfg, ssl_context=tls_only).lower()


def test_cassandra_refuses_plaintext_clients(cfg: Config) -> None:
    _refused(cfg, auth_provider=cassandra_options(cfg.store)["auth_provider"])


def test_cassandra_refuses_the_default_superuser(cfg: Config) -> None:
    tls_only = cassandra_options(cfg.store)["ssl_context"]
    _refused(
        cfg, ssl_context=tls_only, auth_provider=PlainTextAuthProvider("cassandra", "cassandra")
    )


def test_the_mdbc_role_uses_its_keyspace_and_nothing_else(cfg: Config) -> None:
    options = cassandra_options(cfg.store)
    assert options["auth_provider"].username == "mdbc"
    cluster = _cluster(cfg, **options)
    try:
        session = cluster.connect()
        ks = cfg.store.keyspace
        session.execute(f"CREATE TABLE IF NOT EXISTS {ks}.probe (k int PRIMARY KEY, v text)")
        session.execute(f"INSERT INTO {ks}.probe (k, v) VALUES (1, 'x')")
        assert session.execute(f"SELECT v FROM {ks}.probe WHERE k = 1").one().v == "x"
        refused = [
            "CREATE KEYSPACE other WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}",
            f"DROP KEYSPACE {ks}",
            "SELECT * FROM system_auth.roles",
            "CREATE ROLE intruder WITH LOGIN = true AND PASSWORD = 'x'",
        ]
        for statement in refused:
            with pytest.raises(Unauthorized):
                session.execute(statement)
    finally:
        cluster.shutdown()


def test_granted_keyspaces_are_usable_and_others_are_not(
    secure: tuple[Sandbox, str], cfg: Config
) -> None:
    """``grant_keyspaces``: the admin creates the keyspace, the role gets its own permissions."""
    box, _ = secure
    box.grant_keyspaces(["mdbc_granted"])
    box.grant_keyspaces(["mdbc_granted"])  # twice is harmless
    with pytest.raises(SandboxError, match="not a keyspace name"):
        box.grant_keyspaces(["ok_name", "bad; DROP KEYSPACE mdbc"])
    cluster = _cluster(cfg, **cassandra_options(cfg.store))
    try:
        session = cluster.connect()
        session.execute("CREATE TABLE IF NOT EXISTS mdbc_granted.probe (k int PRIMARY KEY)")
        session.execute("INSERT INTO mdbc_granted.probe (k) VALUES (1)")
        assert session.execute("SELECT k FROM mdbc_granted.probe").one().k == 1
        with pytest.raises(Unauthorized):  # its own permissions: no DROP
            session.execute("DROP KEYSPACE mdbc_granted")
    finally:
        cluster.shutdown()
    admin = _cluster(cfg, **box.cassandra_admin_options())
    try:
        names = admin.connect().execute("SELECT keyspace_name FROM system_schema.keyspaces")
        assert "ok_name" not in {row.keyspace_name for row in names}  # refused before any CQL
    finally:
        admin.shutdown()


# -- secrets ----------------------------------------------------------------------


def test_the_config_holds_no_secret_and_the_secrets_are_private(
    secure: tuple[Sandbox, str], cfg: Config
) -> None:
    box, _ = secure
    text = box.config_path.read_text()
    assert not [s for s in box.secrets() if s in text], "a password is in mdbc.toml"
    assert cfg.site("dc1").password == box.password
    assert cfg.store.password == box.state.store_password
    private = [cfg.site("dc1").password_file, cfg.store.password_file]
    private += [cfg.store.tls.key, box.directory / "tls" / "server.key"]  # type: ignore[union-attr]
    for path in private:
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600, path


def test_nothing_printed_or_logged_holds_a_password(secure: tuple[Sandbox, str]) -> None:
    box, printed = secure
    leaks: list[str] = []
    secrets = [s.encode() for s in box.secrets()]
    assert all(len(s) >= 16 for s in secrets)
    if any(s in printed.encode() for s in secrets):
        leaks.append("the output of 'mdbc sandbox up'")
    allowed = {box.directory / "secrets", box.directory / "sandbox.json"}
    scanned = 0
    for path in box.directory.rglob("*"):
        if not path.is_file() or any(path == a or a in path.parents for a in allowed):
            continue
        data = path.read_bytes()
        scanned += len(data)
        if any(s in data for s in secrets):
            leaks.append(str(path.relative_to(box.directory)))
    assert scanned > 1_000_000  # logs, binlogs, data and commit logs were read
    assert not leaks, f"a sandbox password is in: {', '.join(leaks)}"


def test_a_plain_sandbox_cannot_be_made_secure(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.state.services["dc1"] = _record(tmp_path)
    box.state.save()
    with pytest.raises(SandboxError, match="without --secure"):
        Sandbox(tmp_path).up(sites=1, cassandra_nodes=0, base_port=BASE_PORT + 5, secure=True)


def _record(folder: Path) -> Any:
    from mdbc_py.sandbox.state import ServiceRecord

    return ServiceRecord("dc1", "mariadb", "127.0.0.1", BASE_PORT + 6, str(folder / "dc1"))


# -- mdbc itself over the secure links ------------------------------------------------


def test_init_and_a_commit_run_over_tls_with_the_least_privilege_role(
    cfg: Config, secure: tuple[Sandbox, str], tmp_path: Path
) -> None:
    """The whole commit path on the secure sandbox: TLS to MariaDB, TLS and a role to Cassandra.

    The role may not create keyspaces, so ``mdbc init`` must use the keyspace
    the sandbox created for it rather than fail on ``CREATE KEYSPACE``.
    """
    import mdbc_py
    from mdbc_py.config import RangeConfig, save
    from mdbc_py.core.runtime import Runtime
    from mdbc_py.music import open_store

    db = "secure_app"
    admin = pymysql.connect(**cfg.site("dc1").connect_kwargs(), autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {db}")
        cur.execute(f"CREATE DATABASE {db}")
    admin.close()
    ranged = Config(
        sites=cfg.sites,
        store=cfg.store,
        ranges={db: RangeConfig(name=db, database=db, initial_owner="dc1")},
        source=None,
    )
    path = save(ranged, Path(secure[0].config_path).parent / "secure-app.toml")
    done = _mdbc("init", "-c", str(path))
    assert done.returncode == 0, done.stderr
    conn = mdbc_py.connect(site="dc1", config=str(path), database=db)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("INSERT INTO t VALUES (1, 'over tls')")
        conn.commit()
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        assert str(cur.fetchone()[1]).startswith("TLS")
    finally:
        conn.close()
        Runtime.reset_all()
    store = open_store(load(str(path)).store, create=False)
    try:
        assert store.describe_range(db).tail == 2  # the CREATE TABLE and the INSERT
    finally:
        store.close()
