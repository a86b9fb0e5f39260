"""One site's Camunda engine as a child process, and the events the engines report.

The engine is ``SoBpmnEngine`` of the Maven module ``tests/java``: a real
Camunda 7 engine whose JDBC URL names its site's ``mdbc proxy``, driven by
commands on its standard input and reporting one event a line on its
standard output (see that class for the protocol). Its standard error,
Camunda's and HikariCP's logs, goes to a file of its own.

The account reaches the engine through its environment, never its
command line (which ``ps`` shows to everyone).
"""

from __future__ import annotations

import bisect
import os
import queue
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mdbc_py.workload.camunda.java import JavaChecks

MAIN = "SoBpmnEngine"
JVM_OPTIONS = [
    "-Xmx384m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
]
"""A small heap and the quick compiler (two engines start faster on a small machine); the
time on each line of the engine's log."""


def jdbc_url(host: str, port: int, db: str) -> str:
    """An engine's JDBC URL: a direct one, with the proxy's host and port.

    ``nullDatabaseMeansCurrent``: the engine looks its tables up with a
    null catalog, which Connector/J 3 takes as every database; on a server
    that holds other Camunda databases it would find their tables and skip
    creating its own. A direct URL needs it just the same.
    """
    return f"jdbc:mariadb://{host}:{port}/{db}?nullDatabaseMeansCurrent=true"


class EngineError(RuntimeError):
    """An engine did not say what was expected in time, or ended: ``site`` and ``log`` tell."""

    def __init__(self, site: str, what: str, log: Path) -> None:
        super().__init__(f"the Camunda engine at {site} {what} (its log: {log})")
        self.site = site
        self.what = what
        self.log = log


@dataclass
class EngineEvents:
    """What every engine reported, with when it reached this process (``time.monotonic``).

    Only acknowledged work is here: ``started`` means the start of an
    instance committed and returned to its caller, ``step`` that a step's
    transaction committed.
    """

    acked: dict[str, tuple[float, str]] = field(default_factory=dict)
    """Business key -> (when, engine site) of every acknowledged start."""
    steps: Counter[str] = field(default_factory=Counter)
    """Committed steps by engine site."""
    retries: Counter[str] = field(default_factory=Counter)
    """Failed starts retried, by engine site."""
    _times: list[float] = field(default_factory=list)
    _sites: list[str] = field(default_factory=list)
    _finished: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, site: str, line: str, last_step: str) -> bool:
        """Take one line of ``site``'s engine; False if it is not an event of this class."""
        words = line.split()
        now = time.monotonic()
        with self._lock:
            if len(words) == 2 and words[0] == "started":
                self.acked[words[1]] = (now, site)
            elif len(words) == 3 and words[0] == "step":
                self.steps[site] += 1
                if words[2] == last_step:
                    self._finished[words[1]] = now
            elif len(words) == 3 and words[0] == "retry":
                self.retries[site] += 1
                return True
            else:
                return False
            self._times.append(now)
            self._sites.append(site)
            return True

    def acknowledged(self) -> list[str]:
        """Business keys of every acknowledged start."""
        with self._lock:
            return list(self.acked)

    def first_commit_after(self, t: float, not_at: str) -> tuple[float, str] | None:
        """(when, engine site) of the first commit after ``t`` by an engine not at ``not_at``."""
        with self._lock:
            for i in range(bisect.bisect_right(self._times, t), len(self._times)):
                if self._sites[i] != not_at:
                    return self._times[i], self._sites[i]
        return None

    def in_flight_at(self, t: float) -> tuple[int, int]:
        """Of the instances acknowledged before ``t``: (unfinished at ``t``, finished since)."""
        with self._lock:
            open_then = [k for k, (at, _) in self.acked.items() if at <= t
                         and self._finished.get(k, t + 1) > t]  # fmt: skip
            return len(open_then), sum(1 for k in open_then if k in self._finished)

    def progress(self) -> dict[str, int]:
        """Counters for a progress line."""
        with self._lock:
            by_site = Counter(site for _, site in self.acked.values())
            out = {f"started_{s}": n for s, n in sorted(by_site.items())}
            out.update({f"steps_{s}": n for s, n in sorted(self.steps.items())})
            out["started"] = len(self.acked)
            out["completed"] = len(self._finished)
            out["retries"] = sum(self.retries.values())
            return out


class EngineProcess:
    """``SoBpmnEngine`` at one site: started, commanded, quit or killed with the site."""

    def __init__(
        self,
        site: str,
        checks: JavaChecks,
        jdbc_url: str,
        account: tuple[str, str],
        log: Path,
        events: EngineEvents,
        last_step: str,
        lock_ms: int,
        work_ms: int,
    ) -> None:
        self.site = site
        self.log = log
        self.events = events
        self.last_step = last_step
        self._command = checks.command(
            MAIN, [f"so-bpmn-{site}", jdbc_url, str(lock_ms), str(work_ms)], JVM_OPTIONS
        )
        self._env = {**os.environ, "MDBC_JDBC_USER": account[0], "MDBC_JDBC_PASSWORD": account[1]}
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    @property
    def pid(self) -> int | None:
        """The JVM's process id once started."""
        return None if self._proc is None else self._proc.pid

    def alive(self) -> bool:
        """True while the JVM runs."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the JVM; ``expect("engine ok")`` waits until the engine is built."""
        with self.log.open("a") as err:
            self._proc = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=self._env,
                start_new_session=True,
            )
        threading.Thread(target=self._read, name=f"engine-{self.site}", daemon=True).start()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.strip()
            if line and not self.events.record(self.site, line, self.last_step):
                self._lines.put(line)
        self._lines.put(None)

    def expect(self, prefix: str, timeout: float) -> str:
        """The next line that is not an event and starts with ``prefix``; EngineError else."""
        line = self.next_line(prefix, timeout)
        if line is None:
            raise EngineError(self.site, f"said no {prefix!r} in {timeout:.0f} s", self.log)
        return line

    def next_line(self, prefix: str, timeout: float) -> str | None:
        """As ``expect``, but None when ``timeout`` passes first (EngineError if it ended)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                self._lines.put(None)
                raise EngineError(self.site, f"ended before saying {prefix!r}", self.log)
            if line.startswith(prefix):
                return line

    def send(self, command: str) -> None:
        """One command line to the engine (see SoBpmnEngine)."""
        if not self.alive():
            raise EngineError(self.site, f"is not running (command {command!r})", self.log)
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL: the engine dies with its site, its locked jobs left as they are."""
        if self.alive():
            assert self._proc is not None
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def quit(self, timeout: float = 30.0) -> int | None:
        """Close the engine (its running jobs finish); SIGKILL after ``timeout``. Exit status."""
        if self._proc is None:
            return None
        if self.alive():
            try:
                self.send("quit")
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                return self._proc.wait(timeout=timeout)
            except (OSError, EngineError, subprocess.TimeoutExpired):
                self.kill()
        return self._proc.wait()
