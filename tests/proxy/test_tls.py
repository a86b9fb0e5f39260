"""TLS through ``mdbc proxy``: toward the sites' MariaDB, and (optionally) from its clients.

Toward MariaDB the proxy follows ``[sites.NAME.tls]``, as the driver does:
on a ``--secure`` sandbox (``MDBC_TEST_SECURE=1``, sites with
``require_secure_transport=ON``) every backend session is TLS, on a plain
one none is. Toward clients it offers TLS only with a certificate of its
own (``--tls-cert``/``--tls-key``); these tests make one, with a CA of
their own, apart from the sandbox's.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import struct
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymysql
import pytest

from mdbc_py.config import Config, save
from mdbc_py.log import decode
from mdbc_py.metrics import server_tls
from mdbc_py.music import MusicStore
from mdbc_py.proxy import ProxyServer, ProxySettings, handshake, wire
from mdbc_py.sandbox.certs import TlsFiles, ensure_certificates
from mdbc_py.tls import TlsConfig
from tests.conftest import SECURE, unavailable
from tests.proxy.conftest import ssl_version, table_name, via_proxy, wait_until
from tests.proxy.java_support import JavaChecks
from tests.proxy.test_cli import mysql, proxy_command


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA, the proxy's server certificate (127.0.0.1) and a client certificate."""
    return ensure_certificates(tmp_path_factory.mktemp("proxy-pki"), ["127.0.0.1"])


@pytest.fixture()
def started() -> Iterator[Callable[..., ProxyServer]]:
    """``started(cfg, **settings)``: a proxy for dc1 on a free port, stopped after the test."""
    servers: list[ProxyServer] = []

    def _start(cfg: Config, **settings: Any) -> ProxyServer:
        server = ProxyServer(cfg, "dc1", ProxySettings(port=0, drain_seconds=0, **settings))
        server.start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop(drain_seconds=0)


def with_site_tls(cfg: Config, tls: TlsConfig | None) -> Config:
    site = cfg.site("dc1")
    return replace(cfg, sites={**cfg.sites, "dc1": replace(site, tls=tls)})


def test_backend_session_uses_tls_exactly_when_the_site_has_it(
    connect: Callable[..., pymysql.Connection],
    proxy_cfg: Config,
    store: MusicStore,
    range_a: str,
) -> None:
    """On a secure sandbox the site requires TLS; the proxy reaches it so, and commits."""
    site_tls = proxy_cfg.site("dc1").tls
    assert (site_tls is not None) == SECURE, "a secure sandbox configures TLS for its sites"
    conn = connect(database=range_a)
    assert not isinstance(conn._sock, ssl.SSLSocket), "the client's link is plain"
    version = ssl_version(conn)
    assert version.startswith("TLSv1.") if SECURE else version == "", version
    t = table_name()
    tail = store.describe_range(range_a).tail
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO {t} VALUES (1)")
        cur.execute("COMMIT")
    entries = [decode(r.payload) for r in store.iter_entries(range_a, tail + 1)]
    assert [len(e.changes) for e in entries] == [0, 1], "the DDL, then the transaction"


def test_an_untrusted_site_certificate_is_refused_naming_the_site(
    proxy_cfg: Config,
    started: Callable[..., ProxyServer],
    tmp_path: Path,
) -> None:
    """A CA that did not sign the site's certificate: the login ends with 2026 naming dc1.

    On a plain sandbox the site offers no TLS at all, which is refused as well.
    """
    foreign = ensure_certificates(tmp_path / "foreign", ["127.0.0.1"])
    cfg = with_site_tls(proxy_cfg, TlsConfig(ca=str(foreign.ca)))
    proxy = started(cfg)
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(**via_proxy(proxy_cfg.site("dc1"), proxy.address))
    errno, message = info.value.args
    assert errno == 2026, info.value.args
    assert message.startswith("TLS to the MariaDB of site 'dc1' failed: "), message
    expected = "certificate is not trusted" if SECURE else "its server does not offer TLS"
    assert expected in message and "[sites.dc1.tls]" in message, message


@pytest.mark.skipif(not SECURE, reason="needs a site that requires TLS (MDBC_TEST_SECURE=1)")
def test_a_site_requiring_tls_without_a_tls_table_says_which_table_is_missing(
    proxy_cfg: Config, started: Callable[..., ProxyServer]
) -> None:
    proxy = started(with_site_tls(proxy_cfg, None))
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(**via_proxy(proxy_cfg.site("dc1"), proxy.address))
    errno, message = info.value.args
    assert errno == 1045, info.value.args  # MariaDB's own answer to a plaintext login
    assert "no [sites.dc1.tls]" in message and "require_secure_transport" in message, message


def test_an_ssl_request_to_a_proxy_without_a_certificate_gets_a_clear_err(
    proxy: ProxyServer,
) -> None:
    with socket.create_connection(proxy.address, timeout=10) as sock:
        stream = wire.PacketStream(sock, "proxy")
        greeting = stream.read_packet()
        caps_at = greeting.payload.index(0, 1) + 1 + 4 + 9
        assert not struct.unpack_from("<H", greeting.payload, caps_at)[0] & wire.CLIENT_SSL
        flags = wire.CLIENT_PROTOCOL_41 | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_SSL
        stream.send(wire.Packet(1, struct.pack("<IIB", flags, 1 << 24, 45) + b"\x00" * 23))
        answer = stream.read_packet()
    assert answer.is_err and answer.seq == 2
    assert wire.parse_err(answer.payload) == (1043, "08S01", handshake.NO_LISTENER_TLS)


