"""Shared pytest fixtures: one real sandbox (MariaDB sites + a Cassandra node) per run.

The sandbox is started once per test session and shared by every
integration test. Its ports and addresses (sites on 3321+, Cassandra on
127.0.0.11) keep clear of a developer's own ``mdbc sandbox up`` (3311+,
127.0.0.1), so both can run at once.

``MDBC_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns a service that cannot be
started into a failure of the run; without it such tests are skipped with
the reason, so unit tests stay runnable on a laptop without Java.
``MDBC_TEST_SANDBOX_DIR`` reuses a sandbox that is already up (it is left
running afterwards), which makes edit-test cycles fast;
``MDBC_TEST_BASE_PORT`` and ``MDBC_TEST_CASSANDRA_IP`` move the session
sandbox, so that two test runs can go on side by side.

``MDBC_TEST_SECURE=1`` makes the session sandbox a ``--secure`` one (TLS and
authentication on MariaDB and Cassandra, the least-privilege ``mdbc``
account and role), on ports and addresses of its own (sites on 3331+,
Cassandra on 127.0.0.13) so that it never meets a plain session sandbox.
Every fixture reaches the services through the ``mdbc.toml`` it writes, so
the tests run over TLS with the limited account without knowing it. Its
Cassandra role may use only the keyspaces listed in ``STORE_KEYSPACES``
(the sandbox's admin creates them): a fixture with a keyspace of its own
adds it there. ``.ci/secure-tests`` (run by ``.ci/run``) runs the part of
the suite that covers the driver, the agent, the CLI and the demo so, then
the secret scan (``tests.secret_scan``) of all it printed and wrote. The
tests of ``mdbc proxy`` run on a secure sandbox as well: the proxy reaches
the sites over TLS, its clients connect to it in plaintext
(``tests.proxy.conftest.via_proxy``). ``MDBC_TEST_OUTPUT_LOG`` keeps what
the tests' CLI and subprocess calls printed, for that scan.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdbc_py.config import Config, SiteConfig
from mdbc_py.config import load as load_config
from mdbc_py.sandbox import Sandbox, SandboxError
from tests.output_record import recording

SECURE = os.environ.get("MDBC_TEST_SECURE") == "1"
TEST_BASE_PORT = int(os.environ.get("MDBC_TEST_BASE_PORT", "3330" if SECURE else "3320"))
TEST_CASSANDRA_IP = os.environ.get(
    "MDBC_TEST_CASSANDRA_IP", "127.0.0.13" if SECURE else "127.0.0.11"
)
STORE_KEYSPACES = [
    "mdbc_chaos",
    "mdbc_cli",
    "mdbc_compat",
    "mdbc_contract",
    "mdbc_deploy",
    "mdbc_driver",
    "mdbc_proxy",
    "mdbc_repl",
    "mdbc_trim",
    "mdbc_workload",
]
"""Store keyspaces of the test fixtures (besides the sandbox's ``mdbc``): a secure
sandbox's role is granted exactly these."""
TEST_SITES = 3
THREE_NODE_IP = "127.0.0.21"


def services_required() -> bool:
    """True when a missing service must fail the run (CI)."""
    return os.environ.get("MDBC_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Fail (CI) or skip (elsewhere) a test whose services cannot be started."""
    if services_required():
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(f"service unavailable: {reason}")


def with_password(site: SiteConfig, password: str) -> SiteConfig:
    """``site`` with another inline password (and no ``password_file``/``password_env``).

    ``dataclasses.replace(site, password=...)`` alone keeps the file a secure
    sandbox's site reads its password from, and ``save`` writes that
    reference back, not the new value: a test's wrong or throw-away password
    would silently become the real one.
    """
    return site.with_password(password)


def _say(msg: str) -> None:
    print(f"[sandbox] {msg}", flush=True)


@pytest.fixture(scope="session", autouse=True)
def _output_record() -> Iterator[None]:
    """With ``MDBC_TEST_OUTPUT_LOG``, keep what CLI and subprocess calls printed (secret scan)."""
    path = os.environ.get("MDBC_TEST_OUTPUT_LOG")
    if not path:
        yield
        return
    with recording(Path(path)):
        yield


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The session's sandbox: 3 MariaDB sites and one Cassandra node, all up."""
    reuse = os.environ.get("MDBC_TEST_SANDBOX_DIR")
    fresh = "sandbox-secure" if SECURE else "sandbox"
    directory = Path(reuse) if reuse else tmp_path_factory.mktemp(fresh)
    box = Sandbox(directory, say=_say)
    try:
        box.up(
            sites=TEST_SITES,
            cassandra_nodes=1,
            base_port=TEST_BASE_PORT,
            first_ip=TEST_CASSANDRA_IP,
            secure=SECURE,
        )
        if box.secure != SECURE:  # only a reused folder can be of the other kind
            kind = "a secure" if box.secure else "a plain"
            raise SandboxError(f"{directory} holds {kind} sandbox but MDBC_TEST_SECURE is "
                               f"{'' if SECURE else 'not '}set; use another folder")  # fmt: skip
        box.grant_keyspaces(STORE_KEYSPACES)
    except SandboxError as exc:  # up() has already stopped what it started
        unavailable(str(exc))
    yield box
    if not reuse:
        box.down()


@pytest.fixture(scope="session")
def three_node_cassandra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A separate 3-node Cassandra cluster (127.0.0.21-23) for quorum and failure tests.

    Secure under ``MDBC_TEST_SECURE=1`` as the session sandbox is; its role
    gets the keyspace of the RF=3 store tests.
    """
    box = Sandbox(tmp_path_factory.mktemp("three"), say=_say)
    try:
        box.up(sites=0, cassandra_nodes=3, first_ip=THREE_NODE_IP, secure=SECURE)
        box.grant_keyspaces(["mdbc_rf3"])
    except SandboxError as exc:  # up() has already stopped what it started
        unavailable(str(exc))
    yield box
    box.down()


@pytest.fixture()
def three_nodes(three_node_cassandra: Sandbox) -> Sandbox:
    """The 3-node cluster with every node up (a previous test may have killed some)."""
    for status in three_node_cassandra.status():
        if status.state != "up":
            three_node_cassandra.start(status.name)
    return three_node_cassandra


@pytest.fixture(scope="session")
def sandbox_config(sandbox: Sandbox) -> Config:
    """The configuration file the sandbox wrote, loaded."""
    return load_config(sandbox.config_path)


@pytest.fixture()
def running(sandbox: Sandbox) -> Sandbox:
    """The sandbox, with any service a previous test killed started again."""
    for status in sandbox.status():
        if status.state != "up":
            sandbox.start(status.name)
    return sandbox
