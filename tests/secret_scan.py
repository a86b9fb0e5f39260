"""The secret scan of a test run: no sandbox password or private key in anything it wrote.

    python -m tests.secret_scan FOLDER [--expect-secure N]

The secure part of ``.ci/run`` keeps everything it produced in one folder:
pytest's console output, its JUnit XML with every test's captured output
and log records, what the CLI and subprocess calls of the tests printed
(``MDBC_TEST_OUTPUT_LOG``, see ``tests.output_record``), and pytest's
temporary folder with the session's and the demo's sandboxes (MariaDB and
Cassandra logs, binary logs and data), the agents' and writers' logs and
the configuration files the tests wrote.

The secrets are those of every sandbox found in the folder (a folder with
``sandbox.json``): its passwords, and each line of the base64 body of its
private keys, so that a key shows whether it leaked whole, in part or inside
an escaped string. The places a sandbox keeps them by design are not read:
``sandbox.json``, ``secrets/``, ``tls/`` and a plain sandbox's ``mdbc.toml``.

A scan that finds nothing because it read nothing proves nothing: the scan
plants a fresh secret of its own in the folder and fails unless it finds it
there (and only there), unless it read at least ``MIN_BYTES``, and unless it
found ``--expect-secure`` secure sandboxes. A leak is named by its file and
by which secret it is, never by the secret itself.
"""

from __future__ import annotations

import argparse
import os
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mdbc_py.sandbox.state import STATE_FILE, SandboxState

MIN_BYTES = 1_000_000
CHUNK = 8 << 20
KEY_FILES = ("ca.key", "server.key", "client.key")
MIN_KEY_LINE = 40
"""Shorter lines (the last one of a PEM body) are too short to be telling."""
PLANT_FILE = "secret-scan-plant.log"


@dataclass(frozen=True)
class Secret:
    """One thing that must not appear: what it is (printable) and its bytes (not printed)."""

    label: str
    value: bytes = field(repr=False)


@dataclass
class Report:
    """What a scan read and what it found."""

    files: int = 0
    bytes: int = 0
    leaks: list[tuple[str, str]] = field(default_factory=list)
    """(file, label of the secret) pairs."""


@dataclass(frozen=True)
class Found:
    """The sandboxes in the scanned folder: their secrets and where they keep them."""

    secrets: list[Secret]
    skip: set[Path]
    sandboxes: int
    secure: int


def sandbox_secrets(folder: Path, name: str) -> tuple[list[Secret], bool]:
    """The passwords and private-key lines of the sandbox in ``folder``; and is it secure."""
    state = SandboxState.load(folder)
    labels = ("MariaDB password", "Cassandra mdbc password", "Cassandra admin password")
    found = [
        Secret(f"{label} of {name}", value.encode())
        for label, value in zip(labels, state.secrets(), strict=True)
    ]
    for key in KEY_FILES:
        path = folder / "tls" / key
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.startswith("-----") and len(line) >= MIN_KEY_LINE:
                found.append(Secret(f"line {number} of tls/{key} of {name}", line.encode()))
    return found, state.secure


def find_sandboxes(root: Path) -> Found:
    """Every sandbox under ``root``, with the paths that hold its secrets by design."""
    found: list[Secret] = []
    skip: set[Path] = set()
    count = secure = 0
    for state_file in sorted(root.rglob(STATE_FILE)):
        folder = state_file.parent
        name = f"sandbox {folder.relative_to(root)}"
        values, is_secure = sandbox_secrets(folder, name)
        found += values
        count += 1
        secure += is_secure
        skip |= {state_file, folder / (STATE_FILE + ".tmp"), folder / "secrets", folder / "tls"}
        if not is_secure:  # a plain sandbox's config holds its password, as documented
            skip.add(folder / "mdbc.toml")
    return Found(found, skip, count, secure)


def _files(root: Path, skip: set[Path]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if here / d not in skip)
        for name in sorted(files):
            path = here / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) and path not in skip:
                yield path


def _holds(path: Path, values: list[Secret], report: Report) -> list[Secret]:
    """The secrets in one file, read in chunks that overlap by the longest secret."""
    overlap = max(len(s.value) for s in values) - 1
    hits: list[Secret] = []
    tail = b""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                report.bytes += len(chunk)
                window = tail + chunk
                hits += [s for s in values if s not in hits and s.value in window]
                tail = window[-overlap:] if overlap else b""
    except OSError:  # vanished or unreadable: a server's socket or lock, not output
        return hits
    report.files += 1
    return hits


def scan(root: Path, values: Iterable[Secret], skip: Iterable[Path] = ()) -> Report:
    """Read every regular file under ``root`` (but ``skip``) looking for ``values``."""
    wanted = list(values)
    report = Report()
    if not wanted:
        raise ValueError("no secrets to scan for")
    for path in _files(root, set(skip)):
        for secret in _holds(path, wanted, report):
            report.leaks.append((str(path.relative_to(root)), secret.label))
    return report


def check(root: Path, expect_secure: int = 0) -> tuple[Report, list[str]]:
    """Scan ``root`` with a planted secret; return the report and what is wrong (empty: fine)."""
    found = find_sandboxes(root)
    planted = Secret("the secret the scan planted", secrets.token_urlsafe(24).encode())
    plant = root / PLANT_FILE
    plant.write_bytes(b"a line any log could hold, with " + planted.value + b" in it\n")
    try:
        report = scan(root, [*found.secrets, planted], found.skip)
    finally:
        plant.unlink()
    problems = [f"{label} is in {path}" for path, label in report.leaks if label != planted.label]
    if (PLANT_FILE, planted.label) not in report.leaks:
        problems.append("the scan did not find the secret it planted: it is broken")
    if report.bytes < MIN_BYTES:
        problems.append(f"only {report.bytes} bytes were read: the run's output is missing")
    if found.secure < expect_secure:
        problems.append(f"{found.secure} secure sandboxes found, {expect_secure} expected")
    return report, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.secret_scan", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--expect-secure", type=int, default=0, metavar="N",
                        help="fail unless at least N secure sandboxes are in FOLDER")  # fmt: skip
    args = parser.parse_args(argv)
    root = args.folder.resolve()
    found = find_sandboxes(root)
    report, problems = check(root, args.expect_secure)
    print(
        f"secret scan of {root}: {report.files} files, {report.bytes / 1e6:.1f} MB, "
        f"{len(found.secrets)} secrets of {found.sandboxes} sandboxes ({found.secure} secure)"
    )
    for problem in problems:
        print(f"secret scan: {problem}")
    if problems:
        return 1
    print("secret scan: no secret found outside the places that keep them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
