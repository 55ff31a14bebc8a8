"""The pytest plugin (fixtures fastredis_server/url/client/factory), run in separate pytest processes."""

from __future__ import annotations

import importlib
import os

import pytest
import tomllib
from conftest import ROOT

PLUGIN = "fastredis.pytest_plugin"

INNER_TESTS = '''
import redis

PORTS = []

def test_first(fastredis_client, fastredis_server, fastredis_url):
    PORTS.append(fastredis_server.port)
    assert fastredis_url == f"redis://127.0.0.1:{fastredis_server.port}/0"
    assert fastredis_client.dbsize() == 0
    fastredis_client.set("left", "over")
    fastredis_client.execute_command("SELECT", 3)
    fastredis_client.set("other-db", "1")
    assert redis.Redis.from_url(fastredis_url).get("left") == b"over"

def test_second_sees_a_flushed_server(fastredis_client, fastredis_server):
    PORTS.append(fastredis_server.port)
    assert PORTS[0] == PORTS[1]  # one server for the session
    assert fastredis_client.keys("*") == []
    assert fastredis_client.info("keyspace") == {}

def test_protocol_and_config(fastredis_client, request):
    resp = fastredis_client.client_info()["resp"]
    assert str(resp) == request.config.getoption("expected_resp")
    mm = fastredis_client.config_get("maxmemory")["maxmemory"]
    assert str(int(mm)) == request.config.getoption("expected_maxmemory")

def test_factory(fastredis_factory, fastredis_server):
    extra = fastredis_factory(maxmemory="1mb")
    assert extra.port != fastredis_server.port
    assert extra.client(decode_responses=True).config_get("maxmemory") == {"maxmemory": "1048576"}
'''

INNER_CONFTEST = '''
def pytest_addoption(parser):
    parser.addoption("--expected-resp", default="2")
    parser.addoption("--expected-maxmemory", default="0")
'''


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester


def test_fixtures_with_defaults(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_command_line_and_ini_options(inner: pytest.Pytester) -> None:
    """ini lines and --fastredis-config add up (the command line wins); RESP3 from the ini file."""
    inner.makeini("[pytest]\nfastredis_config =\n    maxmemory=200mb\n    maxmemory-policy=allkeys-lru\n"
                  "fastredis_protocol = 3\n")
    inner.makepyfile(test_more='''
def value(client, name):
    (v,) = client.config_get(name).values()
    return v.decode() if isinstance(v, bytes) else v

def test_more(fastredis_client):
    assert value(fastredis_client, "maxmemory-policy") == "allkeys-lru"
    assert value(fastredis_client, "appendonly") == "yes"
''')
    result = inner.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider",
                                        "--fastredis-config", "maxmemory=500mb", "--fastredis-config", "appendonly=yes",
                                        "--expected-resp", "3", "--expected-maxmemory", str(500 * 1024 * 1024))
    result.assert_outcomes(passed=5)


def test_bad_config_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="def test_x(fastredis_client):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider",
                                           "--fastredis-config", "maxmemory-policy=sometimes")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*FATAL CONFIG FILE ERROR*"])
    result = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", "--fastredis-config", "novalue")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--fastredis-config expects NAME=VALUE*"])
    assert "test_x" not in result.stdout.str()


def test_pytest11_entry_point_is_declared() -> None:
    """Installed, the plugin loads by itself: pyproject declares it under the module's own name (so that
    ``-p fastredis.pytest_plugin`` beside the installed entry point does not register it twice)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry = meta["project"]["entry-points"]["pytest11"]
    assert entry == {PLUGIN: PLUGIN}
    module = importlib.import_module(entry[PLUGIN])
    assert {"fastredis_server", "fastredis_url", "fastredis_client", "fastredis_factory"} <= set(vars(module))


def test_installed_entry_point_loads_the_plugin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``pip install`` writes (a dist-info with the pyproject's pytest11 entry point) makes pytest
    load the plugin by itself, and ``-p fastredis.pytest_plugin`` beside it does not clash."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    site = pytester.mkdir("site")
    info = site / "fastredis_plugin_check-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fastredis-plugin-check\nVersion: 0.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in meta["project"]["entry-points"]["pytest11"].items())
    (info / "entry_points.txt").write_text("[pytest11]\n" + lines)
    pytester.makepyfile(test_ep="def test_ep(fastredis_client):\n    assert fastredis_client.ping()\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)

