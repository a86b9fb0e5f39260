"""How ``mdbc status`` judges a proxy from its last heartbeat record."""

from __future__ import annotations

import pytest

from mdbc_py.admin.status import proxy_row
from mdbc_py.music import ProxyInfo

NOW = 1_000_000.0


def record(age: float, **info: str) -> ProxyInfo:
    base = {"listen": "127.0.0.1:3307", "host": "h1", "sessions": "3", "interval": "2"}
    return ProxyInfo("dc1", "h1/127.0.0.1:3307", NOW - age, {**base, **info})


@pytest.mark.parametrize(
    ("age", "state", "shown"),
    [
        (1, "up", "up"),
        (12.9, "up", "up"),  # late heartbeats are not yet a dead proxy: 4 intervals + 5 s
        (13.1, "up", "gone"),
        (13.1, "draining", "gone"),
        (50, "stopped", "stopped"),  # a clean stop stays a clean stop until the record expires
        (1, "nonsense", "up"),
    ],
)
def test_state_from_age_and_what_the_proxy_said(age: float, state: str, shown: str) -> None:
    row = proxy_row(record(age, state=state), NOW)
    assert row.state == shown
    assert (row.site, row.proxy, row.listen, row.sessions) == ("dc1", "h1", "127.0.0.1:3307", 3)
    assert row.last_seen == pytest.approx(age, abs=0.1)


def test_the_interval_the_proxy_reported_sets_when_it_is_gone() -> None:
    assert proxy_row(record(5.5, state="up", interval="0.1"), NOW).state == "gone"
    assert proxy_row(record(5.5, state="up", interval="bad"), NOW).state == "up"  # default 2 s


def test_a_record_without_info_still_makes_a_row() -> None:
    row = proxy_row(ProxyInfo("dc2", "h2/[::1]:3307", NOW, {}), NOW)
    assert (row.proxy, row.listen, row.sessions, row.state) == ("h2", "", None, "up")
