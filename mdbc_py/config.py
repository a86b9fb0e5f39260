"""One typed configuration for every part of mdbc_py.

It is read from a TOML file (``mdbc.toml``, found through the ``config=``
argument, ``MDBC_CONFIG`` or ``./mdbc.toml``) and a few ``MDBC_*`` environment
variables may override single values, so that one file can serve a whole
deployment while each container says which site it is.

Secrets (database and store passwords) are kept out of ``repr``, out of
every ``describe()`` output and out of every error message, so printing a
configuration or its errors never leaks them. Each password may be written
inline (``password``), read from a file (``password_file``, e.g. a mounted
Kubernetes Secret) or from an environment variable the file names
(``password_env``), so that ``mdbc.toml`` itself holds no secret and can live
in a ConfigMap; exactly one of the three per secret.

TLS and the store's credentials: ``[store]`` takes ``username`` and a
password as above, ``[store.tls]`` and ``[sites.NAME.tls]`` name the CA,
client certificate and key files (see ``mdbc_py.tls``, which also turns
them into what PyMySQL and cassandra-driver take).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from mdbc_py.errors import ConfigError
from mdbc_py.tls import TlsConfig, parse_tls

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")
"""Names of sites and ranges: safe as CQL values, SQL identifiers and file names."""

DEFAULT_CONFIG_NAME = "mdbc.toml"


class Mode(StrEnum):
    """How front ends treat a range this site does not own (DESIGN.md section 5).

    A ``str``: configurations built by hand with ``mode="route"`` compare
    equal, and it is written back to TOML as its value.
    """

    MASTER_SLAVE = "master-slave"
    ROUTE = "route"
    MIGRATE = "migrate"


MODES = tuple(m.value for m in Mode)

TOP_LEVEL_KEYS = ("local_site", "metrics_addr", "metrics_port", "mode", "ranges", "sites", "store")
SITE_KEYS = (
    "host",
    "name",
    "nofailover",
    "password",
    "password_env",
    "password_file",
    "port",
    "priority",
    "tls",
    "unix_socket",
    "user",
)
STORE_KEYS = (
    "backend",
    "contact_points",
    "keyspace",
    "local_dc",
    "password",
    "password_env",
    "password_file",
    "path",
    "port",
    "replication",
    "tls",
    "username",
)
SECRET_KEYS = ("password", "password_file", "password_env")
"""The three ways of giving one password; a table may use exactly one."""

MAX_SECRET_FILE_BYTES = 4096
"""A password file larger than this is surely the wrong file (a key, a log)."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RANGE_KEYS = ("database", "initial_owner", "tables")

MINIMAL_STORE_EXAMPLE = (
    "[store]\n"
    'backend = "cassandra"\n'
    'contact_points = ["10.0.0.1", "10.0.0.2"]\n'
    'keyspace = "mdbc"\n'
    '(or, on one host: [store] backend = "embedded", path = "music.sqlite")'
)
"""Shown when ``[store]`` is missing: the smallest table that works."""


