"""The configuration and metrics references of ``docs/operations.md``, generated from the code.

The keys come from ``mdbc_py.config`` (the tuples of known keys its parser
enforces) and their defaults from parsing a minimal configuration, so a key
added, renamed or given a new default shows here the next time the reference
is generated; only the one-line meanings are written by hand, and
``tests/deploy/test_docs.py`` fails when a key has none or a meaning names a
key the code no longer knows. The metrics come from ``AgentMetrics``,
``DriverMetrics`` and ``ProxyMetrics`` themselves.

    python -m mdbc_py.ops.reference docs/operations.md    # rewrite the generated parts
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mdbc_py import config
from mdbc_py.errors import ConfigError
from mdbc_py.ops.metric_names import (
    MetricFamily,
    agent_families,
    driver_families,
    proxy_families,
)

MEANINGS: dict[str, dict[str, str]] = {
    "top level": {
        "mode": "What a driver process does with a write at a site that does not own its "
        "range: `master-slave` refuses it (`NotOwnerError`), `route` sends the connection "
        "to the owner's database, `migrate` moves the range here after catch-up. "
        "`MDBC_MODE` overrides it.",
        "local_site": "The site this process runs at. `MDBC_SITE` overrides it; the agent "
        "takes it from `--site`.",
        "sites": "One `[sites.NAME]` table per site.",
        "store": "The `[store]` table: where the MUSIC store is.",
        "ranges": "One `[ranges.NAME]` table per range.",
        "metrics_port": "Opt-in: a driver (or proxy) process using this file serves its "
        "commit metrics at `/metrics` on this port. `MDBC_METRICS_PORT` wins over it; "
        "the agent takes its own from `--metrics-port`.",
        "metrics_addr": "The address `metrics_port` binds to (default `127.0.0.1`). "
        "`MDBC_METRICS_ADDR` wins over it.",
    },
    "[sites.NAME]": {
        "host": "Host of the site's MariaDB, reachable from every site.",
        "port": "Port of the site's MariaDB.",
        "user": "The account mdbc logs in with (grants: `deploy/grant-mdbc.sql`).",
        "password": "Its password. Never printed; keep the file mode 0600 or in a Secret.",
        "password_file": "Read the password from this file instead (e.g. a mounted Secret).",
        "password_env": "Read the password from this environment variable instead.",
        "tls": "A `[sites.NAME.tls]` table: TLS toward the site's MariaDB (below).",
        "unix_socket": "Connect through this socket instead of TCP.",
        "priority": "Between equally caught-up sites, the higher priority wins a failover.",
        "nofailover": "`true`: never promoted automatically (manual `promote` still works).",
        "name": "Optional repeat of NAME (must equal it).",
    },
    "[store]": {
        "backend": "`cassandra` (production, several sites) or `embedded` (one SQLite "
        "file on one host: demo and development).",
        "contact_points": "Cassandra nodes to contact first (a list, or one comma-separated "
        "string); list nodes of the site's own data centre.",
        "port": "Cassandra's native transport port.",
        "keyspace": "The keyspace of the MUSIC log, leases and site registry.",
        "replication": "Replication of the keyspace when `mdbc init` creates it, e.g. "
        '`{ class = "NetworkTopologyStrategy", dc1 = 3, dc2 = 3, dc3 = 3 }`.',
        "local_dc": "The site's Cassandra data centre: requests go to its nodes first.",
        "username": "Cassandra login, when the cluster has authentication on.",
        "password": "Its password.",
        "password_file": "Read the store password from this file instead.",
        "password_env": "Read the store password from this environment variable instead.",
        "tls": "A `[store.tls]` table: TLS toward Cassandra (below).",
        "path": "The SQLite file of the embedded backend (relative to the config file).",
    },
    "[sites.NAME.tls] and [store.tls]": {
        "ca": "PEM file of the CA(s) that signed the server's certificate (default: the "
        "system's trust store).",
        "cert": "PEM client certificate, for servers that require one.",
        "key": "Its private key (needs `cert`).",
        "verify": "Check the server's certificate chain.",
        "check_hostname": "Check that the certificate names the address connected to "
        "(default: the value of `verify`).",
    },
    "[ranges.NAME]": {
        "database": "The MariaDB database of the range.",
        "tables": "Only these tables of the database (default: all of them).",
        "initial_owner": "The site that owns the range when `mdbc init` creates it.",
    },
}
"""The one hand-written part: what each key means, by table."""

UNDESCRIBED = "*(not described yet)*"
"""Shown for a key the code knows but MEANINGS does not; the docs test fails on it."""

KEYS: dict[str, tuple[str, ...]] = {
    "top level": config.TOP_LEVEL_KEYS,
    "[sites.NAME]": config.SITE_KEYS,
    "[store]": config.STORE_KEYS,
    "[ranges.NAME]": config.RANGE_KEYS,
}
try:  # TLS settings, where this version has them
    from mdbc_py.tls import TLS_KEYS, TlsConfig

    KEYS = {**dict(list(KEYS.items())[:3]), "[sites.NAME.tls] and [store.tls]": TLS_KEYS}
    KEYS["[ranges.NAME]"] = config.RANGE_KEYS
    _TLS_DEFAULTS: dict[str, Any] = {
        k: getattr(TlsConfig(), k) for k in TLS_KEYS if k != "check_hostname"
    } | {"check_hostname": "same as `verify`"}
except ImportError:  # pragma: no cover - versions without TLS
    _TLS_DEFAULTS = {}

_MINIMAL: dict[str, Any] = {
    "store": {"backend": "cassandra"},
    "sites": {"dc1": {"port": 3306}},
    "ranges": {"r1": {}},
}


def _defaults() -> dict[str, dict[str, Any]]:
    """What the parser fills in for each key a minimal configuration leaves out."""
    cfg = config.from_mapping(_MINIMAL)
    site, store, rng = cfg.sites["dc1"], cfg.store, cfg.ranges["r1"]
    return {
        "top level": {
            "mode": cfg.mode,
            "local_site": cfg.local_site,
            "metrics_port": cfg.metrics_port,
            "metrics_addr": cfg.metrics_addr,
        },
        "[sites.NAME]": {k: getattr(site, k, None) for k in config.SITE_KEYS if k != "name"},
        "[store]": {k: getattr(store, k) for k in config.STORE_KEYS}
        | {"backend": config.from_mapping({"store": {"path": "m.sqlite"}}).store.backend},
        "[sites.NAME.tls] and [store.tls]": _TLS_DEFAULTS,
        "[ranges.NAME]": {
            "database": "NAME" if rng.database == "r1" else rng.database,
            "tables": rng.tables,
            "initial_owner": rng.initial_owner,
        },
    }


def _required(table: str, key: str) -> bool:
    """True if leaving ``key`` out of an otherwise minimal configuration is an error."""
    data: dict[str, Any] = {k: dict(v) for k, v in _MINIMAL.items()}
    data["sites"] = {"dc1": dict(_MINIMAL["sites"]["dc1"])}
    if table == "[sites.NAME]":
        data["sites"]["dc1"].pop(key, None)
    elif table == "[store]":
        data["store"] = {k: v for k, v in data["store"].items() if k != key}
        if key == "backend":
            return False
    else:
        return False
    try:
        config.from_mapping(data)
    except ConfigError:
        return True
    return False


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if isinstance(value, Mapping):
        body = ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in value.items())
        return "`{ " + body + " }`"
    if isinstance(value, str):
        return "NAME" if value == "NAME" else f'`"{value}"`'
    return f"`{value}`"


def config_reference() -> str:
    """Markdown tables of every configuration key: default (or required) and meaning."""
    defaults = _defaults()
    out: list[str] = []
    for table, keys in KEYS.items():
        out += [f"**{table}**", "", "| key | default | meaning |", "|---|---|---|"]
        for key in keys:
            if key in ("sites", "store", "ranges", "tls") or (
                table == "[sites.NAME]" and key == "name"
            ):
                default = "—"
            elif key == "check_hostname":
                default = "same as `verify`"
            elif _required(table, key):
                default = "required"
            elif key == "password":
                default = '`""`' if table == "[sites.NAME]" else "none"
            elif key in ("password_file", "password_env"):
                default = "none"
            else:
                default = _show(defaults[table].get(key))
            meaning = MEANINGS.get(table, {}).get(key, UNDESCRIBED).replace("|", "\\|")
            out.append(f"| `{key}` | {default} | {meaning} |")
        out.append("")
    out += [
        "Environment: `MDBC_CONFIG` (the file, else `./mdbc.toml`), `MDBC_SITE` "
        "(`local_site`), `MDBC_MODE` (`mode`). An unknown key in any table is an error "
        "that names it (and the key it probably meant).",
    ]
    return "\n".join(out)


def _labels(family: MetricFamily) -> str:
    return ", ".join(f"`{label}`" for label in family.labels) or "none"


def metrics_reference(found: list[MetricFamily] | None = None) -> str:
    """A Markdown table of every series the agent (or the given families) exports."""
    out = ["| series | type | labels | meaning |", "|---|---|---|---|"]
    for family in agent_families() if found is None else found:
        meaning = family.help.replace("|", "\\|")
        out.append(f"| `{family.main_sample}` | {family.kind} | {_labels(family)} | {meaning} |")
    return "\n".join(out)


def driver_metrics_reference() -> str:
    """A Markdown table of every series a driver process exports once it opts in."""
    return metrics_reference(driver_families())


def proxy_metrics_reference() -> str:
    """A Markdown table of every series ``mdbc proxy`` exports."""
    return metrics_reference(proxy_families())


SECTIONS = {
    "config": config_reference,
    "metrics": metrics_reference,
    "driver_metrics": driver_metrics_reference,
    "proxy_metrics": proxy_metrics_reference,
}
MARKER = re.compile(
    r"(<!-- BEGIN GENERATED: (\w+) .*?-->\n)(.*?)(<!-- END GENERATED: \2 -->)", re.S
)


def render(document: str) -> str:
    """``document`` with every generated section replaced by what the code says now."""

    def fill(m: re.Match[str]) -> str:
        return m.group(1) + SECTIONS[m.group(2)]() + "\n" + m.group(4)

    return MARKER.sub(fill, document)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mdbc_py.ops.reference docs/operations.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: generated sections updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
