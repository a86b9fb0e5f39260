"""TLS settings of the links to MariaDB and Cassandra, and what the clients take.

One ``TlsConfig`` shape serves both links: ``[sites.NAME.tls]`` (the driver,
the agent and the CLI toward a site's MariaDB) and ``[store.tls]`` (toward
Cassandra). Keys:

- ``ca``: PEM file of the CA(s) that signed the server's certificate; when
  absent the system's trust store is used;
- ``cert`` / ``key``: PEM client certificate and its private key, for
  servers that require client certificates (``key`` needs ``cert``; a
  ``cert`` file holding the key too may stand alone);
- ``verify`` (default true): check the server's certificate chain;
- ``check_hostname`` (default: the value of ``verify``): check that the
  certificate names the address connected to (an IP address needs an IP
  SAN). PyMySQL checks names only when ``ca`` is given.

Paths are resolved against the configuration file's folder and checked when
the configuration is loaded (exists, is a file, is readable), so a wrong
mount fails at start-up naming the key, not at the first reconnect. Their
content is checked when a client context is built (``ssl_context``), with
the key named in the error. No message ever holds a file's content.

``cassandra_options`` turns ``[store]`` into the ``Cluster`` keyword
arguments cassandra-driver needs (``auth_provider``, ``ssl_context``); the
store's session passes them through.
"""

from __future__ import annotations

import difflib
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdbc_py.errors import ConfigError

if TYPE_CHECKING:
    from mdbc_py.config import StoreConfig

__all__ = ["TLS_KEYS", "TlsConfig", "cassandra_options", "parse_tls"]

TLS_KEYS = ("ca", "cert", "check_hostname", "key", "verify")
_FILE_KEYS = ("ca", "cert", "key")


@dataclass(frozen=True)
class TlsConfig:
    """TLS toward one server: trust anchors, optional client identity, what to check."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True
    check_hostname: bool = True

    def describe(self) -> dict[str, Any]:
        """A printable view (file paths and flags; nothing here is a secret)."""
        view: dict[str, Any] = {k: getattr(self, k) for k in _FILE_KEYS if getattr(self, k)}
        view.update(verify=self.verify, check_hostname=self.check_hostname)
        return view

    def toml_lines(self) -> list[str]:
        """The body of a ``[... .tls]`` table that ``parse_tls`` reads back equal."""
        lines = [f"{k} = {_toml_str(getattr(self, k))}" for k in _FILE_KEYS if getattr(self, k)]
        lines.append(f"verify = {'true' if self.verify else 'false'}")
        lines.append(f"check_hostname = {'true' if self.check_hostname else 'false'}")
        return lines

    def pymysql_ssl(self) -> dict[str, Any]:
        """PyMySQL's ``ssl=`` dict: always TLS, verifying as configured.

        A dict rather than an ``SSLContext`` so connection arguments stay
        plain data (they are copied, compared and passed between threads).
        """
        sslp: dict[str, Any] = {"verify_mode": self.verify, "check_hostname": self.check_hostname}
        for name in _FILE_KEYS:
            value = getattr(self, name)
            if value:
                sslp[name] = value
        return sslp

    def ssl_context(self, where: str = "[store.tls]") -> ssl.SSLContext:
        """A client ``SSLContext`` (TLS 1.2 or later) built from these settings.

        Raises ``ConfigError`` naming the key whose file is not what it
        should be (not PEM, key not matching the certificate ...).
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = self.check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED if self.verify else ssl.CERT_NONE
        if self.ca:
            try:
                ctx.load_verify_locations(cafile=self.ca)
            except (ssl.SSLError, OSError) as exc:
                raise _bad_file(where, "ca", self.ca, "is not a PEM CA certificate", exc) from None
        elif self.verify:
            ctx.load_default_certs()
        if self.cert:
            try:
                ctx.load_cert_chain(self.cert, self.key)
            except (ssl.SSLError, OSError) as exc:
                what = "cert/key" if self.key else "cert"
                raise _bad_file(
                    where,
                    "cert",
                    self.cert,
                    f"and its key cannot be loaded as a PEM {what} pair",
                    exc,
                ) from None
        return ctx


def _bad_file(where: str, key: str, path: str, what: str, exc: BaseException) -> ConfigError:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
    return ConfigError(f"{where}: {key} file {path!r} {what} ({reason})", key=key, table=where)


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def parse_tls(raw: object, where: str, base: Path | None) -> TlsConfig:
    """Validate one ``tls`` table; ``where`` names it in errors (``[sites.dc1.tls]``)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table, not a {type(raw).__name__}", table=where)
    unknown = sorted(str(k) for k in raw if k not in TLS_KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], TLS_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}{hint}. Known keys of {where}: "
            + ", ".join(TLS_KEYS),
            key=unknown[0],
            table=where,
            known=TLS_KEYS,
        )
    verify = _flag(raw, "verify", where, True)
    check_hostname = _flag(raw, "check_hostname", where, verify)
    if check_hostname and not verify:
        raise ConfigError(
            f"{where}: check_hostname = true needs verify = true (a name cannot be trusted "
            "from a certificate that is not verified)",
            key="check_hostname",
            table=where,
        )
    files = {k: _file(raw, k, where, base) for k in _FILE_KEYS}
    if files["key"] and not files["cert"]:
        raise ConfigError(
            f"{where}: 'key' is set without 'cert' (the client certificate it belongs to)",
            key="key",
            table=where,
        )
    return TlsConfig(
        ca=files["ca"],
        cert=files["cert"],
        key=files["key"],
        verify=verify,
        check_hostname=check_hostname,
    )


def _flag(raw: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(
            f"{where}: {key!r} must be true or false, got a value of type {type(value).__name__}",
            key=key,
            table=where,
        )
    return value


def _file(raw: Mapping[str, Any], key: str, where: str, base: Path | None) -> str | None:
    """The absolute path of a file key, checked to be a readable file; None if unset."""
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{where}: {key!r} must be a file path (a non-empty string)", key=key, table=where
        )
    path = value if base is None or os.path.isabs(value) else str(base / value)
    if not os.path.exists(path):
        problem = "does not exist"
    elif not os.path.isfile(path):
        problem = "is not a file"
    elif not os.access(path, os.R_OK):
        problem = f"is not readable by this user (uid {os.getuid()})"
    else:
        return path
    raise ConfigError(f"{where}: {key} file {path!r} {problem}", key=key, table=where)


def cassandra_options(store: StoreConfig) -> dict[str, Any]:
    """``Cluster(...)`` keyword arguments for the store's credentials and TLS.

    ``auth_provider`` is a ``PlainTextAuthProvider`` when ``[store]`` has a
    ``username`` (Cassandra's PasswordAuthenticator), and ``ssl_context`` a
    client context when ``[store.tls]`` is present; each is ``None``
    otherwise, which cassandra-driver takes as "none". With
    ``check_hostname`` the driver checks each node's certificate against
    the address it connects to.
    """
    from cassandra.auth import PlainTextAuthProvider  # the driver is slow to import

    auth = None
    if store.username:
        auth = PlainTextAuthProvider(username=store.username, password=store.password or "")
    context = store.tls.ssl_context("[store.tls]") if store.tls is not None else None
    return {"auth_provider": auth, "ssl_context": context}