def check_name(kind: str, name: object) -> str:
    """Return ``name`` if it is a valid site or range name, else raise ConfigError.

    Names travel into CQL, SQL and file paths; refusing anything but
    ``[A-Za-z][A-Za-z0-9_]*`` closes every injection route at the door.
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"invalid {kind} name {name!r}: use a letter then letters, digits or '_' "
            f"(at most 48 characters)"
        )
    return name


@dataclass(frozen=True)
class SiteConfig:
    """One site: its name and how to reach its MariaDB server."""

    name: str
    host: str
    port: int
    user: str
    password: str = field(default="", repr=False)
    unix_socket: str | None = None
    priority: int = 100
    nofailover: bool = False
    password_file: str | None = None
    """Where ``password`` was read from, if from a file (written back by ``to_toml``)."""
    password_env: str | None = None
    """The environment variable ``password`` was read from, if any."""
    tls: TlsConfig | None = None
    """TLS toward this site's MariaDB (``[sites.NAME.tls]``), or None for plaintext."""

    def with_password(self, password: str) -> SiteConfig:
        """This site with another inline password, and no ``password_file``/``password_env``.

        ``dataclasses.replace(site, password=...)`` alone keeps the reference
        to the file (or variable) the old password came from, and ``to_toml``
        writes that reference back, not the new value.
        """
        return replace(self, password=password, password_file=None, password_env=None)

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pymysql.connect`` that reach this site.

        With ``[sites.NAME.tls]`` they include PyMySQL's ``ssl`` dict, so the
        driver, the agent and the CLI, which all connect through here, use
        TLS alike.
        """
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
        }
        if self.unix_socket:
            kwargs["unix_socket"] = self.unix_socket
        if self.tls is not None:
            kwargs["ssl"] = self.tls.pymysql_ssl()
        return kwargs

    def describe(self) -> dict[str, Any]:
        """A printable view of the site, without its password (a file or variable name shows)."""
        view: dict[str, Any] = {
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "priority": self.priority,
            "nofailover": self.nofailover,
        }
        if self.password_file:
            view["password_file"] = self.password_file
        if self.password_env:
            view["password_env"] = self.password_env
        if self.tls is not None:
            view["tls"] = self.tls.describe()
        return view


@dataclass(frozen=True)
class StoreConfig:
    """Where the MUSIC store lives.

    ``backend`` is ``cassandra`` (production, multi-site) or ``embedded`` (one
    SQLite file on one host, for the demo and development).
    """

    backend: str = "embedded"
    contact_points: tuple[str, ...] = ("127.0.0.1",)
    port: int = 9042
    keyspace: str = "mdbc"
    local_dc: str | None = None
    replication: Mapping[str, Any] = field(
        default_factory=lambda: {"class": "SimpleStrategy", "replication_factor": 1}
    )
    path: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: str | None = None
    password_env: str | None = None
    tls: TlsConfig | None = None
    """Client TLS toward Cassandra (``[store.tls]``), or None for plaintext."""

    def describe(self) -> dict[str, Any]:
        """A printable view of the store, without its password."""
        view: dict[str, Any] = {"backend": self.backend}
        if self.backend == "cassandra":
            view.update(
                contact_points=list(self.contact_points),
                port=self.port,
                keyspace=self.keyspace,
                replication=dict(self.replication),
            )
            if self.username:
                view["username"] = self.username
            if self.password_file:
                view["password_file"] = self.password_file
            if self.password_env:
                view["password_env"] = self.password_env
            if self.tls is not None:
                view["tls"] = self.tls.describe()
        else:
            view["path"] = self.path
        return view


@dataclass(frozen=True)
class RangeConfig:
    """A range: a named set of tables with one log and one owner.

    ``tables`` of ``None`` means every table of ``database``.
    """

    name: str
    database: str
    tables: tuple[str, ...] | None = None
    initial_owner: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole configuration: sites, store, ranges and this process's site."""

    sites: Mapping[str, SiteConfig]
    store: StoreConfig
    ranges: Mapping[str, RangeConfig]
    local_site: str | None = None
    mode: Mode = Mode.MASTER_SLAVE
    source: str | None = None
    metrics_port: int | None = None
    metrics_addr: str | None = None

    def site(self, name: str) -> SiteConfig:
        """The site called ``name``, or a ConfigError listing the known ones."""
        try:
            return self.sites[name]
        except KeyError:
            known = ", ".join(sorted(self.sites)) or "none"
            raise ConfigError(f"unknown site {name!r} (configured sites: {known})") from None


def check_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    """Refuse keys this version does not know, naming the key, its table and the known keys.

    A misspelt key (``contact_point``, ``pasword``) would otherwise be
    ignored and its default used silently, which shows up much later as a
    wrong store or a refused login. Only key names are quoted, never values,
    so a password cannot reach the message.
    """
    unknown = sorted(str(k) for k in table if k not in known)
    if not unknown:
        return
    key = unknown[0]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    more = f", and also {', '.join(map(repr, unknown[1:]))}" if unknown[1:] else ""
    raise ConfigError(
        f"{where}: unknown key {key!r}{hint}{more}. Known keys of {where}: {', '.join(known)}",
        key=key,
        table=where,
        known=known,
    )


