"""The agent's HTTP endpoints: loopback unless told otherwise, HTTPS when given a certificate."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from pathlib import Path

import click
import pytest

from cli.agent_cmd import agent
from mdbc_py.metrics import AgentMetrics, serve, server_tls
from mdbc_py.sandbox.certs import ensure_certificates


def _default(option: str) -> object:
    param = next(p for p in agent.params if p.name == option)
    assert isinstance(param, click.Option)
    return param.default


def test_the_endpoints_bind_to_loopback_by_default() -> None:
    host = _default("metrics_host")
    assert host == "127.0.0.1"
    server = serve(AgentMetrics("dc1"), str(host), 0, lambda: {"healthy": True})
    try:
        assert server.server_address[0] == "127.0.0.1"
        port = server.server_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_https_with_a_certificate_and_plain_http_refused(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path / "tls", ["127.0.0.1"])
    tls = server_tls(str(files.server_cert), str(files.server_key))
    server = serve(AgentMetrics("dc1"), "127.0.0.1", 0, lambda: {"healthy": True}, tls=tls)
    port = server.server_port
    try:
        trust = ssl.create_default_context(cafile=str(files.ca))
        url = f"https://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=5, context=trust) as answer:
            assert answer.status == 200
            assert b"mdbc_" in answer.read()
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    finally:
        server.shutdown()
        server.server_close()
