"""pytest plugin: a real fastredis server for a test session (entry point ``pytest11``).

Fixtures:

- ``fastredis_server`` (session): an ``EmbeddedServer`` started on a free port for the session;
- ``fastredis_url``: its ``redis://`` URL;
- ``fastredis_client``: a redis-py client on a flushed server for each test (RESP2, or RESP3 with
  ``--fastredis-protocol 3``);
- ``fastredis_factory``: a function starting more servers with their own config, stopped after the test.

Options (command line, or ``fastredis_config`` / ``fastredis_protocol`` in the ini file):
``--fastredis-config name=value`` (repeatable: ``--fastredis-config appendonly=yes``) and
``--fastredis-protocol 2|3``.

A suite written for fakeredis switches with one fixture::

    @pytest.fixture
    def redis_client(fastredis_client):
        return fastredis_client

The server is started on first use only: loading the plugin costs a session nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .embed import EmbeddedServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fastredis", "fastredis server for tests")
    group.addoption("--fastredis-config", action="append", default=[], metavar="NAME=VALUE",
                    help="server config for the fastredis_server fixture (repeatable)")
    group.addoption("--fastredis-protocol", choices=("2", "3"), default=None,
                    help="RESP version of the fastredis_client fixture (default 2)")
    parser.addini("fastredis_config", "server config lines NAME=VALUE for fastredis_server", type="linelist",
                  default=[])
    parser.addini("fastredis_protocol", "RESP version of fastredis_client (2 or 3)", default="2")


def pytest_configure(config: pytest.Config) -> None:
    _server_config(config)  # a malformed option is a usage error before any test runs
    _protocol(config)


def _parse_config(items: list[str]) -> dict[str, str]:
    config: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise pytest.UsageError(f"--fastredis-config expects NAME=VALUE, got {item!r}")
        config[name.strip()] = value.strip()
    return config


def _server_config(pytestconfig: pytest.Config) -> dict[str, str]:
    return _parse_config(list(pytestconfig.getini("fastredis_config"))
                         + list(pytestconfig.getoption("fastredis_config")))


def _protocol(pytestconfig: pytest.Config) -> int:
    value = pytestconfig.getoption("fastredis_protocol") or pytestconfig.getini("fastredis_protocol")
    if str(value) not in ("2", "3"):
        raise pytest.UsageError(f"fastredis protocol must be 2 or 3, got {value!r}")
    return int(value)


@pytest.fixture(scope="session")
def fastredis_server(pytestconfig: pytest.Config) -> Iterator[EmbeddedServer]:
    """A fastredis server shared by the session (tests that use ``fastredis_client`` get it flushed)."""
    config: dict[str, Any] = _server_config(pytestconfig)
    server = EmbeddedServer(port=int(config.pop("port", 0)), **config)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fastredis_url(fastredis_server: EmbeddedServer) -> str:
    """``redis://127.0.0.1:<port>/0`` of the session's server."""
    return fastredis_server.url


@pytest.fixture
def fastredis_client(fastredis_server: EmbeddedServer, pytestconfig: pytest.Config) -> Iterator[Any]:
    """A redis-py client on the session's server, every database flushed before the test."""
    if not fastredis_server.running:
        raise RuntimeError(f"the fastredis server has exited (code {fastredis_server.returncode}):\n"
                           + fastredis_server.log_text()[-2000:])
    client = fastredis_server.client(protocol=_protocol(pytestconfig))
    client.flushall()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def fastredis_factory() -> Iterator[Callable[..., EmbeddedServer]]:
    """Start extra servers (``fastredis_factory(appendonly="yes")``); all are stopped after the test."""
    started: list[EmbeddedServer] = []

    def start(**config: Any) -> EmbeddedServer:
        server = EmbeddedServer(**config)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
