"""``mdbc status | promote | switchover | pause | resume | history | log``."""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Iterable, Iterator, Mapping

import click

from cli.common import (
    EXIT_FAILED,
    check_ranges,
    check_sites,
    config_option,
    fail_on_mdbc_errors,
    load_config,
    say,
)
from cli.health import Problem, probe_sites, unhealthy_rows
from cli.output import FORMATS, emit
from mdbc_py.admin.status import PAUSED_SETTING, ProxyRow, collect_proxies, collect_status
from mdbc_py.config import Config
from mdbc_py.errors import StoreSchemaError
from mdbc_py.log import decode
from mdbc_py.music import MusicStore, open_store
from mdbc_py.replication.promote import promote as do_promote
from mdbc_py.replication.promote import switchover as do_switchover

output_option = click.option(
    "-o", "--output", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)


@contextlib.contextmanager
def opened(
    config_path: str | None,
    *,
    sites: Mapping[str, Iterable[str]] | None = None,
    ranges: Iterable[str] = (),
) -> Iterator[tuple[Config, MusicStore]]:
    """The configuration and a store session, closed afterwards.

    ``sites`` (option name -> site names) and ``ranges`` are checked against
    the configuration before the store is opened: naming an unknown one is
    bad usage (exit 2) and needs no store.
    """
    cfg = load_config(config_path)
    for hint, names in (sites or {}).items():
        check_sites(cfg, names, hint)
    check_ranges(cfg, ranges)
    store = fail_on_mdbc_errors(lambda: open_store(cfg.store, create=False))
    try:
        yield cfg, store
    finally:
        store.close()


