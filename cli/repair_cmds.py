"""``mdbc resync`` and ``mdbc verify``: bring a site back, and prove that sites agree."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from cli.admin_cmds import opened, output_option
from cli.common import config_option, fail_on_mdbc_errors, say
from cli.output import emit
from mdbc_py.replication.resync import resync_site
from mdbc_py.replication.verify import verify_range


@click.command("resync")
@click.option("--site", required=True, help="The site to bring back.")
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="RANGE",
    help="Only these ranges (repeatable; default: every range the site does not own).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild from a consistent snapshot of the owner (empty or trimmed site).",
)
@config_option
@output_option
def resync(
    site: str, ranges: tuple[str, ...], full: bool, config_path: str | None, fmt: str
) -> None:
    """Rejoin SITE as a replica: replay from its position, or --full from a snapshot."""
    with (
        opened(config_path, sites={"--site": [site]}, ranges=ranges) as (cfg, store),
        click.progressbar(
            length=1, label=f"resync {site}", file=click.get_text_stream("stderr")
        ) as bar,
    ):
        state = {"total": 1, "done": 0}

        def progress(done: int, total: int) -> None:
            if total != state["total"]:
                state["total"] = max(total, 1)
                bar.length = state["total"]
                bar.pos = 0
            bar.update(done - bar.pos)

        results = fail_on_mdbc_errors(
            lambda: resync_site(cfg, store, site, list(ranges) or None, full, progress)
        )
    emit(
        [asdict(r) for r in results],
        [
            "range_name",
            "site",
            "full",
            "snapshot_seq",
            "rows_copied",
            "applied_after",
            "position",
            "seconds",
        ],
        fmt,
    )


@click.command("verify")
@click.argument("range_names", nargs=-1, metavar="[RANGE]...")
@click.option("--site", "sites", multiple=True, help="Only these replicas (repeatable).")
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=60.0,
    show_default=True,
    help="How long replicas may take to reach the owner's position.",
)
@config_option
@output_option
def verify(
    range_names: tuple[str, ...],
    sites: tuple[str, ...],
    timeout: float,
    config_path: str | None,
    fmt: str,
) -> None:
    """Per-table checksums of owner and replicas at the same sequence number.

    Writes to the range wait while the owner's tables are compared (usually
    well under a second). Exit code 1 if any site differs, lags or is down.
    """
    with opened(config_path, sites={"--site": sites}, ranges=range_names) as (cfg, store):
        names = list(range_names) or sorted(cfg.ranges)
        results = [
            fail_on_mdbc_errors(
                lambda n=n: verify_range(
                    cfg,
                    store,
                    n,
                    list(sites) or None,
                    timeout,
                    progress=say,
                )
            )
            for n in names
        ]
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in results], indent=2, default=str))
    else:
        click.echo("\n\n".join(r.describe() for r in results))
    if not all(r.ok for r in results):
        raise SystemExit(1)