def test_listener_tls_with_pymysql_client_certificates_and_tls_required(
    proxy_cfg: Config,
    started: Callable[..., ProxyServer],
    pki: TlsFiles,
    store: MusicStore,
    range_a: str,
) -> None:
    context = server_tls(str(pki.server_cert), str(pki.server_key), str(pki.ca))
    proxy = started(proxy_cfg, tls=context, tls_required=True)
    args = via_proxy(proxy_cfg.site("dc1"), proxy.address)
    verified = {"ssl_ca": str(pki.ca), "ssl_verify_cert": True, "ssl_verify_identity": True}
    conn = pymysql.connect(
        **args,
        **verified,
        ssl_cert=str(pki.client_cert),
        ssl_key=str(pki.client_key),
        database=range_a,
    )
    assert conn._sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[union-attr]
    assert bool(ssl_version(conn)) == SECURE, "the backend link follows the site, not the client"
    t = table_name()
    blob = os.urandom(3 << 20)  # many TLS records each way
    tail = store.describe_range(range_a).tail
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, b LONGBLOB)")
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO {t} VALUES (1, %s)", (blob,))
        cur.execute("COMMIT")
        cur.execute(f"SELECT b FROM {t} WHERE id = 1")
        assert cur.fetchone()[0] == blob
    entries = [decode(r.payload) for r in store.iter_entries(range_a, tail + 1)]
    assert dict(entries[1].changes[0].row)["b"] == blob, "logged through the TLS session"
    conn.close()

    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(**args, **verified)  # no client certificate: the handshake fails
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(**args, ssl_disabled=True)  # plaintext, and --tls-required
    assert info.value.args[0] == 3159 and "--tls-required" in info.value.args[1], info.value.args
    wait_until(lambda: proxy.session_count == 0, "a refused client's session did not end")


def test_the_mysql_client_with_ssl_through_mdbc_proxy_with_a_certificate(
    proxy_cfg: Config, pki: TlsFiles, tmp_path: Path, store: MusicStore, range_a: str
) -> None:
    if shutil.which("mysql") is None:  # a failure in CI, a skip elsewhere
        unavailable("the mysql client is not installed (Debian's mariadb-client)")
    config = save(proxy_cfg, tmp_path / "mdbc.toml")
    listener = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key),
                "--tls-client-ca", str(pki.ca)]  # fmt: skip
    client = ["--ssl", "--ssl-ca", str(pki.ca), "--ssl-verify-server-cert",
           "--ssl-cert", str(pki.client_cert), "--ssl-key", str(pki.client_key)]  # fmt: skip
    t = table_name()
    script = (
        f"CREATE TABLE {t} (id INT PRIMARY KEY);\n"
        f"INSERT INTO {t} VALUES (1);\n"
        "SHOW SESSION STATUS LIKE 'Ssl_version';\n"
        "status\n"
    )
    with proxy_command(config, *listener) as (proc, port):
        assert proc.stderr is not None
        said = [proc.stderr.readline().strip() for _ in range(2)]  # the log line, the echo
        assert "TLS offered to clients with a certificate from --tls-client-ca" in said, said
        tail = store.describe_range(range_a).tail
        done = mysql(port, proxy_cfg, range_a, script, *client)
        assert done.returncode == 0, done.stderr
        cipher = [line for line in done.stdout.splitlines() if line.startswith("SSL:")]
        assert cipher and "Cipher in use is" in cipher[0], done.stdout
        backend = [line for line in done.stdout.splitlines() if line.startswith("Ssl_version")]
        assert backend == [f"Ssl_version\t{'TLSv1.3' if SECURE else ''}"], done.stdout
        assert len(list(store.iter_entries(range_a, tail + 1))) == 2

        no_cert = mysql(port, proxy_cfg, range_a, "SELECT 1;\n", *client[:4])
        assert no_cert.returncode == 1, no_cert.stdout
    with proxy_command(config) as (_, port):  # no certificate: SSL is not offered
        refused = mysql(port, proxy_cfg, range_a, "SELECT 1;\n", *client[:4])
        assert refused.returncode == 1
        assert "ERROR 2026" in refused.stderr, refused.stderr


def test_connector_j_with_ssl_mode_verify_full_through_the_proxy(
    proxy_cfg: Config,
    proxy: ProxyServer,
    started: Callable[..., ProxyServer],
    pki: TlsFiles,
    java_checks: JavaChecks,
    store: MusicStore,
    range_a: str,
) -> None:
    """The JDBC URL of the README: TLS to the proxy, its certificate checked, name included."""
    with_tls = started(proxy_cfg, tls=server_tls(str(pki.server_cert), str(pki.server_key)))
    site = proxy_cfg.site("dc1")
    env = {"MDBC_JDBC_USER": site.user, "MDBC_JDBC_PASSWORD": site.password}
    options = f"sslMode=verify-full&serverSslCert={pki.ca}"

    def check(address: tuple[str, int], table: str) -> str:
        url = f"jdbc:mariadb://{address[0]}:{address[1]}/{range_a}?{options}"
        done = java_checks.run("JdbcUrlCheck", [url, table], env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    tail = store.describe_range(range_a).tail
    assert check(with_tls.address, table_name()) == "ok"
    assert len(list(store.iter_entries(range_a, tail + 1))) == 2, "the DDL and the insert"
    refused = check(proxy.address, table_name())  # a proxy without a certificate
    assert refused.startswith("refused 08000") and "ssl" in refused.lower(), refused