def _table(raw: object, where: str) -> Mapping[str, Any]:
    """``raw`` if it is a TOML table, else a ConfigError saying what it is instead."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table, not a {type(raw).__name__}", table=where)
    return raw


def _require(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: missing required key {key!r}", key=key, table=where)
    return table[key]


def _int(table: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    """An integer key (``"3306"`` is accepted too); the error names the key, not the value."""
    value = _require(table, key, where) if default is None else table.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"{where}: {key!r} must be an integer, got a value of type {type(value).__name__}",
            key=key,
            table=where,
        )
    return value


def _wrong_type(where: str, exc: Exception) -> ConfigError:
    """A TypeError/ValueError met while reading a table, as a ConfigError naming the table."""
    return ConfigError(f"{where}: a value has the wrong type ({exc})", table=where)


@dataclass(frozen=True)
class Secret:
    """A password and where it came from; ``repr`` shows the source, never the value."""

    value: str | None = field(default=None, repr=False)
    file: str | None = None
    env: str | None = None


def read_secret(table: Mapping[str, Any], where: str, base: Path | None) -> Secret:
    """The password of ``table`` from ``password``, ``password_file`` or ``password_env``.

    Exactly one may be set (two would leave it unclear which one wins, and
    a forgotten inline password would outlive the rotation of the file).
    A file is read whole, minus one trailing newline (``echo pw > file``
    adds one; Kubernetes Secrets have none); a relative path is taken from
    the configuration file's folder (and kept absolute, so ``to_toml``
    output works from anywhere). Every error names the key, the file or
    the variable, never the value.
    """
    given = [k for k in SECRET_KEYS if k in table]
    if len(given) > 1:
        raise ConfigError(
            f"{where}: {' and '.join(map(repr, given))} are both set; give the password "
            "one way only (password, password_file or password_env)",
            key=given[1],
            table=where,
        )
    if not given:
        return Secret()
    key = given[0]
    raw = table[key]
    if not isinstance(raw, str):
        raise ConfigError(
            f"{where}: {key!r} must be a string, got a value of type {type(raw).__name__}",
            key=key,
            table=where,
        )
    if key == "password":
        return Secret(value=raw)
    if key == "password_env":
        return Secret(value=_secret_from_env(raw, where), env=raw)
    path = raw if base is None or os.path.isabs(raw) else str(base / raw)
    return Secret(value=_secret_from_file(path, where), file=path)


def _secret_from_env(name: str, where: str) -> str:
    if not _ENV_NAME.match(name):
        raise ConfigError(
            f"{where}: 'password_env' must name an environment variable "
            "(letters, digits and '_', not starting with a digit)",
            key="password_env",
            table=where,
        )
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(
            f"{where}: environment variable {name} (named by 'password_env') is not set",
            key="password_env",
            table=where,
        )
    if not value:
        raise ConfigError(
            f"{where}: environment variable {name} (named by 'password_env') is empty",
            key="password_env",
            table=where,
        )
    return value


def _secret_from_file(path: str, where: str) -> str:
    def fail(what: str) -> ConfigError:
        return ConfigError(
            f"{where}: password_file {path!r} {what}", key="password_file", table=where
        )

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except FileNotFoundError:
        raise fail("does not exist") from None
    except IsADirectoryError:
        raise fail("is a directory, not a file") from None
    except PermissionError:
        raise fail(f"is not readable by this user (uid {os.getuid()})") from None
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise fail(f"is larger than {MAX_SECRET_FILE_BYTES} bytes: not a password file?")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise fail("is empty (is the secret mounted?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("is not UTF-8 text") from None


def _parse_site(name: str, raw: object, base: Path | None = None) -> SiteConfig:
    where = f"[sites.{name}]"
    check_name("site", name)
    raw = _table(raw, where)
    check_keys(raw, SITE_KEYS, where)
    if "name" in raw and raw["name"] != name:
        # Accepted only as a repeat of the table name (a site's describe() has it).
        raise ConfigError(
            f"{where}: name {raw['name']!r} differs from the table's name {name!r}",
            key="name",
            table=where,
        )
    secret = read_secret(raw, where, base)
    return SiteConfig(
        name=name,
        host=str(raw.get("host", "127.0.0.1")),
        port=_int(raw, "port", where),
        user=str(raw.get("user", "mdbc")),
        password=secret.value or "",
        unix_socket=raw.get("unix_socket"),
        priority=_int(raw, "priority", where, 100),
        nofailover=bool(raw.get("nofailover", False)),
        password_file=secret.file,
        password_env=secret.env,
        tls=parse_tls(raw["tls"], f"[sites.{name}.tls]", base) if "tls" in raw else None,
    )


def _parse_store(raw: object, base: Path | None) -> StoreConfig:
    raw = _table(raw, "[store]")
    check_keys(raw, STORE_KEYS, "[store]")
    try:
        return _store_values(raw, base)
    except (TypeError, ValueError) as exc:
        raise _wrong_type("[store]", exc) from None


def _store_values(raw: Mapping[str, Any], base: Path | None) -> StoreConfig:
    backend = str(raw.get("backend", "embedded"))
    if backend not in ("cassandra", "embedded"):
        raise ConfigError(f"[store]: backend must be 'cassandra' or 'embedded', not {backend!r}")
    path = raw.get("path")
    if path is not None and not isinstance(path, str):
        raise ConfigError(
            f"[store]: 'path' must be a string, got a value of type {type(path).__name__}",
            key="path",
            table="[store]",
        )
    if path is not None and base is not None and not os.path.isabs(path):
        path = str(base / path)
    if backend == "embedded" and not path:
        default = "" if "backend" in raw else " (the default when 'backend' is not set)"
        raise ConfigError(
            f"[store]: the embedded backend{default} needs 'path' (a SQLite file). "
            f"A minimal [store]:\n{MINIMAL_STORE_EXAMPLE}",
            key="path",
            table="[store]",
        )
    points = raw.get("contact_points", ["127.0.0.1"])
    if isinstance(points, str):
        points = [p.strip() for p in points.split(",") if p.strip()]
    keyspace = str(raw.get("keyspace", "mdbc"))
    check_name("keyspace", keyspace)
    secret = read_secret(raw, "[store]", base)
    username = raw.get("username")
    if username is not None and (not isinstance(username, str) or not username):
        raise ConfigError(
            "[store]: 'username' must be a non-empty string", key="username", table="[store]"
        )
    if secret.value is not None and username is None:
        raise ConfigError(
            "[store]: a password is set but no 'username' to log in with",
            key="username",
            table="[store]",
        )
    return StoreConfig(
        backend=backend,
        contact_points=tuple(points),
        port=_int(raw, "port", "[store]", 9042),
        keyspace=keyspace,
        local_dc=raw.get("local_dc"),
        replication=_parse_replication(
            raw.get("replication", {"class": "SimpleStrategy", "replication_factor": 1})
        ),
        path=path,
        username=username,
        password=secret.value,
        password_file=secret.file,
        password_env=secret.env,
        tls=parse_tls(raw["tls"], "[store.tls]", base) if "tls" in raw else None,
    )


REPLICATION_CLASSES = ("SimpleStrategy", "NetworkTopologyStrategy")
DC_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A Cassandra data-centre name as it may appear in ``[store] replication``."""


