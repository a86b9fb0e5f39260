"""Dependencies point one way: front ends and replication use the commit core, never each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mdbc_py"

FORBIDDEN = {
    "core": ("mdbc_py.driver", "mdbc_py.replication", "mdbc_py.proxy"),
    "driver": ("mdbc_py.replication", "mdbc_py.proxy"),
    "proxy": ("mdbc_py.replication", "mdbc_py.driver"),
    "capture": ("mdbc_py.driver", "mdbc_py.replication", "mdbc_py.core"),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_against_the_direction(package: str) -> None:
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted((PACKAGE / package).rglob("*.py"))
        for name in sorted(_imports(path))
        if name.startswith(FORBIDDEN[package])
    ]
    assert wrong == []


def test_importing_the_driver_loads_no_replication_module() -> None:
    code = (
        "import sys, mdbc_py, mdbc_py.driver.connection, mdbc_py.driver.cursor\n"
        "print(sorted(m for m in sys.modules if m.startswith('mdbc_py.replication')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
