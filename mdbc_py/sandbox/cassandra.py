"""Run Apache Cassandra nodes as plain JVM processes on loopback addresses.

Cassandra 5.0 comes as jars from Maven Central (``scripts/install-deps`` puts
them in a cache folder outside the repository). Each node gets its own
loopback address (127.0.0.1, .2, .3 ...), folder, JMX port and a minimal
``cassandra.yaml``; the first node of a sandbox is the seed. Tokens are fixed
and evenly spaced, ``auto_bootstrap`` is off and the gossip settle wait is
skipped, so a fresh cluster of three starts in seconds instead of minutes.

A ``--secure`` sandbox's nodes run PasswordAuthenticator, CassandraAuthorizer
and client encryption (PEM files through ``PEMBasedSslContextFactory``,
client certificates required); ``mdbc_py.sandbox.cassandra_auth`` sets up
their roles once they are up.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from mdbc_py.sandbox.certs import TlsFiles
from mdbc_py.sandbox.processes import SandboxError, port_open, spawn, wait_until
from mdbc_py.sandbox.state import ServiceRecord

CASSANDRA_VERSION = "5.0.6"
NATIVE_PORT = 9042
STORAGE_PORT = 7000
START_TIMEOUT = 180.0
INSTALL_HINT = "fetch it with: scripts/install-deps"

# The module flags of Cassandra's own conf/jvm17-server.options: Cassandra
# reaches into JDK internals and fails at start-up on Java 17 without them.
JVM17_FLAGS: tuple[str, ...] = (
    "-Djdk.attach.allowAttachSelf=true",
    *(
        f"--add-exports={m}=ALL-UNNAMED"
        for m in (
            "java.base/jdk.internal.misc",
            "java.base/jdk.internal.ref",
            "java.base/sun.nio.ch",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi",
            "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server",
            "java.sql/java.sql",
            "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
        )
    ),
    *(
        f"--add-opens={m}=ALL-UNNAMED"
        for m in (
            "java.base/java.lang.module",
            "java.base/jdk.internal.loader",
            "java.base/jdk.internal.ref",
            "java.base/jdk.internal.reflect",
            "java.base/jdk.internal.math",
            "java.base/jdk.internal.module",
            "java.base/jdk.internal.util.jar",
            "java.base/sun.nio.ch",
            "jdk.management/com.sun.management.internal",
            "java.base/java.io",
            "java.base/java.nio",
            "java.base/java.lang",
            "java.base/java.lang.reflect",
            "java.base/java.util",
            "java.base/java.util.concurrent",
            "java.base/java.util.concurrent.atomic",
            "java.base/java.net",
        )
    ),
)

LOGBACK_XML = """<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{log}</file>
    <encoder><pattern>%d{{ISO8601}} %-5level [%thread] %logger{{0}} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
"""


def cache_dir() -> Path:
    """Where downloads are kept between runs (``MDBC_CACHE_DIR``, else ~/.cache/mdbc_py)."""
    root = os.environ.get("MDBC_CACHE_DIR") or str(Path.home() / ".cache" / "mdbc_py")
    return Path(root)


def lib_dir() -> Path:
    """The folder holding cassandra-all and its runtime jars."""
    override = os.environ.get("MDBC_CASSANDRA_LIB")
    if override:
        return Path(override)
    return cache_dir() / f"cassandra-{CASSANDRA_VERSION}" / "lib"


def check_installed() -> tuple[str, Path]:
    """Return (java, lib folder), or raise SandboxError saying what is missing."""
    java = shutil.which("java")
    if not java:
        raise SandboxError(
            "java not found: install a JDK 17 (apt-get install openjdk-17-jre-headless)"
        )
    lib = lib_dir()
    if not any(lib.glob("cassandra-all-*.jar")) or not any(lib.glob("jamm-*.jar")):
        raise SandboxError(f"Cassandra {CASSANDRA_VERSION} jars not found in {lib}: {INSTALL_HINT}")
    return java, lib


def token_for(index: int, count: int) -> int:
    """Evenly spaced Murmur3 token of node ``index`` (0-based) of ``count``."""
    return -(2**63) + index * (2**64 // count)


def secure_yaml(tls: TlsFiles) -> str:
    """The cassandra.yaml lines of a secure node: logins, permissions, client TLS."""
    return f"""authenticator: PasswordAuthenticator
authorizer: CassandraAuthorizer
role_manager: CassandraRoleManager
client_encryption_options:
  enabled: true
  optional: false
  ssl_context_factory:
    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
  keystore: {tls.server_keystore}
  truststore: {tls.ca}
  require_client_auth: true
  protocol: TLS
  accepted_protocols: [TLSv1.2, TLSv1.3]