def _when(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@click.command("status")
@config_option
@output_option
def status(config_path: str | None, fmt: str) -> None:
    """One row per range and site: role, state, epoch, applied, lag, lease.

    Then one row per running mdbc proxy: site, listen address, sessions,
    state (up, draining, stopped, gone) and seconds since its last heartbeat.
    It also logs in to every site's MariaDB with the configured credentials.
    Exit code 0: every site reachable and healthy; 1: a site cannot be
    reached or a row is unhealthy (a replica not streaming, a range without
    an open owner, a proxy gone without a clean stop; each reason is a line
    on stderr, the table is printed anyway); 2: bad usage (unknown option,
    unusable configuration file).
    """
    proxies: list[ProxyRow] = []
    with opened(config_path) as (cfg, store):
        rows = fail_on_mdbc_errors(lambda: collect_status(cfg, store))
        paused = store.get_setting(PAUSED_SETTING) == "1"
        try:
            proxies = fail_on_mdbc_errors(lambda: collect_proxies(store))
        except click.ClickException as exc:
            if not isinstance(exc.__context__, StoreSchemaError):
                raise
            say(f"proxies not shown: {exc.format_message()}")
    table = [r.as_dict() for r in rows]
    problems = [*probe_sites(cfg), *unhealthy_rows(table), *gone_proxies(proxies)]
    if fmt == "json":
        emit([*table, *(proxy_json(p) for p in proxies)], [], fmt)
    else:
        emit_status(table, proxies, fmt)
    if paused and fmt == "table":
        click.echo("automatic failover: PAUSED ('mdbc resume' turns it back on)")
    for problem in problems:
        say(f"unhealthy: {problem}")
    if problems:
        raise SystemExit(EXIT_FAILED)


def proxy_json(row: ProxyRow) -> dict[str, object]:
    """A proxy in ``status -o json``: a row of role ``proxy`` beside the range rows."""
    return {"range": None, "role": "proxy", **row.as_dict()}


def gone_proxies(proxies: Iterable[ProxyRow]) -> list[Problem]:
    """A proxy whose heartbeats stopped without a clean stop is a problem of its site."""
    return [
        Problem(p.site, f"proxy {p.proxy} ({p.listen}) is gone: no heartbeat for {p.last_seen:g} s")
        for p in proxies
        if p.state == "gone"
    ]


def emit_status(table: list[dict[str, object]], proxies: list[ProxyRow], fmt: str) -> None:
    """The range table, then (if any proxy runs) the proxy table."""
    emit(
        table,
        [
            "range",
            "site",
            "role",
            "state",
            "epoch",
            "applied",
            "lag_entries",
            "lag_seconds",
            "lease",
            "heartbeat_age",
            "error",
        ],
        fmt,
    )
    if proxies:
        click.echo()
        columns = ["site", "proxy", "listen", "sessions", "state", "last_seen"]
        emit([p.as_dict() for p in proxies], columns, fmt)


@click.command("promote")
@click.argument("range_name", metavar="RANGE")
@click.option("--site", required=True, help="The site to make owner.")
@click.option("--force", is_flag=True, help="Even if the current owner still holds its lease.")
@config_option
def promote(range_name: str, site: str, force: bool, config_path: str | None) -> None:
    """Make SITE the owner of RANGE (fence the old owner, catch up, open)."""
    with opened(config_path, sites={"--site": [site]}, ranges=[range_name]) as (cfg, store):
        result = fail_on_mdbc_errors(
            lambda: do_promote(cfg, store, range_name, site, force=force, say=say)
        )
    click.echo(
        f"{range_name}: owner {result.change.to_site} at epoch {result.change.to_epoch} "
        f"(applied {result.applied} entries, {result.seconds:.2f} s)"
    )


@click.command("switchover")
@click.argument("range_name", metavar="RANGE")
@click.option("--to", "to_site", required=True, help="The site to hand the range to.")
@click.option(
    "--drain",
    type=click.FloatRange(0, 60),
    default=2.0,
    show_default=True,
    help="Seconds the old owner gets to finish in-flight transactions.",
)
@config_option
def switchover(range_name: str, to_site: str, drain: float, config_path: str | None) -> None:
    """Planned change of owner of RANGE: drain, fence, catch up, open. Loses nothing."""
    with opened(config_path, sites={"--to": [to_site]}, ranges=[range_name]) as (cfg, store):
        result = fail_on_mdbc_errors(
            lambda: do_switchover(cfg, store, range_name, to_site, drain, say=say)
        )
    click.echo(
        f"{range_name}: owner {result.change.to_site} at epoch {result.change.to_epoch} "
        f"(fenced at {result.change.tail}, {result.seconds:.2f} s)"
    )


@click.command("pause")
@config_option
def pause(config_path: str | None) -> None:
    """Turn automatic failover off (for maintenance); manual promote still works."""
    with opened(config_path) as (_, store):
        fail_on_mdbc_errors(lambda: store.put_setting(PAUSED_SETTING, "1"))
    click.echo("automatic failover paused")


@click.command("resume")
@config_option
def resume(config_path: str | None) -> None:
    """Turn automatic failover back on."""
    with opened(config_path) as (_, store):
        fail_on_mdbc_errors(lambda: store.put_setting(PAUSED_SETTING, None))
    click.echo("automatic failover resumed")


@click.command("history")
@click.argument("range_name", metavar="[RANGE]", required=False)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@config_option
@output_option
def history(range_name: str | None, limit: int, config_path: str | None, fmt: str) -> None:
    """Changes of owner, newest first: when, from, to, epoch, tail, reason."""
    with opened(config_path, ranges=[range_name] if range_name else []) as (_, store):
        changes = fail_on_mdbc_errors(lambda: store.history(range_name, limit))
    rows = [
        {
            "at": _when(c.at),
            "range": c.range_name,
            "from": c.from_site,
            "to": c.to_site,
            "epoch": c.to_epoch,
            "tail": c.tail,
            "reason": c.reason,
        }
        for c in changes
    ]
    emit(rows, ["at", "range", "from", "to", "epoch", "tail", "reason"], fmt)


@click.command("log")
@click.argument("range_name", metavar="RANGE")
@click.option("--from", "from_seq", type=click.IntRange(1), default=1, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@config_option
@output_option
def log_cmd(range_name: str, from_seq: int, limit: int, config_path: str | None, fmt: str) -> None:
    """Decode and print log entries of RANGE (JSON shows every row image)."""
    with opened(config_path, ranges=[range_name]) as (_, store):
        records = fail_on_mdbc_errors(lambda: store.read(range_name, from_seq, limit))
    if fmt == "json":
        out = []
        for r in records:
            p = decode(r.payload)
            out.append(
                {
                    "seq": r.seq,
                    "epoch": r.epoch,
                    "txid": r.txid,
                    "appended_at": _when(r.appended_at),
                    "origin": p.origin_site,
                    "ddl": None
                    if p.ddl is None
                    else {"database": p.ddl.database, "sql": p.ddl.sql},
                    "changes": [
                        {
                            "table": c.table,
                            "op": c.op.value,
                            "pk": dict(c.pk),
                            "row": None if c.row is None else dict(c.row),
                        }
                        for c in p.changes
                    ],
                }
            )
        click.echo(json.dumps(out, indent=2, default=_jsonable))
        return
    rows = []
    for r in records:
        p = decode(r.payload)
        what = (
            f"DDL: {p.ddl.sql[:60]}"
            if p.ddl
            else f"{len(p.changes)} rows: " + ", ".join(sorted({c.table for c in p.changes}))
        )
        rows.append(
            {
                "seq": r.seq,
                "epoch": r.epoch,
                "at": _when(r.appended_at),
                "origin": p.origin_site,
                "txid": r.txid[:12],
                "content": what,
            }
        )
    emit(rows, ["seq", "epoch", "at", "origin", "txid", "content"], fmt)


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)
