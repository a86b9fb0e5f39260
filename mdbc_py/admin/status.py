"""``mdbc status``: one row per range and site, as ``patronictl list`` does for Patroni.

Everything comes from the store (what the agents report), so status works
while sites are down. Lag in seconds is the age of the oldest entry a site
has not applied yet.

A replica whose agent reports an entry its database refuses is
``apply-error`` (never "streaming"), and ``error`` says which entry and
which MySQL error. The owner's lease column shows only a lease of the
current owner at the current epoch: a lease left by a previous owner is
no lease of this one (``none``).

Below the ranges, one row per ``mdbc proxy`` that heartbeats the store
(``collect_proxies``): its site, listen address, open sessions and state:
``up``, ``draining``, ``stopped`` (a clean stop, shown for a minute), or
``gone`` when its heartbeats stopped without a clean stop (until its record
expires, a few minutes later).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from mdbc_py.config import Config
from mdbc_py.music import MusicStore, ProxyInfo
from mdbc_py.music.lease_watch import LeaseWatch
from mdbc_py.replication.agent import APPLY_ERROR_KEY

PAUSED_SETTING = "failover.paused"


@dataclass(frozen=True)
class StatusRow:
    """One range at one site."""

    range: str
    site: str
    role: str
    state: str
    epoch: int
    applied: int | None
    lag_entries: int | None
    lag_seconds: float | None
    lease: str
    heartbeat_age: float | None
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return asdict(self)


def collect_status(cfg: Config, store: MusicStore, stale_after: float = 5.0) -> list[StatusRow]:
    """The status table (see module docstring)."""
    now = time.time()
    sites = {s.name: s for s in store.list_sites()}
    rows: list[StatusRow] = []
    for name in sorted(cfg.ranges):
        info = store.describe_range(name)
        lease = store.get_lease(name)
        positions = store.applied_positions(name)
        behind = store.needs_resync(name)
        for site in cfg.sites:
            reg = sites.get(site)
            age = now - reg.heartbeat_at if reg else None
            alive = age is not None and age <= stale_after
            pos = positions[site].seq if site in positions else None
            owner = site == info.owner
            error = ""
            if alive and reg is not None and APPLY_ERROR_KEY + name in reg.info:
                code, _, seq = reg.info[APPLY_ERROR_KEY + name].partition(" at ")
                error = f"cannot apply entry {seq}: MySQL error {code}"
            if owner:
                role = "owner"
                state = info.state.value
                current = LeaseWatch.speaks_for_owner(info, lease) and lease is not None
                lease_text = (
                    f"{lease.holder} {max(0.0, lease.expires_at - now):.1f}s"
                    if current and lease is not None
                    else "none"
                )
            else:
                role = "replica"
                lease_text = ""
                db = reg.info.get("db") if reg is not None else None
                if site in behind:
                    state = "needs-resync"
                elif not alive:
                    state = "down" if reg else "unknown"
                elif error:
                    state = "apply-error"
                elif db == "down":
                    state = "db-down"
                elif db in ("unknown", "login-refused"):
                    state = f"db-{db}"
                else:
                    state = "streaming"
            lag = None if pos is None else max(0, info.tail - pos)
            lag_s = None
            if lag and pos is not None and not owner:
                nxt = store.read(name, pos + 1, 1) if pos + 1 > info.trim_point else []
                lag_s = round(now - nxt[0].appended_at, 2) if nxt else None
            rows.append(
                StatusRow(
                    range=name,
                    site=site,
                    role=role,
                    state=state,
                    epoch=info.epoch,
                    applied=pos,
                    lag_entries=lag,
                    lag_seconds=0.0 if lag == 0 else lag_s,
                    lease=lease_text,
                    heartbeat_age=None if age is None else round(age, 1),
                    error=error,
                )
            )
    return rows


PROXY_STATES = ("up", "draining", "stopped")
"""What a proxy says of itself; ``gone`` is status's verdict on one that fell silent."""


@dataclass(frozen=True)
class ProxyRow:
    """One ``mdbc proxy`` process."""

    site: str
    proxy: str
    listen: str
    sessions: int | None
    state: str
    last_seen: float

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return asdict(self)


def proxy_stale_after(info: ProxyInfo) -> float:
    """Seconds without a heartbeat after which a proxy is ``gone``: four of its intervals + 5."""
    try:
        interval = float(info.info.get("interval", "2"))
    except ValueError:
        interval = 2.0
    return 4 * interval + 5


def proxy_row(info: ProxyInfo, now: float) -> ProxyRow:
    """The status row of one proxy record, judged at ``now`` (seconds since the epoch)."""
    age = max(0.0, now - info.heartbeat_at)
    state = info.info.get("state", "up")
    if state not in PROXY_STATES:
        state = "up"
    if state != "stopped" and age > proxy_stale_after(info):
        state = "gone"
    sessions = info.info.get("sessions", "")
    return ProxyRow(
        site=info.site,
        proxy=info.info.get("host") or info.instance.split("/", 1)[0],
        listen=info.info.get("listen", ""),
        sessions=int(sessions) if sessions.isdigit() else None,
        state=state,
        last_seen=round(age, 1),
    )


def collect_proxies(store: MusicStore) -> list[ProxyRow]:
    """One row per proxy whose record is in the store (see the module docstring)."""
    now = time.time()
    return [proxy_row(p, now) for p in store.list_proxies()]
