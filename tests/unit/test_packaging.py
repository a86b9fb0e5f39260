"""The built wheel carries the files the package reads at run time.

``mdbc init`` reads ``music.cql`` and ``mdbc demo`` the SO schemas; a wheel
without them (the Docker image installs one) fails only on a user's machine.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NEEDED = {
    "mdbc_py/music/cassandra/music.cql",
    "mdbc_py/workload/sql/catalogdb.sql",
    "mdbc_py/workload/sql/requestdb.sql",
    "mdbc_py/workload/sql/camundabpmn.sql",
    "mdbc_py/py.typed",
}


PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]


@pytest.mark.timeout(300)
def test_the_wheel_ships_the_schema_files(tmp_path: Path) -> None:
    build = subprocess.run(
        [*PIP_WHEEL, "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("mdbc_py-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert names >= NEEDED, sorted(NEEDED - names)
    for schema in ROOT.joinpath("schemas").iterdir():  # the repository's links resolve
        assert schema.resolve().is_file(), schema
