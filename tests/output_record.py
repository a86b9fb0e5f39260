"""Keep what the tests' CLI and subprocess calls printed, for the secret scan.

A test that runs ``mdbc ...`` through ``subprocess.run(capture_output=True)``
or click's ``CliRunner`` holds the output in memory, asserts on it and drops
it: pytest never shows it, so a scan of the run's output would miss it. With
``MDBC_TEST_OUTPUT_LOG=FILE`` (set by the secure part of ``.ci/run``) both
calls are wrapped for the whole session and append what they printed to
FILE (see ``tests.secret_scan``). Processes started with ``Popen`` write to
files of the test's own folder, which the scan reads anyway.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

_lock = threading.Lock()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


@contextlib.contextmanager
def recording(path: Path) -> Iterator[None]:
    """Append every ``subprocess.run`` and ``CliRunner.invoke`` output to ``path`` meanwhile."""
    real_run = subprocess.run
    real_invoke = CliRunner.invoke

    def write(what: str, *outputs: object) -> None:
        text = "".join(_text(o) for o in outputs)
        with _lock, open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {what}\n{text}\n")

    def run(*args: Any, **kwargs: Any) -> Any:
        done = real_run(*args, **kwargs)
        argv = args[0] if args else kwargs.get("args", "")
        program = argv[:3] if isinstance(argv, list | tuple) else str(argv)[:40]
        write(f"subprocess {program}", done.stdout, done.stderr)
        return done

    def invoke(self: CliRunner, cli: Any, args: Any = None, *more: Any, **kwargs: Any) -> Any:
        result = real_invoke(self, cli, args, *more, **kwargs)
        stderr = ""
        with contextlib.suppress(ValueError):  # stderr mixed into output: nothing apart
            stderr = result.stderr
        write(f"cli {getattr(cli, 'name', cli)} {args}", result.output, stderr)
        return result

    subprocess.run = run  # type: ignore[assignment]
    CliRunner.invoke = invoke  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.run = real_run
        CliRunner.invoke = real_invoke  # type: ignore[method-assign]