def _parse_replication(raw: object) -> dict[str, Any]:
    """``[store] replication``, checked: it is written into ``CREATE KEYSPACE``.

    ``class`` is SimpleStrategy (with ``replication_factor``) or
    NetworkTopologyStrategy (with one data-centre name per key); every
    factor is a positive whole number. Names and values are checked, never
    quoted blindly, so nothing here can reach CQL as code.
    """
    where = "[store] replication"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table", key="replication", table="[store]")
    cls = str(raw.get("class", "")).rsplit(".", 1)[-1]
    if cls not in REPLICATION_CLASSES:
        raise ConfigError(
            f"{where}: class must be SimpleStrategy or NetworkTopologyStrategy",
            key="replication",
            table="[store]",
        )
    out: dict[str, Any] = {"class": cls}
    for key, value in raw.items():
        if key == "class":
            continue
        if cls == "SimpleStrategy" and key != "replication_factor":
            raise ConfigError(
                f"{where}: SimpleStrategy takes only replication_factor",
                key="replication",
                table="[store]",
            )
        if cls == "NetworkTopologyStrategy" and not (
            isinstance(key, str) and DC_NAME_PATTERN.fullmatch(key)
        ):
            raise ConfigError(
                f"{where}: {str(key)[:80]!r} is not a data-centre name (letters, digits, "
                "'_', '.', '-')",
                key="replication",
                table="[store]",
            )
        factor = int(value) if isinstance(value, str) and value.isdigit() else value
        if type(factor) is not int or factor < 1:
            raise ConfigError(
                f"{where}: the factor of {key!r} must be a positive whole number",
                key="replication",
                table="[store]",
            )
        out[key] = factor
    if len(out) == 1:
        raise ConfigError(
            f"{where}: {cls} needs "
            + ("replication_factor" if cls == "SimpleStrategy" else "one factor per data centre"),
            key="replication",
            table="[store]",
        )
    return out