"""


def write_config(
    record: ServiceRecord, seed: str, index: int, count: int, tls: TlsFiles | None = None
) -> Path:
    """Write the node's cassandra.yaml and logback.xml; return the yaml path."""
    home = Path(record.home)
    for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    # commitlog_sync batch: an acknowledged LWT is on disk, so kill -9 of a
    # node never takes back a committed log entry (periodic did, in CI).
    yaml = f"""# Written by mdbc sandbox: a minimal single-purpose test node.
cluster_name: mdbc-sandbox
num_tokens: 1
initial_token: {token_for(index, count)}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
commitlog_sync: batch
paxos_variant: v2
data_file_directories: [{home / "data"}]
commitlog_directory: {home / "commitlog"}
saved_caches_directory: {home / "saved_caches"}
hints_directory: {home / "hints"}
cdc_raw_directory: {home / "cdc_raw"}
listen_address: {record.host}
rpc_address: {record.host}
storage_port: {STORAGE_PORT}
native_transport_port: {record.port}
start_native_transport: true
auto_bootstrap: false
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
batch_size_warn_threshold: 64KiB
batch_size_fail_threshold: 1MiB
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{seed}:{STORAGE_PORT}"
"""
    if tls is not None:
        yaml += secure_yaml(tls)
    path = home / "cassandra.yaml"
    path.write_text(yaml, encoding="utf-8")
    (home / "logback.xml").write_text(
        LOGBACK_XML.format(log=home / "logs" / "system.log"), encoding="utf-8"
    )
    return path


def node_argv(record: ServiceRecord, java: str, lib: Path, heap_mb: int) -> list[str]:
    """The JVM command line of one node."""
    home = Path(record.home)
    jamm = sorted(lib.glob("jamm-*.jar"))[0]
    return [
        java,
        f"-Xms{heap_mb}m",
        f"-Xmx{heap_mb}m",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Xss512k",
        f"-javaagent:{jamm}",
        *JVM17_FLAGS,
        "-Dcassandra-foreground=yes",
        f"-Dcassandra.config=file://{home / 'cassandra.yaml'}",
        f"-Dcassandra.storagedir={home}",
        f"-Dcassandra.logdir={home / 'logs'}",
        f"-Dlogback.configurationFile={home / 'logback.xml'}",
        f"-Dcassandra.jmx.local.port={record.extra['jmx_port']}",
        "-Dcassandra.ring_delay_ms=1000",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.superuser_setup_delay_ms=0",
        f"-Dmdbc.sandbox.node={home}",
        "-cp",
        f"{lib}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]


def start(record: ServiceRecord, heap_mb: int = 512) -> float:
    """Start one node (its config already written) and wait until it accepts CQL."""
    java, lib = check_installed()
    home = Path(record.home)
    record.marker = f"-Dmdbc.sandbox.node={home}"
    proc = spawn(node_argv(record, java, lib, heap_mb), home / "logs" / "stdout.log")
    record.pid = proc.pid
    alive = lambda: proc.poll() is None  # noqa: E731
    return wait_until(
        lambda: port_open(record.host, record.port), START_TIMEOUT, record.name, alive, 0.25
    )


def wait_cluster(
    records: list[ServiceRecord], timeout: float = 120.0, options: dict[str, Any] | None = None
) -> float:
    """Wait until every node sees every other node up (gossip has converged).

    ``options`` are extra ``Cluster`` arguments (credentials and TLS of a
    secure sandbox).
    """
    if len(records) < 2:
        return 0.0
    from cassandra.cluster import Cluster  # imported here: slow, and only needed for many nodes

    hosts = [r.host for r in records]

    def all_up() -> bool:
        cluster = Cluster(
            hosts, port=records[0].port, connect_timeout=3, protocol_version=5, **(options or {})
        )
        try:
            session = cluster.connect()
            for rec in records:
                rows = session.execute(
                    "SELECT peer FROM system.peers_v2", host=_host_of(cluster, rec.host)
                )
                if len(list(rows)) < len(records) - 1:
                    return False
            return all(h.is_up for h in cluster.metadata.all_hosts()) and len(
                cluster.metadata.all_hosts()
            ) == len(records)
        except Exception:  # any driver error means: not converged yet
            return False
        finally:
            cluster.shutdown()

    return wait_until(all_up, timeout, "cassandra cluster", interval=1.0)


def _host_of(cluster: object, address: str) -> object:
    for host in cluster.metadata.all_hosts():  # type: ignore[attr-defined]
        if host.address == address:
            return host
    raise LookupError(address)


def log_tail(record: ServiceRecord, lines: int = 5) -> str:
    """The last ERROR lines of the node's log, to explain a failed start."""
    home = Path(record.home)
    for name in ("logs/system.log", "logs/stdout.log"):
        try:
            text = (home / name).read_text(errors="replace").strip().splitlines()
        except OSError:
            continue
        errors = [ln for ln in text if "ERROR" in ln or "Exception" in ln] or text
        return " | ".join(errors[-lines:])
    return "(no log)"
