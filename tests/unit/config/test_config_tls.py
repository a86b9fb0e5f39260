"""``[store.tls]``, ``[sites.X.tls]`` and the store's credentials: parsed, checked, used.

The files come from the sandbox's own certificate maker (both of its tools),
so these tests also prove that what ``--secure`` generates is a working
chain: a TLS handshake against a local test server verifies the server by
CA and IP address, and the client certificate is presented.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from cassandra.auth import PlainTextAuthProvider

from mdbc_py.config import from_mapping, load, save
from mdbc_py.errors import ConfigError
from mdbc_py.sandbox.certs import TlsFiles, ensure_certificates
from mdbc_py.tls import TlsConfig, cassandra_options, parse_tls

STORE_SECRET = "cass-Secret-991"


@pytest.fixture(scope="module", params=["cryptography", "openssl"])
def certs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    folder = tmp_path_factory.mktemp(f"tls-{request.param}")
    return ensure_certificates(folder, ["127.0.0.1"], tool=request.param)


def _store(tls: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    store: dict[str, Any] = {"backend": "cassandra", **extra}
    if tls is not None:
        store["tls"] = tls
    return {"store": store, "sites": {"dc1": {"port": 3311, "password": "x"}}}


def test_store_tls_and_credentials_become_cassandra_options(certs: TlsFiles) -> None:
    tls = {"ca": str(certs.ca), "cert": str(certs.client_cert), "key": str(certs.client_key)}
    cfg = from_mapping(_store(tls, username="mdbc", password=STORE_SECRET))
    options = cassandra_options(cfg.store)
    auth = options["auth_provider"]
    assert isinstance(auth, PlainTextAuthProvider)
    assert (auth.username, auth.password) == ("mdbc", STORE_SECRET)
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert STORE_SECRET not in repr(cfg.store) + str(cfg.store.describe())


def test_no_tls_and_no_username_give_nothing() -> None:
    assert cassandra_options(from_mapping(_store()).store) == {
        "auth_provider": None,
        "ssl_context": None,
    }


def test_site_tls_becomes_pymysql_ssl(certs: TlsFiles, tmp_path: Path) -> None:
    data = _store()
    data["sites"]["dc1"]["tls"] = {"ca": str(certs.ca), "verify": True}
    site = from_mapping(data).site("dc1")
    assert site.connect_kwargs()["ssl"] == {
        "ca": str(certs.ca),
        "verify_mode": True,
        "check_hostname": True,
    }
    data["sites"]["dc1"]["tls"] = {"verify": False}
    plain = from_mapping(data).site("dc1").connect_kwargs()["ssl"]
    assert plain == {"verify_mode": False, "check_hostname": False}
    data["sites"]["dc1"].pop("tls")
    assert "ssl" not in from_mapping(data).site("dc1").connect_kwargs()


def test_relative_paths_are_taken_from_the_config_folder(certs: TlsFiles) -> None:
    tls = parse_tls(
        {"ca": "ca.pem", "cert": "client.pem", "key": "client.key"}, "[t]", certs.folder
    )
    assert (tls.ca, tls.cert, tls.key) == (
        str(certs.ca),
        str(certs.client_cert),
        str(certs.client_key),
    )


def test_tls_tables_round_trip_through_to_toml(certs: TlsFiles, tmp_path: Path) -> None:
    data = _store({"ca": str(certs.ca), "check_hostname": False}, username="u", password="p")
    data["sites"]["dc1"]["tls"] = {"ca": str(certs.ca), "cert": str(certs.client_cert),
                                   "key": str(certs.client_key)}  # fmt: skip
    cfg = from_mapping(data)
    back = load(save(cfg, tmp_path / "mdbc.toml"))
    assert back.store.tls == cfg.store.tls
    assert back.site("dc1").tls == cfg.site("dc1").tls
    assert back.store.password == "p"


@pytest.mark.parametrize(
    ("tls", "key", "message"),
    [
        ({"ca": "/nonexistent/ca.pem"}, "ca", "does not exist"),
        ({"ca": "/"}, "ca", "is not a file"),
        ({"ca": 5}, "ca", "must be a file path"),
        ({"cert": "CERT", "key": "/nonexistent/k"}, "key", "does not exist"),
        ({"key": "KEY"}, "key", "without 'cert'"),
        ({"verify": "yes"}, "verify", "must be true or false"),
        ({"verify": False, "check_hostname": True}, "check_hostname", "needs verify = true"),
        ({"verfy": True}, "verfy", "did you mean 'verify'"),
    ],
)
def test_bad_tls_settings_name_the_key(
    certs: TlsFiles, tls: dict[str, Any], key: str, message: str
) -> None:
    fixed = {
        k: {"CERT": str(certs.client_cert), "KEY": str(certs.client_key)}.get(v, v)
        if isinstance(v, str)
        else v
        for k, v in tls.items()
    }
    for where, data in (("[store.tls]", _store(fixed)), ("[sites.dc1.tls]", _site_tls(fixed))):
        with pytest.raises(ConfigError, match=message) as info:
            from_mapping(data)
        assert (info.value.key, info.value.table) == (key, where)


def _site_tls(tls: dict[str, Any]) -> dict[str, Any]:
    data = _store()
    data["sites"]["dc1"]["tls"] = tls
    return data


def test_tls_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"\[store.tls\] must be a table"):
        from_mapping(_store("yes"))  # type: ignore[arg-type]


def test_a_file_that_is_not_pem_is_named_when_the_context_is_built(
    certs: TlsFiles, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"ca file .* is not a PEM CA certificate") as info:
        TlsConfig(ca=str(junk)).ssl_context()
    assert info.value.key == "ca"
    other = ensure_certificates(tmp_path / "other", [], tool="cryptography")
    mismatched = TlsConfig(ca=str(certs.ca), cert=str(certs.client_cert), key=str(other.client_key))
    with pytest.raises(ConfigError, match=r"cert file .* cannot be loaded") as info:
        mismatched.ssl_context("[sites.dc1.tls]")
    assert (info.value.key, info.value.table) == ("cert", "[sites.dc1.tls]")
    assert "PRIVATE" not in str(info.value)


def _serve_once(
    certs: TlsFiles, require_client: bool
) -> tuple[int, dict[str, Any], threading.Thread]:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(certs.server_cert, certs.server_key)
    if require_client:
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        server_ctx.load_verify_locations(certs.ca)
    listener = socket.create_server(("127.0.0.1", 0))
    seen: dict[str, Any] = {}

    def serve() -> None:
        with listener:
            listener.settimeout(20)
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    seen["peer"] = tls.getpeercert()
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as exc:
                seen["error"] = exc

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], seen, thread


def test_the_generated_chain_works_for_a_real_handshake(certs: TlsFiles) -> None:
    port, seen, thread = _serve_once(certs, require_client=True)
    tls = TlsConfig(ca=str(certs.ca), cert=str(certs.client_cert), key=str(certs.client_key))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=20) as raw,
        tls.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1") as conn,
    ):
        assert conn.recv(2) == b"ok"
    thread.join(20)
    assert "error" not in seen
    assert ("commonName", "mdbc") in [pair for rdn in seen["peer"]["subject"] for pair in rdn]


def test_a_server_not_signed_by_the_ca_is_refused(certs: TlsFiles, tmp_path: Path) -> None:
    stranger = ensure_certificates(tmp_path / "stranger", [], tool="cryptography")
    port, _, thread = _serve_once(certs, require_client=False)
    tls = TlsConfig(ca=str(stranger.ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=20) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        tls.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    thread.join(20)