def _parse_range(name: str, raw: object) -> RangeConfig:
    check_name("range", name)
    raw = _table(raw, f"[ranges.{name}]")
    check_keys(raw, RANGE_KEYS, f"[ranges.{name}]")
    tables = raw.get("tables")
    if tables is not None and (
        not isinstance(tables, list | tuple) or not all(isinstance(t, str) for t in tables)
    ):
        raise ConfigError(
            f"[ranges.{name}]: 'tables' must be a list of table names",
            key="tables",
            table=f"[ranges.{name}]",
        )
    return RangeConfig(
        name=name,
        database=str(raw.get("database", name)),
        tables=tuple(tables) if tables is not None else None,
        initial_owner=raw.get("initial_owner"),
    )


def from_mapping(
    data: Mapping[str, Any], *, source: str | None = None, base: Path | None = None
) -> Config:
    """Build a Config from parsed TOML (or any mapping of the same shape).

    Every table is checked for unknown keys before any value is used.
    """
    check_keys(data, TOP_LEVEL_KEYS, "the top level")
    sites = {
        n: _parse_site(n, s, base) for n, s in _table(data.get("sites", {}), "[sites]").items()
    }
    if "store" not in data:
        raise ConfigError(
            "the [store] table is missing: it says where the MUSIC store is. "
            f"A minimal one:\n{MINIMAL_STORE_EXAMPLE}",
            table="[store]",
        )
    store = _parse_store(data["store"], base)
    ranges = {n: _parse_range(n, r) for n, r in _table(data.get("ranges", {}), "[ranges]").items()}
    for rng in ranges.values():
        if rng.initial_owner is not None and rng.initial_owner not in sites:
            raise ConfigError(
                f"[ranges.{rng.name}]: initial_owner {rng.initial_owner!r} is not a configured site"
            )
    local = data.get("local_site")
    mode = _check_mode(str(data.get("mode", "master-slave")), "mode")
    port = data.get("metrics_port")
    if port is not None and (type(port) is not int or not 1 <= port <= 65535):
        raise ConfigError(
            "metrics_port must be a port number (1-65535)",
            key="metrics_port",
            table="the top level",
        )
    addr = data.get("metrics_addr")
    if addr is not None and not isinstance(addr, str):
        raise ConfigError(
            "metrics_addr must be a string", key="metrics_addr", table="the top level"
        )
    cfg = Config(
        sites=sites,
        store=store,
        ranges=ranges,
        local_site=local,
        mode=mode,
        source=source,
        metrics_port=port,
        metrics_addr=addr,
    )
    return _apply_env(cfg)


def _check_mode(mode: str, where: str) -> Mode:
    if mode not in MODES:
        raise ConfigError(f"{where} must be master-slave, route or migrate, not {mode!r}")
    return Mode(mode)


