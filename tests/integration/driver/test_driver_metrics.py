"""Driver metrics: opt-in, what a commit records (by result and phase), and what it costs off.

The in-process tests opt in with ``enable()`` and read the collectors; the
process test sets ``MDBC_METRICS_PORT`` in a child that commits, and scrapes
its ``/metrics`` over HTTP, as Prometheus would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdbc_py.config import Config, save
from mdbc_py.core import commit_metrics as driver_metrics
from mdbc_py.errors import ConfigError, FencedError
from mdbc_py.music import MusicStore
from mdbc_py.replication.promote import promote

CHILD = Path(__file__).with_name("metrics_child.py")


@pytest.fixture()
def collecting() -> Iterator[driver_metrics.DriverMetrics]:
    from prometheus_client import CollectorRegistry

    driver_metrics._reset_for_tests()
    yield driver_metrics.enable(CollectorRegistry())
    driver_metrics._reset_for_tests()


def _sample(m: driver_metrics.DriverMetrics, name: str, **labels: str) -> float:
    return m.registry.get_sample_value(name, labels) or 0.0


def test_a_commit_records_its_result_phases_size_and_group(
    connect, range_a: str, collecting: driver_metrics.DriverMetrics
) -> None:  # type: ignore[no-untyped-def]
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS m (id INT PRIMARY KEY, v VARCHAR(200))")
    cur.execute("DELETE FROM m")
    conn.commit()
    before = _sample(collecting, "mdbc_driver_commits_total", site="dc1", range=range_a,
                     result="ok")  # fmt: skip
    for i in range(3):
        cur.execute("INSERT INTO m VALUES (%s, %s)", (i, "x" * 100))
        conn.commit()
    sel = {"site": "dc1", "range": range_a}
    assert _sample(collecting, "mdbc_driver_commits_total", result="ok", **sel) == before + 3
    for phase in driver_metrics.PHASES:
        count = _sample(collecting, "mdbc_driver_commit_phase_seconds_count", phase=phase, **sel)
        assert count == before + 3, phase
    assert _sample(collecting, "mdbc_driver_commit_seconds_count", **sel) == before + 3
    assert _sample(collecting, "mdbc_driver_commit_seconds_sum", **sel) > 0
    assert _sample(collecting, "mdbc_driver_entry_bytes_count", **sel) == before + 3
    assert _sample(collecting, "mdbc_driver_entry_bytes_sum", **sel) > 3 * 100
    appends = _sample(collecting, "mdbc_driver_append_transactions_count", range=range_a)
    carried = _sample(collecting, "mdbc_driver_append_transactions_sum", range=range_a)
    assert appends >= 3 and carried == appends  # one thread: one transaction per LWT


def test_a_fenced_append_is_counted_as_fenced(
    connect,
    driver_cfg: Config,
    store: MusicStore,
    collecting: driver_metrics.DriverMetrics,
    range_b: str,
) -> None:  # type: ignore[no-untyped-def]
    conn = connect(database=range_b)
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS f (id INT PRIMARY KEY)")
    conn.commit()
    cur.execute("INSERT INTO f VALUES (1)")  # written at dc1, the owner, epoch E
    promote(driver_cfg, store, range_b, "dc2", force=True)  # E + 1 at dc2
    try:
        with pytest.raises(FencedError):
            conn.commit()
        sel = {"site": "dc1", "range": range_b}
        assert _sample(collecting, "mdbc_driver_commits_total", result="fenced", **sel) == 1
        count = _sample(collecting, "mdbc_driver_commit_phase_seconds_count", phase="append",
                        **sel)  # fmt: skip
        assert count == 1
        assert _sample(collecting, "mdbc_driver_commit_seconds_count", **sel) == 0  # not a commit
    finally:
        promote(driver_cfg, store, range_b, "dc1", force=True)


def test_a_bad_port_in_the_environment_is_a_config_error() -> None:
    driver_metrics._reset_for_tests()
    try:
        with pytest.raises(ConfigError, match="MDBC_METRICS_PORT='nine'"):
            driver_metrics.from_environment({"MDBC_METRICS_PORT": "nine"})
        assert driver_metrics.active() is None
    finally:
        driver_metrics._reset_for_tests()


def test_not_opted_in_a_process_imports_no_prometheus_client(
    driver_cfg: Config, range_a: str, tmp_path: Path
) -> None:
    path = save(driver_cfg, tmp_path / "mdbc.toml")
    env = {k: v for k, v in os.environ.items()
           if k not in (driver_metrics.ENV_PORT, driver_metrics.ENV_MULTIPROC)}  # fmt: skip
    code = (
        "import sys, mdbc_py\n"
        f"conn = mdbc_py.connect(site='dc1', config={str(path)!r}, database={range_a!r})\n"
        "cur = conn.cursor()\n"
        "cur.execute('CREATE TABLE IF NOT EXISTS n (id INT PRIMARY KEY)')\n"
        "cur.execute('REPLACE INTO n VALUES (1)')\n"
        "conn.commit()\n"
        "from mdbc_py.core import commit_metrics\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('prometheus'))\n"
        "print(commit_metrics.active(), loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None []"


def test_a_process_with_mdbc_metrics_port_serves_its_commits(
    driver_cfg: Config, range_a: str, tmp_path: Path
) -> None:
    path = save(driver_cfg, tmp_path / "mdbc.toml")
    ready = tmp_path / "ready"
    env = {**os.environ, driver_metrics.ENV_PORT: "0"}
    env.pop(driver_metrics.ENV_MULTIPROC, None)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "--config", str(path), "--database", range_a,
         "--commits", "5", "--ready", str(ready)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        port = _wait_ready(child, ready)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    finally:
        child.terminate()
        out = child.communicate(timeout=30)[0].decode(errors="replace")
    sel = f'range="{range_a}",result="ok",site="dc1"'
    assert f"mdbc_driver_commits_total{{{sel}}} 5.0" in text, out
    assert f'mdbc_driver_commit_seconds_count{{range="{range_a}",site="dc1"}} 5.0' in text
    assert "password" not in text and driver_cfg.site("dc1").password not in text


def _wait_ready(child: subprocess.Popen[bytes], ready: Path) -> int:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text().strip():
            return int(ready.read_text())
        if child.poll() is not None:
            out = child.stdout.read().decode(errors="replace") if child.stdout else ""
            raise AssertionError(f"the committing process exited {child.returncode}: {out}")
        time.sleep(0.1)
    raise AssertionError("the committing process did not get ready in 60 s")


def test_multiprocess_mode_serves_the_commits_of_every_process(
    driver_cfg: Config, range_a: str, tmp_path: Path
) -> None:
    """gunicorn-style workers: each writes to PROMETHEUS_MULTIPROC_DIR, one /metrics sums them."""
    path = save(driver_cfg, tmp_path / "mdbc.toml")
    shared = tmp_path / "multiproc"
    shared.mkdir()
    env = {**os.environ, driver_metrics.ENV_MULTIPROC: str(shared)}
    env.pop(driver_metrics.ENV_PORT, None)
    children = []
    try:
        for name, commits in (("a", 4), ("b", 5)):
            ready = tmp_path / f"ready-{name}"
            child = subprocess.Popen(
                [sys.executable, str(CHILD), "--config", str(path), "--database", range_a,
                 "--commits", str(commits), "--ready", str(ready)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
            children.append(child)
            port = _wait_ready(child, ready)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    finally:
        for child in children:
            child.terminate()
            child.communicate(timeout=30)
    sel = f'range="{range_a}",result="ok",site="dc1"'
    assert f"mdbc_driver_commits_total{{{sel}}} 9.0" in text, text[-3000:]
