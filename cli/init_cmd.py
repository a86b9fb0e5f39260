"""``mdbc init``: store schema, sites, ranges and capture triggers, idempotently."""

from __future__ import annotations

import click

from cli.common import config_option, fail_on_mdbc_errors, load_config, say
from cli.output import FORMATS, emit
from mdbc_py.admin.init import initialize


@click.command("init")
@config_option
@click.option("-o", "--output", "fmt", type=click.Choice(FORMATS), default="table")
def init(config_path: str | None, fmt: str) -> None:
    """Create the MUSIC store schema, register sites, create ranges, install capture.

    Safe to run again: it creates what is missing and keeps what exists. A
    site that cannot be reached is reported; run init again once it is up.
    Before changing anything it checks the mdbc account's privileges at
    every site; if any is missing it names each one with the GRANT to run
    (as an administrator: see deploy/grant-mdbc.sql), changes nothing and
    exits 1.
    """
    cfg = load_config(config_path)
    report = fail_on_mdbc_errors(lambda: initialize(cfg, say=say))
    rows = [
        {
            "range": r.name,
            "owner": r.owner,
            "epoch": r.epoch,
            "state": r.state.value,
            "tail": r.tail,
            "tables": ", ".join(
                f"{site}:{len(report.captured.get(site, {}).get(cfg.ranges[r.name].database, []))}"
                for site in cfg.sites
            ),
        }
        for r in report.ranges
    ]
    emit(rows, ["range", "owner", "epoch", "state", "tail", "tables"], fmt)
    if report.unreachable:
        raise click.ClickException("unreachable sites: " + ", ".join(sorted(report.unreachable)))