def _apply_env(cfg: Config) -> Config:
    """Apply the MDBC_SITE and MDBC_MODE overrides."""
    site = os.environ.get("MDBC_SITE", cfg.local_site)
    mode = _check_mode(os.environ.get("MDBC_MODE", cfg.mode), "MDBC_MODE")
    if site is not None and site not in cfg.sites:
        cfg.site(site)  # raises with the list of known sites
    return Config(
        sites=cfg.sites,
        store=cfg.store,
        ranges=cfg.ranges,
        local_site=site,
        mode=mode,
        source=cfg.source,
        metrics_port=cfg.metrics_port,
        metrics_addr=cfg.metrics_addr,
    )


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the configuration is: the argument, ``MDBC_CONFIG``, or ``./mdbc.toml``."""
    candidate = explicit or os.environ.get("MDBC_CONFIG") or DEFAULT_CONFIG_NAME
    path = Path(candidate)
    if not path.is_file():
        raise ConfigError(
            f"no mdbc configuration at {str(path)!r}: pass config=PATH, set MDBC_CONFIG, "
            f"or run 'mdbc sandbox up' to create one"
        )
    return path


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the configuration file."""
    found = find_config_path(path)
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{found}: not UTF-8 text (byte {exc.start} cannot be decoded); TOML files are UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{found}: cannot read: {exc.strerror}") from None
    return from_mapping(data, source=str(found), base=found.parent)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _secret_lines(value: str | None, file: str | None, env: str | None) -> list[str]:
    """Write a password back the way it was given: a file or variable stays a reference."""
    if file:
        return [f"password_file = {_toml_value(file)}"]
    if env:
        return [f"password_env = {_toml_value(env)}"]
    return [f"password = {_toml_value(value or '')}"]


def to_toml(cfg: Config) -> str:
    """The configuration as TOML that ``load`` reads back to an equal Config.

    Passwords given inline are written inline: write it with mode 0600
    (``save``). Those read from a file or variable are written as that
    reference, never as the value.
    """
    lines = [f"mode = {_toml_value(cfg.mode)}"]
    if cfg.local_site:
        lines.append(f"local_site = {_toml_value(cfg.local_site)}")
    if cfg.metrics_port is not None:
        lines.append(f"metrics_port = {cfg.metrics_port}")
    if cfg.metrics_addr is not None:
        lines.append(f"metrics_addr = {_toml_value(cfg.metrics_addr)}")
    store = cfg.store
    lines += ["", "[store]", f"backend = {_toml_value(store.backend)}"]
    if store.backend == "cassandra":
        lines += [
            f"contact_points = {_toml_value(list(store.contact_points))}",
            f"port = {store.port}",
            f"keyspace = {_toml_value(store.keyspace)}",
            f"replication = {_toml_value(dict(store.replication))}",
        ]
        if store.local_dc:
            lines.append(f"local_dc = {_toml_value(store.local_dc)}")
        if store.username:
            lines.append(f"username = {_toml_value(store.username)}")
            lines += _secret_lines(store.password, store.password_file, store.password_env)
        if store.tls is not None:
            lines += ["", "[store.tls]", *store.tls.toml_lines()]
    else:
        lines.append(f"path = {_toml_value(store.path)}")
    for site in cfg.sites.values():
        lines += [
            "",
            f"[sites.{site.name}]",
            f"host = {_toml_value(site.host)}",
            f"port = {site.port}",
            f"user = {_toml_value(site.user)}",
            *_secret_lines(site.password, site.password_file, site.password_env),
            f"priority = {site.priority}",
            f"nofailover = {_toml_value(site.nofailover)}",
        ]
        if site.unix_socket:
            lines.append(f"unix_socket = {_toml_value(site.unix_socket)}")
        if site.tls is not None:
            lines += ["", f"[sites.{site.name}.tls]", *site.tls.toml_lines()]
    for rng in cfg.ranges.values():
        lines += ["", f"[ranges.{rng.name}]", f"database = {_toml_value(rng.database)}"]
        if rng.tables is not None:
            lines.append(f"tables = {_toml_value(list(rng.tables))}")
        if rng.initial_owner:
            lines.append(f"initial_owner = {_toml_value(rng.initial_owner)}")
    return "\n".join(lines) + "\n"


def save(cfg: Config, path: str | os.PathLike[str]) -> Path:
    """Write ``cfg`` to ``path`` (mode 0600: it holds passwords)."""
    target = Path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(to_toml(cfg))
    return target
